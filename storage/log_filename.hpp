#pragma once
// Names of the files in a partition directory: one function per kind plus
// one parser. A segment is named by its base offset, zero-padded to 20
// digits so names sort like offsets:
//   00000000000000001234.log          record batches
//   00000000000000001234.index        sparse offset index
//   00000000000000001234.timeindex    sparse time index
//   00000000000000001234.txnindex     aborted transactions, when it has any
//   00000000000000001234.log.cleaned  compaction output, not yet committed
//   00000000000000001234.log.swap     committed compaction output, not yet
//                                     renamed over the .log
//   <any of the first four>.deleted   a segment retention removed, waiting
//                                     for the I/O worker to delete it
//   spare.log, spare.index,           empty files an I/O worker made ahead of
//   spare.timeindex                   the next roll, renamed into place then
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace al {

enum class log_file_kind : uint8_t { log, index, time_index, txn_index, cleaned, swap };

std::string log_file_name(int64_t base_offset);
std::string index_file_name(int64_t base_offset);
std::string time_index_file_name(int64_t base_offset);
/// A segment's aborted-transaction index (txn_index.hpp).
std::string txn_index_file_name(int64_t base_offset);
std::string cleaned_file_name(int64_t base_offset);
std::string swap_file_name(int64_t base_offset);

struct parsed_log_file_name {
  int64_t base_offset = 0;
  log_file_kind kind = log_file_kind::log;
};

/// The suffix of a file waiting to be deleted (Kafka's `.deleted`).
constexpr const char* deleted_suffix = ".deleted";
/// Whether `name` is a segment or index file waiting to be deleted.
bool is_deleted_file_name(std::string_view name);

/// The spare files, in the order log, index, time index.
constexpr const char* spare_file_names[] = {"spare.log", "spare.index", "spare.timeindex"};
/// Whether `name` is one of them.
bool is_spare_file_name(std::string_view name);

/// Parses any of the names above but `.deleted` and spare ones; nullopt for anything else.
std::optional<parsed_log_file_name> parse_log_file_name(std::string_view name);

} // namespace al
