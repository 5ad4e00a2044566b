// open_file_cache (issue 15, item 2): segment descriptors stay within the
// bound, a closed one reopens on its next use with its data intact, threads
// using their own files never see a descriptor closed under them, EMFILE is
// answered by closing unused descriptors, and partition logs keep working
// with fewer descriptors than segments.
#include "log_test_support.hpp"

#include <sys/resource.h>

#include <filesystem>
#include <random>
#include <thread>

#include "storage/open_file_cache.hpp"

using namespace al;
using namespace al::test;

namespace {

/// Descriptors this process holds (/proc/self/fd, less the one listing it).
size_t process_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n - 1;
}

bytes pattern(size_t n, uint8_t seed) {
  bytes b(n);
  for (size_t i = 0; i < n; ++i)
    b[i] = uint8_t(seed + i * 7);
  return b;
}

std::vector<file> open_files(const temp_dir& dir, int n, open_file_cache& cache) {
  std::vector<file> files;
  for (int i = 0; i < n; ++i)
    files.push_back(ok(file::open(dir.file("f" + std::to_string(i)), open_mode::create, cache)));
  return files;
}

/// Restores the process cache's bound at scope end.
struct process_bound {
  explicit process_bound(size_t n) : old(open_file_cache::process().capacity()) {
    open_file_cache::process().set_capacity(n);
  }
  ~process_bound() { open_file_cache::process().set_capacity(old); }
  size_t old;
};

} // namespace

TEST_CASE("open descriptors stay within the bound and closed files reopen with their data",
          "[open_file_cache]") {
  temp_dir dir("fdcache-bound");
  open_file_cache cache(4);
  auto before = process_fds();
  auto files = open_files(dir, 20, cache);
  CHECK(cache.open_count() == 4);
  CHECK(process_fds() == before + 4);
  for (int round = 0; round < 3; ++round)
    for (size_t i = 0; i < files.size(); ++i) {
      ok(files[i].append(pattern(100, uint8_t(i + round))));
      REQUIRE(cache.open_count() <= 4);
    }
  CHECK(process_fds() == before + 4);
  CHECK(cache.evictions() > 0);
  CHECK(cache.reopens() > 0);
  for (size_t i = 0; i < files.size(); ++i) {
    CHECK(files[i].size() == 300);
    bytes got;
    ok(files[i].pread_exact(got, 300, 0));
    for (int round = 0; round < 3; ++round)
      CHECK(bytes(got.begin() + round * 100, got.begin() + round * 100 + 100) ==
            pattern(100, uint8_t(i + round)));
    ok(files[i].fdatasync());
    ok(files[i].truncate(150));
    CHECK(file_size(files[i].path()).value() == 150);
  }
  files.clear();
  CHECK(cache.open_count() == 0);
  CHECK(process_fds() == before);
}

TEST_CASE("a lower bound closes unused descriptors at once, 0 removes it",
          "[open_file_cache]") {
  temp_dir dir("fdcache-lower");
  open_file_cache cache(0);
  auto files = open_files(dir, 12, cache);
  CHECK(cache.open_count() == 12);
  cache.set_capacity(5);
  CHECK(cache.open_count() == 5);
  CHECK(cache.evictions() == 7);
  cache.set_capacity(0);
  for (auto& f : files)
    ok(f.append(pattern(10, 1)));
  CHECK(cache.open_count() == 12);
  CHECK(cache.reopens() == 7);
}

TEST_CASE("a file used since the last sweep keeps its descriptor", "[open_file_cache]") {
  temp_dir dir("fdcache-lru");
  open_file_cache cache(3);
  auto files = open_files(dir, 3, cache); // a, b, c, each just used
  // The first sweep clears every bit, then closes the first file, a.
  auto d = ok(file::open(dir.file("d"), open_mode::create, cache));
  CHECK(cache.evictions() == 1);
  ok(files[1].append(pattern(4, 1))); // b: open, and now recently used
  CHECK(cache.reopens() == 0);
  // The next sweep passes b (used since) and closes c (not used since).
  auto e = ok(file::open(dir.file("e"), open_mode::create, cache));
  CHECK(cache.evictions() == 2);
  ok(files[1].append(pattern(4, 1)));
  ok(d.append(pattern(4, 3)));
  CHECK(cache.reopens() == 0);
  ok(files[2].append(pattern(4, 2))); // c was closed
  CHECK(cache.reopens() == 1);
  ok(files[0].append(pattern(4, 0))); // so was a
  CHECK(cache.reopens() == 2);
  CHECK(cache.open_count() == 3);
}

