// validate_bench: what the partition leader spends checking one produced
// batch, before and after the single-pass validation (issue 6):
//   before  decode_batch (CRC32C + every record into record views, headers
//           vectors) then partition_log::append's validate_batch (CRC32C again)
//   after   validate_records (CRC32C once + an in-place walk, no allocation)
//   limit   CRC32C alone over the same bytes (what any validation must pay)
// for 100 B and 1 KiB values in ~16 KiB batches (the producer's default
// batch.size), optionally with two headers per record. CPU only: no I/O.
// A tool, not a test: it prints numbers next to the machine's own limit.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "bench/bench_batches.hpp"
#include "runtime/version_flag.hpp"
#include "storage/batch_header.hpp"
#include "storage/crc32c.hpp"
#include "storage/record_batch.hpp"

using namespace al;

namespace {

using clock_type = std::chrono::steady_clock;

/// Seconds for `rounds` passes of `check` over every batch (the best of
/// `repeat`); exits when a check fails.
template <class Check>
double time_best(const std::vector<bytes>& batches, size_t rounds, int repeat, Check&& check) {
  double best = 1e300;
  for (int r = 0; r < repeat; ++r) {
    auto start = clock_type::now();
    for (size_t i = 0; i < rounds; ++i)
      for (auto& b : batches)
        if (!check(b)) {
          std::cerr << "validate_bench: a valid batch was rejected\n";
          std::exit(1);
        }
    best = std::min(best, std::chrono::duration<double>(clock_type::now() - start).count());
  }
  return best;
}

void run(size_t record_size, bool with_headers, size_t rounds, int repeat) {
  size_t per_batch = 0;
  static const std::string source = "order-service", region = "IN";
  std::vector<record_header> headers;
  if (with_headers)
    headers = {{"source", byte_view{std::string_view(source)}},
               {"region", byte_view{std::string_view(region)}}};
  auto batches = bench::make_batches(record_size, 16 * 1024, 64, headers, per_batch);
  uint64_t total_bytes = 0;
  for (auto& b : batches)
    total_bytes += b.size();
  const double n_batches = double(batches.size() * rounds);
  const double n_bytes = double(total_bytes * rounds);

  const std::string where = "produce to orders-0";
  double before = time_best(batches, rounds, repeat, [&](const bytes& b) {
    auto d = decode_batch(byte_view{b}, where);
    return d.has_value() && validate_batch(byte_view{b}, "produced batch").has_value();
  });
  bytes scratch;
  record_validation opts;
  opts.require_keys = true;
  double after = time_best(batches, rounds, repeat, [&](const bytes& b) {
    return validate_records(byte_view{b}, opts, scratch, where).has_value();
  });
  volatile uint32_t sink = 0;
  double crc = time_best(batches, rounds, repeat, [&](const bytes& b) {
    sink = sink + compute_batch_crc(byte_view{b});
    return true;
  });
  auto line = [&](const char* what, double secs) {
    std::printf("  %-36s %10.0f %12.2f %10.0f %9.2f\n", what, n_batches / secs,
                n_batches * double(per_batch) / secs / 1e6, n_bytes / secs / 1e6,
                secs / n_batches * 1e6);
  };
  std::printf("%zu B values%s, %zu records per batch, %zu bytes per batch on average:\n",
              record_size, with_headers ? " + 2 headers" : "", per_batch,
              size_t(total_bytes / batches.size()));
  std::printf("  %-36s %10s %12s %10s %9s\n", "", "batches/s", "M records/s", "MB/s", "us/batch");
  line("before: decode_batch + validate_batch", before);
  line("after: validate_records", after);
  line("limit: CRC32C only", crc);
  std::printf("  after/before: %.2fx faster; after costs %.2fx the CRC alone\n\n", before / after,
              after / crc);
}

} // namespace

int main(int argc, char** argv) {
  if (al::print_version_if_asked(argc, argv, "validate_bench"))
    return 0;
  cxxopts::Options opts("validate_bench",
                        "CPU cost of the leader's check of a produced batch: the old two-pass\n"
                        "decode + CRC against the single-pass validate_records, beside CRC32C alone.");
  // clang-format off
  opts.add_options()
    ("rounds", "passes over 64 distinct ~16 KiB batches per timing", cxxopts::value<size_t>()->default_value("2000"))
    ("repeat", "timings per figure; the best is reported", cxxopts::value<int>()->default_value("3"))
    ("version", "print the version and exit")
    ("h,help", "print this help");
  // clang-format on
  auto args = opts.parse(argc, argv);
  if (args.count("help")) {
    std::cout << opts.help();
    return 0;
  }
  auto rounds = args["rounds"].as<size_t>();
  auto repeat = std::max(1, args["repeat"].as<int>());
  for (size_t size : {size_t(100), size_t(1024)})
    for (bool headers : {false, true})
      run(size, headers, rounds, repeat);
  return 0;
}
