#pragma once
// Shared by the segment / partition log tests: a per-test temp directory,
// batches built from plain key/value strings, and reading a log back as
// plain records.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "batch_test_support.hpp"
#include "storage/file.hpp"
#include "storage/partition_log.hpp"

namespace al::test {

/// A fresh directory under /tmp, removed with everything in it at scope end.
class temp_dir {
public:
  explicit temp_dir(const std::string& name) {
    static std::atomic<int> counter{0};
    path_ = "/tmp/actorlog-" + name + "-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter++);
    (void)remove_tree(path_);
    REQUIRE(make_directories(path_).is_ok());
  }
  ~temp_dir() { (void)remove_tree(path_); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return join_path(path_, name); }

private:
  std::string path_;
};

/// The value of a result, or a test failure showing its error.
template <class T>
T ok(result<T> r) {
  INFO((r ? std::string("ok") : r.error().to_string()));
  REQUIRE(r.has_value());
  return std::move(r.value());
}

inline void ok(const status& st) {
  INFO(st.to_string());
  REQUIRE(st.is_ok());
}

using kv = std::pair<opt_string, opt_string>;

/// One batch of key/value records, all with timestamp `ts`.
inline bytes kv_batch(const std::vector<kv>& records, int64_t ts,
                      compression codec = compression::none) {
  batch_options opts;
  opts.codec = codec;
  batch_builder b(opts);
  for (const auto& [k, v] : records)
    b.append(ts, view_of(k), view_of(v));
  return b.build();
}

/// `n` records "k<first+i>" -> "v<first+i>" padded to value_size bytes.
inline bytes numbered_batch(int n, int64_t ts, int first = 0, size_t value_size = 8) {
  std::vector<kv> records;
  for (int i = 0; i < n; ++i) {
    std::string v = "v" + std::to_string(first + i);
    v.resize(std::max(v.size(), value_size), '.');
    records.emplace_back("k" + std::to_string(first + i), v);
  }
  return kv_batch(records, ts);
}

/// Every record in concatenated batches.
inline std::vector<plain_record> decode_all(const bytes& batches) {
  std::vector<plain_record> out;
  for (size_t pos = 0; pos < batches.size();) {
    auto d = decode_batch(byte_view{batches}.sub(pos, batches.size() - pos),
                          "batch at " + std::to_string(pos));
    INFO((d ? std::string("ok") : d.error().to_string()));
    REQUIRE(d.has_value());
    for (const auto& r : d->records)
      out.push_back(to_plain(r));
    pos += d->header.size_in_bytes();
  }
  return out;
}

/// Header of every batch in concatenated batches.
inline std::vector<batch_header> headers_of(const bytes& batches) {
  std::vector<batch_header> out;
  for (size_t pos = 0; pos < batches.size();) {
    auto h = validate_batch(byte_view{batches}.sub(pos, batches.size() - pos));
    REQUIRE(h.has_value());
    out.push_back(*h);
    pos += h->size_in_bytes();
  }
  return out;
}

/// The whole log from its start, as plain records.
inline std::vector<plain_record> read_all(const partition_log& log) {
  std::vector<plain_record> out;
  int64_t offset = log.log_start_offset();
  while (offset < log.log_end_offset()) {
    auto chunk = ok(log.read(offset, 64 * 1024));
    if (chunk.empty())
      break;
    auto hs = headers_of(chunk);
    for (auto& r : decode_all(chunk))
      if (r.offset >= offset)
        out.push_back(std::move(r));
    offset = hs.back().next_offset();
  }
  return out;
}

inline bytes file_bytes(const std::string& path) {
  auto f = ok(file::open(path, open_mode::read_only));
  bytes out;
  ok(f.pread_exact(out, f.size(), 0));
  return out;
}

inline void write_file_bytes(const std::string& path, const bytes& data) {
  auto f = ok(file::open(path, open_mode::create_truncate));
  ok(f.append(data));
}

/// Every file of a directory with its bytes, to check nothing changed.
inline std::map<std::string, bytes> dir_snapshot(const std::string& dir) {
  std::map<std::string, bytes> out;
  for (const auto& name : ok(list_directory(dir)))
    out[name] = file_bytes(join_path(dir, name));
  return out;
}

/// Small segments and dense indexes so a few KiB exercise everything.
inline log_config small_config() {
  log_config c;
  c.segment_bytes = 1024;
  c.index_interval_bytes = 256;
  c.retention_ms = -1;
  return c;
}

inline std::unique_ptr<partition_log> open_log(const std::string& dir, const log_config& c,
                                               int64_t now_ms = 0,
                                               recovery_report* report = nullptr) {
  return ok(partition_log::open(dir, c, now_ms, report));
}

} // namespace al::test
