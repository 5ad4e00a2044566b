// storage_bench: appends N MiB of records in 16 KiB batches through
// partition_log and compares the rate with plain sequential write() of the
// same bytes in 16 KiB chunks to a file in the same directory, under the
// same fsync policy; then reads the log back through partition_log::read.
// A tool, not a test: it prints numbers next to the machine's own limit.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "bench/bench_batches.hpp"
#include "runtime/version_flag.hpp"
#include "storage/file.hpp"
#include "storage/partition_log.hpp"
#include "storage/record_batch.hpp"

using namespace al;

namespace {

using clock_type = std::chrono::steady_clock;

enum class fsync_policy { none, every, interval };

struct bench_options {
  size_t mib = 256;
  std::string dir = "/tmp/actorlog-storage-bench";
  fsync_policy fsync = fsync_policy::none;
  int64_t interval_ms = 1000;
  std::vector<size_t> record_sizes{100, 1024};
  size_t batch_bytes = 16 * 1024;
  int repeat = 3;
};

struct rate {
  double seconds = 0;
  uint64_t bytes = 0;
  uint64_t records = 0;
  double mb_per_s() const { return double(bytes) / 1e6 / seconds; }
  double records_per_s() const { return double(records) / seconds; }
};

double since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           clock_type::now().time_since_epoch())
    .count();
}

[[noreturn]] void die(const status& st) {
  std::cerr << "storage_bench: " << st.to_string() << '\n';
  std::exit(1);
}

void progress(const char* what, uint64_t done, uint64_t total) {
  std::fprintf(stderr, "\r%-28s %6.1f / %zu MiB", what, double(done) / (1 << 20),
               size_t(total >> 20));
  std::fflush(stderr);
}

rate raw_write(const bench_options& o, const std::vector<bytes>& batches, uint64_t total) {
  auto path = join_path(o.dir, "raw-write.bin");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    die(status{errc::kafka_storage_error, "open " + path});
  rate r;
  auto start = clock_type::now();
  auto last_sync = start;
  auto last_progress = start;
  for (size_t i = 0; r.bytes < total; ++i) {
    const auto& chunk = batches[i % batches.size()];
    if (::write(fd, chunk.data(), chunk.size()) != ssize_t(chunk.size()))
      die(status{errc::kafka_storage_error, "write " + path});
    r.bytes += chunk.size();
    auto now = clock_type::now();
    if (o.fsync == fsync_policy::every ||
        (o.fsync == fsync_policy::interval &&
         now - last_sync >= std::chrono::milliseconds(o.interval_ms))) {
      ::fdatasync(fd);
      last_sync = now;
    }
    if (now - last_progress > std::chrono::seconds(1)) {
      progress("raw write()", r.bytes, total);
      last_progress = now;
    }
  }
  r.seconds = since(start);
  ::close(fd);
  (void)remove_file(path);
  return r;
}

log_config config_for(const bench_options& o) {
  log_config c;
  c.retention_ms = -1;
  if (o.fsync == fsync_policy::every)
    c.flush_messages = 1;
  if (o.fsync == fsync_policy::interval)
    c.flush_ms = o.interval_ms;
  return c;
}

rate log_append(const bench_options& o, std::vector<bytes>& batches, size_t records_per_batch,
                uint64_t total, const std::string& dir) {
  auto opened = partition_log::open(dir, config_for(o), now_ms());
  if (!opened)
    die(opened.error());
  auto& log = *opened.value();
  rate r;
  auto start = clock_type::now();
  auto last_progress = start;
  for (size_t i = 0; r.bytes < total; ++i) {
    auto& batch = batches[i % batches.size()];
    auto info = log.append(batch, now_ms());
    if (!info)
      die(info.error());
    r.bytes += batch.size();
    r.records += records_per_batch;
    if (clock_type::now() - last_progress > std::chrono::seconds(1)) {
      progress("partition_log::append", r.bytes, total);
      last_progress = clock_type::now();
    }
  }
  r.seconds = since(start);
  if (auto st = log.close(); !st)
    die(st);
  return r;
}

