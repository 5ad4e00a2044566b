#pragma once
// Batches for the CAF-free benches (storage_bench, validate_bench): `count`
// distinct RecordBatches of about `batch_bytes` each, keys "order-N",
// random lowercase values (not trivially compressible), optional record
// headers. Built before timing; callers reuse them round-robin.
#include <random>
#include <string>
#include <vector>

#include "storage/record_batch.hpp"

namespace al::bench {

inline std::vector<bytes> make_batches(size_t record_size, size_t batch_bytes, size_t count,
                                       const std::vector<record_header>& headers,
                                       size_t& records_per_batch) {
  std::mt19937_64 rng(record_size);
  std::vector<bytes> out;
  std::string value(record_size, '\0');
  // Room left for the next record's framing (and 10 bytes per header).
  const size_t slack = 20 + 10 * headers.size();
  for (size_t b = 0; b < count; ++b) {
    batch_builder builder;
    for (size_t i = 0;; ++i) {
      for (auto& c : value)
        c = char('a' + rng() % 26);
      std::string key = "order-" + std::to_string(b * 1000 + i);
      builder.append(int64_t(1'700'000'000'000) + int64_t(i), byte_view{std::string_view(key)},
                     byte_view{std::string_view(value)}, headers);
      if (builder.estimated_size() + record_size + slack > batch_bytes)
        break;
    }
    records_per_batch = builder.record_count();
    out.push_back(builder.build());
  }
  return out;
}

} // namespace al::bench