TEST_CASE("threads on their own files under a tight bound: data intact, bound held",
          "[open_file_cache]") {
  temp_dir dir("fdcache-threads");
  open_file_cache cache(6);
  constexpr int threads = 4, per_thread = 8, ops = 3000;
  std::vector<std::vector<file>> files(threads);
  for (int t = 0; t < threads; ++t)
    for (int i = 0; i < per_thread; ++i)
      files[t].push_back(ok(file::open(
        dir.file("t" + std::to_string(t) + "-" + std::to_string(i)), open_mode::create, cache)));
  std::atomic<int> failures{0};
  std::atomic<size_t> peak{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      std::mt19937 rng(uint32_t(t) + 1);
      std::vector<uint64_t> written(per_thread, 0);
      for (int op = 0; op < ops; ++op) {
        auto i = rng() % per_thread;
        auto& f = files[t][i];
        auto block = pattern(64, uint8_t(written[i] / 64 + i));
        if (!f.append(block).is_ok())
          ++failures;
        written[i] += 64;
        bytes got;
        auto pos = (rng() % (written[i] / 64)) * 64;
        if (!f.pread_exact(got, 64, pos).is_ok() || got != pattern(64, uint8_t(pos / 64 + i)))
          ++failures;
        auto now = cache.open_count();
        for (auto p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {
        }
      }
    });
  for (auto& w : workers)
    w.join();
  CHECK(failures == 0);
  // A file in use cannot be closed: the bound may be passed by at most one
  // opening file per thread.
  CHECK(peak <= size_t(6 + threads));
  CHECK(cache.open_count() <= 6);
  CHECK(cache.evictions() > 100);
}

TEST_CASE("out of descriptors (EMFILE): unused cached ones are closed and the open succeeds",
          "[open_file_cache]") {
  temp_dir dir("fdcache-emfile");
  open_file_cache cache(0); // no bound: only EMFILE makes it close anything
  struct rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
  struct rlimit tight = old;
  tight.rlim_cur = rlim_t(process_fds() + 8);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  std::vector<file> files;
  status failed = status::ok();
  for (int i = 0; i < 40 && failed.is_ok(); ++i) {
    auto f = file::open(dir.file("f" + std::to_string(i)), open_mode::create, cache);
    if (!f)
      failed = f.error();
    else
      files.push_back(std::move(*f));
  }
  for (size_t i = 0; i < files.size() && failed.is_ok(); ++i)
    failed = files[i].append(pattern(16, uint8_t(i)));
  auto plain = file::open(dir.file("plain"), open_mode::create); // no cache: nothing to shed
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &old) == 0);
  INFO(failed.to_string());
  CHECK(failed.is_ok());
  CHECK(files.size() == 40);
  CHECK(cache.evictions() > 0);
  CHECK(cache.open_count() <= 8);
  (void)plain;
}

TEST_CASE("partition logs with more segments than descriptors", "[open_file_cache]") {
  temp_dir dir("fdcache-logs");
  process_bound bound(3);
  auto config = small_config();
  std::vector<std::unique_ptr<partition_log>> logs;
  for (int i = 0; i < 10; ++i)
    logs.push_back(open_log(dir.file("p" + std::to_string(i)), config));
  for (int round = 0; round < 20; ++round)
    for (auto& log : logs) {
      auto batch = numbered_batch(5, 1000, int(log->log_end_offset()));
      ok(log->append(batch, 1000));
      REQUIRE(open_file_cache::process().open_count() <= 3);
    }
  for (auto& log : logs) {
    CHECK(log->segment_count() > 1); // small_config rolls: closed segments are read too
    auto records = read_all(*log);
    REQUIRE(records.size() == 100);
    for (int64_t o = 0; o < 100; ++o)
      CHECK(records[size_t(o)].offset == o);
    ok(log->flush());
  }
  CHECK(open_file_cache::process().open_count() <= 3);
  logs.clear();
  CHECK(open_file_cache::process().open_count() == 0);
  // Reopened from disk under the same bound: every record is still there.
  for (int i = 0; i < 10; ++i) {
    auto log = open_log(dir.file("p" + std::to_string(i)), config);
    CHECK(read_all(*log).size() == 100);
  }
}