rate log_read(const bench_options& o, const std::string& dir, uint64_t total) {
  auto opened = partition_log::open(dir, config_for(o), now_ms());
  if (!opened)
    die(opened.error());
  auto& log = *opened.value();
  rate r;
  auto start = clock_type::now();
  int64_t offset = log.log_start_offset();
  while (offset < log.log_end_offset()) {
    auto data = log.read(offset, 1 << 20);
    if (!data)
      die(data.error());
    // Walk the batch headers as a consumer would, to find the next offset.
    for (size_t pos = 0; pos < data->size();) {
      auto h = read_batch_header(data->data() + pos);
      r.records += uint64_t(h.records_count);
      offset = h.next_offset();
      pos += h.size_in_bytes();
    }
    r.bytes += data->size();
  }
  r.seconds = since(start);
  if (r.bytes < total)
    die(status{errc::unknown_server_error, "read back fewer bytes than written"});
  return r;
}

rate best(const rate& a, const rate& b) { return a.seconds > 0 && a.mb_per_s() >= b.mb_per_s() ? a : b; }

void run(const bench_options& o, size_t record_size) {
  size_t records_per_batch = 0;
  auto batches = bench::make_batches(record_size, o.batch_bytes, 64, {}, records_per_batch);
  uint64_t total = uint64_t(o.mib) << 20;
  auto log_dir = join_path(o.dir, "log-" + std::to_string(record_size));
  rate raw, app, rd;
  for (int i = 0; i < o.repeat; ++i) {
    (void)remove_tree(log_dir);
    raw = best(raw, raw_write(o, batches, total));
    app = best(app, log_append(o, batches, records_per_batch, total, log_dir));
    rd = best(rd, log_read(o, log_dir, total));
  }
  (void)remove_tree(log_dir);
  std::fprintf(stderr, "\r%60s\r", "");
  std::printf("%6zu B %8zu %8zu %12.0f %9.1f %9.1f %6.0f%% %12.0f %9.1f\n", record_size,
              batches[0].size(), records_per_batch, app.records_per_s(), app.mb_per_s(),
              raw.mb_per_s(), 100.0 * app.mb_per_s() / raw.mb_per_s(), rd.records_per_s(),
              rd.mb_per_s());
  std::fflush(stdout);
}

bench_options parse(int argc, char** argv) {
  cxxopts::Options opts("storage_bench",
                        "Appends records through partition_log and compares with raw write().");
  opts.add_options()
    ("mib", "MiB to append per record size and run", cxxopts::value<size_t>()->default_value("256"))
    ("dir", "directory for the log and the raw file (same disk)",
     cxxopts::value<std::string>()->default_value("/tmp/actorlog-storage-bench"))
    ("fsync", "none | every (flush.messages=1, fdatasync per write) | interval (flush.ms)",
     cxxopts::value<std::string>()->default_value("none"))
    ("interval-ms", "flush.ms for --fsync interval", cxxopts::value<int64_t>()->default_value("1000"))
    ("record-size", "record value bytes; default runs 100 and 1024", cxxopts::value<size_t>())
    ("repeat", "runs per measurement; the best is reported", cxxopts::value<int>()->default_value("3"))
    ("version", "print the version and exit")
    ("h,help", "print this help");
  auto args = opts.parse(argc, argv);
  if (args.count("help")) {
    std::cout << opts.help() << '\n';
    std::exit(0);
  }
  bench_options o;
  o.mib = args["mib"].as<size_t>();
  o.dir = args["dir"].as<std::string>();
  o.interval_ms = args["interval-ms"].as<int64_t>();
  o.repeat = std::max(1, args["repeat"].as<int>());
  auto f = args["fsync"].as<std::string>();
  if (f == "none")
    o.fsync = fsync_policy::none;
  else if (f == "every")
    o.fsync = fsync_policy::every;
  else if (f == "interval")
    o.fsync = fsync_policy::interval;
  else
    die(status{errc::invalid_config, "--fsync must be none, every or interval, not " + f});
  if (args.count("record-size"))
    o.record_sizes = {args["record-size"].as<size_t>()};
  return o;
}

} // namespace

int main(int argc, char** argv) {
  if (al::print_version_if_asked(argc, argv, "storage_bench"))
    return 0;
  bench_options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "storage_bench: " << e.what() << '\n';
    return 2;
  }
  if (auto st = make_directories(o.dir); !st)
    die(st);
  const char* policy[] = {"none", "every", "interval"};
  std::printf("storage_bench: %zu MiB per run, best of %d, fsync=%s, dir=%s\n", o.mib, o.repeat,
              policy[int(o.fsync)], o.dir.c_str());
  std::printf("  record    batch  rec/bat  append rec/s  append MB/s  raw MB/s  ratio   read rec/s  read MB/s\n");
  for (auto size : o.record_sizes)
    run(o, size);
  return 0;
}
