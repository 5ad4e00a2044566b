#pragma once
// The end-of-run verdict, pure (no CAF, no I/O): the records read back from
// every partition against the acknowledgements the producers got.
//
//   lost            acknowledged, not in the log
//   duplicated      one (key, seq) more than once in the log
//   out_of_order    a key's records whose seq does not increase with the offset
//   moved           acknowledged at one offset, found at another
//   offset_gaps     a partition's offsets not dense and increasing from its first
//   unparsable      a record whose value is not "k<key>:<seq>"
#include <cstdint>
#include <string>
#include <vector>

#include "tools/chaos/read_record.hpp"
#include "tools/chaos/workload.hpp"

namespace chaos {

struct check_result {
  int64_t acked = 0;
  int64_t read = 0;
  int64_t lost = 0;
  int64_t duplicated = 0;
  int64_t out_of_order = 0;
  int64_t moved = 0;
  int64_t offset_gaps = 0;
  int64_t unparsable = 0;
  int64_t unacked_present = 0; // written but the producer never heard (allowed)
  std::vector<std::string> samples; // the first few violations, one line each

  bool passed() const {
    return lost == 0 && duplicated == 0 && out_of_order == 0 && moved == 0 &&
           offset_gaps == 0 && unparsable == 0;
  }
};

/// "k<key>:<seq>", the value of every record the workload sends, and back
/// (false if `value` is not of that form).
std::string record_value(int32_t key, int64_t seq);
bool parse_record_value(const std::string& value, int32_t& key, int64_t& seq);

/// `read` holds every record of every partition (any order); `log_start`
/// is each partition's first offset (index = partition), normally 0.
check_result check_records(const std::vector<acked_record>& acked,
                           std::vector<read_record> read, const std::vector<int64_t>& log_start);

} // namespace chaos
