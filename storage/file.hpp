#pragma once
// A small POSIX file wrapper. Every failure is a KAFKA_STORAGE_ERROR status
// naming the operation, the path and errno's text; nothing throws.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/bytes.hpp"
#include "storage/status.hpp"

namespace al {

class open_file_cache;
struct file_slot;

enum class open_mode : uint8_t {
  read_only,       // must exist
  read_write,      // must exist
  create,          // read-write; created if missing, kept if present
  create_truncate, // read-write; created if missing, emptied if present
};

class file {
public:
  file() = default;
  file(file&& other) noexcept;
  file& operator=(file&& other) noexcept;
  file(const file&) = delete;
  file& operator=(const file&) = delete;
  ~file();

  static result<file> open(const std::string& path, open_mode mode);
  /// A read-write file whose descriptor `cache` may close while it is not
  /// in use; the next operation reopens it by path (open_file_cache.hpp).
  /// Nothing else may rename or remove the file while this object is open.
  static result<file> open(const std::string& path, open_mode mode, open_file_cache& cache);

  bool is_open() const { return fd_ >= 0 || slot_ != nullptr; }
  const std::string& path() const { return path_; }
  /// Size as tracked by this object: the size at open plus appends,
  /// adjusted by truncate. Only this object writes to the file.
  uint64_t size() const { return size_; }

  /// Writes all of `data` at `position` (extends size_ if it writes past it).
  status pwrite(byte_view data, uint64_t position);
  /// Writes all of `data` at the end of the file.
  status append(byte_view data);
  /// Reads up to `n` bytes at `position` into `out`; fewer only at end of
  /// file. Returns the number of bytes read.
  result<size_t> pread(uint8_t* out, size_t n, uint64_t position) const;
  /// Reads exactly `n` bytes at `position`, appending them to `out`.
  status pread_exact(bytes& out, size_t n, uint64_t position) const;

  status fsync();
  status fdatasync();
  /// Another descriptor of the same open file (dup), plain (not cached):
  /// for an fsync on another thread that must work even if this object
  /// closes or the file is removed meanwhile.
  result<file> duplicate() const;
  status truncate(uint64_t size);
  status close();

private:
  status error(const char* op) const;
  /// Runs f(fd) with the descriptor open (reopened if the cache closed it)
  /// and, for a cached file, its slot locked.
  template <class F>
  auto with_fd(F&& f) const -> decltype(f(0));
  void release();

  int fd_ = -1;
  std::unique_ptr<file_slot> slot_; // cached files only (fd_ stays -1)
  uint64_t size_ = 0;
  std::string path_;
};

// Directory and path operations.
std::string join_path(const std::string& dir, const std::string& name);
bool path_exists(const std::string& path);
status make_directories(const std::string& dir);
/// fsync on the directory itself, so created/renamed/removed names persist.
status fsync_directory(const std::string& dir);
/// fsync of the file at `path`; a missing file is not an error (it was
/// removed, so there is nothing of it to make durable).
status fsync_path(const std::string& path);
/// File names (not paths) in `dir`, sorted, without "." and "..".
result<std::vector<std::string>> list_directory(const std::string& dir);
/// Atomically replaces `to` by `from` (POSIX rename).
status rename_file(const std::string& from, const std::string& to);
/// Removes a file; a missing file is not an error.
status remove_file(const std::string& path);
/// Removes a directory and everything below it (for tests and tools).
status remove_tree(const std::string& dir);
/// Size of the file at `path`.
result<uint64_t> file_size(const std::string& path);
/// Replaces dir/name with `contents` so that a crash leaves either the old
/// or the new file: write name.tmp, fsync, rename, fsync the directory.
status replace_file_durably(const std::string& dir, const std::string& name, byte_view contents);
/// The same without the fsyncs: a process crash leaves the old or the new
/// file; an OS crash may also leave an empty or cut new one. Only for files
/// whose every such state is safe to load (a high watermark is a lower
/// bound: a cut number is smaller, an empty file counts as none).
status replace_file(const std::string& dir, const std::string& name, byte_view contents);
/// Writes `data` at `position` of the file at `path` (created if missing)
/// and cuts the file at position + data.size, fsynced when `durable`; no
/// new inode, no change to the folder. Position 0 with the whole content
/// is a rewrite in place: replace_file creates and renames a file each
/// time, and with 10 000 partitions ext4's search for a free inode among
/// recently deleted ones made that the slowest step of a first write
/// (issue 15). Without `durable` a crash may leave any mix of old and new
/// bytes: only for files whose loader checks them and rebuilds a bad one
/// (index files, leader-epoch-checkpoint).
status overwrite_file(const std::string& path, byte_view data, uint64_t position = 0,
                      bool durable = false);
/// The whole file; NOT_FOUND-style errors name the path.
result<bytes> read_whole_file(const std::string& path);

} // namespace al
