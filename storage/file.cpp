#include "storage/file.hpp"

#include "storage/open_file_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace al {
namespace {

namespace fs = std::filesystem;

status os_error(const char* op, const std::string& path, int err) {
  return status{errc::kafka_storage_error,
                std::string(op) + " " + path + ": " + std::strerror(err)};
}

status fs_error(const char* op, const std::string& path, const std::error_code& ec) {
  return status{errc::kafka_storage_error, std::string(op) + " " + path + ": " + ec.message()};
}

int open_flags(open_mode mode) {
  switch (mode) {
    case open_mode::read_only: return O_RDONLY;
    case open_mode::read_write: return O_RDWR;
    case open_mode::create: return O_RDWR | O_CREAT;
    case open_mode::create_truncate: return O_RDWR | O_CREAT | O_TRUNC;
  }
  return O_RDONLY;
}

/// open(2) with O_CLOEXEC; on EMFILE/ENFILE a cached file first asks the
/// cache to close a few unused descriptors, then tries once more.
int open_fd(const std::string& path, int flags, file_slot* slot) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0 && slot && (errno == EMFILE || errno == ENFILE)) {
    int err = errno;
    if (slot->cache->shed(16, slot) > 0)
      fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
    else
      errno = err;
  }
  return fd;
}

} // namespace

file::file(file&& other) noexcept
  : fd_(other.fd_), slot_(std::move(other.slot_)), size_(other.size_),
    path_(std::move(other.path_)) {
  other.fd_ = -1;
  other.size_ = 0;
}

file& file::operator=(file&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    slot_ = std::move(other.slot_);
    size_ = other.size_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
    other.size_ = 0;
  }
  return *this;
}

file::~file() { release(); }

void file::release() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
  if (!slot_)
    return;
  {
    std::lock_guard<std::mutex> lock(slot_->m);
    if (slot_->fd >= 0) {
      ::close(slot_->fd);
      slot_->fd = -1;
      slot_->cache->closed(slot_.get());
    }
  }
  slot_.reset();
}

/// A descriptor and the file's size (open_fd, then fstat).
static result<std::pair<int, uint64_t>> open_sized(const std::string& path, open_mode mode,
                                                   file_slot* slot) {
  int fd = open_fd(path, open_flags(mode), slot);
  if (fd < 0)
    return os_error("open", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return os_error("fstat", path, err);
  }
  return std::pair<int, uint64_t>{fd, static_cast<uint64_t>(st.st_size)};
}

result<file> file::open(const std::string& path, open_mode mode) {
  auto opened = open_sized(path, mode, nullptr);
  if (!opened)
    return opened.error();
  file f;
  f.fd_ = opened->first;
  f.size_ = opened->second;
  f.path_ = path;
  return f;
}

result<file> file::open(const std::string& path, open_mode mode, open_file_cache& cache) {
  AL_ASSERT(mode != open_mode::read_only, path); // a reopen is read-write
  auto slot = std::make_unique<file_slot>();
  slot->cache = &cache;
  auto opened = open_sized(path, mode, slot.get());
  if (!opened)
    return opened.error();
  file f;
  {
    std::lock_guard<std::mutex> lock(slot->m);
    slot->fd = opened->first;
    cache.opened(slot.get(), false);
  }
  f.slot_ = std::move(slot);
  f.size_ = opened->second;
  f.path_ = path;
  return f;
}

template <class F>
auto file::with_fd(F&& f) const -> decltype(f(0)) {
  if (!slot_) {
    AL_ASSERT(fd_ >= 0, path_);
    return f(fd_);
  }
  std::lock_guard<std::mutex> lock(slot_->m);
  if (slot_->fd < 0) { // the cache closed it: reopen by path
    int fd = open_fd(path_, O_RDWR, slot_.get());
    if (fd < 0)
      return os_error("reopen", path_, errno);
    slot_->fd = fd;
    slot_->cache->opened(slot_.get(), true);
  }
  slot_->referenced.store(true, std::memory_order_relaxed);
  return f(slot_->fd);
}

status file::error(const char* op) const { return os_error(op, path_, errno); }

status file::pwrite(byte_view data, uint64_t position) {
  auto st = with_fd([&](int fd) {
    size_t done = 0;
    while (done < data.size) {
      auto n = ::pwrite(fd, data.data + done, data.size - done, off_t(position + done));
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return error("write");
      }
      done += size_t(n);
    }
    return status::ok();
  });
  if (st)
    size_ = std::max(size_, position + data.size);
  return st;
}

status file::append(byte_view data) { return pwrite(data, size_); }

result<size_t> file::pread(uint8_t* out, size_t n, uint64_t position) const {
  return with_fd([&](int fd) -> result<size_t> {
    size_t done = 0;
    while (done < n) {
      auto got = ::pread(fd, out + done, n - done, off_t(position + done));
      if (got < 0) {
        if (errno == EINTR)
          continue;
        return error("read");
      }
      if (got == 0)
        break;
      done += size_t(got);
    }
    return done;
  });
}

status file::pread_exact(bytes& out, size_t n, uint64_t position) const {
  auto old = out.size();
  out.resize(old + n);
  auto got = pread(out.data() + old, n, position);
  if (!got) {
    out.resize(old);
    return got.error();
  }
  if (*got != n) {
    out.resize(old);
    return status{errc::kafka_storage_error,
                  "read " + path_ + ": wanted " + std::to_string(n) + " bytes at position " +
                    std::to_string(position) + ", file ends after " + std::to_string(*got)};
  }
  return status::ok();
}

status file::fsync() {
  return with_fd([&](int fd) { return ::fsync(fd) == 0 ? status::ok() : error("fsync"); });
}

status file::fdatasync() {
  return with_fd(
    [&](int fd) { return ::fdatasync(fd) == 0 ? status::ok() : error("fdatasync"); });
}

result<file> file::duplicate() const {
  return with_fd([&](int fd) -> result<file> {
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0)
      return error("dup");
    file f;
    f.fd_ = copy;
    f.size_ = size_;
    f.path_ = path_;
    return f;
  });
}

status file::truncate(uint64_t new_size) {
  auto st = with_fd(
    [&](int fd) { return ::ftruncate(fd, off_t(new_size)) == 0 ? status::ok() : error("truncate"); });
  if (st)
    size_ = new_size;
  return st;
}

status file::close() {
  if (slot_) {
    release(); // a descriptor the cache closed had nothing left to report
    return status::ok();
  }
  if (fd_ < 0)
    return status::ok();
  int rc = ::close(fd_);
  fd_ = -1;
  return rc == 0 ? status::ok() : error("close");
}

status fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? status::ok() : os_error("open", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? status::ok() : os_error("fsync", path, err);
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir.back() == '/')
    return dir + name;
  return dir + "/" + name;
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

status make_directories(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  return ec ? fs_error("mkdir", dir, ec) : status::ok();
}

status fsync_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return os_error("open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? status::ok() : os_error("fsync directory", dir, err);
}

result<std::vector<std::string>> list_directory(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  if (ec)
    return fs_error("list", dir, ec);
  std::sort(names.begin(), names.end());
  return names;
}

status rename_file(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    return os_error("rename", from + " -> " + to, errno);
  return status::ok();
}

status remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return os_error("unlink", path, errno);
  return status::ok();
}

status remove_tree(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  return ec ? fs_error("remove", dir, ec) : status::ok();
}

result<uint64_t> file_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return os_error("stat", path, errno);
  return static_cast<uint64_t>(st.st_size);
}

namespace {

status replace_file_impl(const std::string& dir, const std::string& name, byte_view contents,
                         bool durable) {
  std::string tmp = join_path(dir, name + ".tmp");
  auto f = file::open(tmp, open_mode::create_truncate);
  if (!f)
    return f.error();
  if (auto st = f->append(contents); !st)
    return st;
  if (durable)
    if (auto st = f->fsync(); !st)
      return st;
  if (auto st = f->close(); !st)
    return st;
  if (auto st = rename_file(tmp, join_path(dir, name)); !st)
    return st;
  return durable ? fsync_directory(dir) : status::ok();
}

} // namespace

status replace_file_durably(const std::string& dir, const std::string& name, byte_view contents) {
  return replace_file_impl(dir, name, contents, true);
}

status replace_file(const std::string& dir, const std::string& name, byte_view contents) {
  return replace_file_impl(dir, name, contents, false);
}

status overwrite_file(const std::string& path, byte_view data, uint64_t position, bool durable) {
  auto f = file::open(path, open_mode::create);
  if (!f)
    return f.error();
  if (auto st = f->pwrite(data, position); !st)
    return st;
  // Cut to the new length, never to zero first: ext4 flushes a file
  // emptied and rewritten at its close (auto_da_alloc).
  if (f->size() != position + data.size)
    if (auto st = f->truncate(position + data.size); !st)
      return st;
  if (durable)
    if (auto st = f->fsync(); !st)
      return st;
  return f->close();
}

result<bytes> read_whole_file(const std::string& path) {
  auto f = file::open(path, open_mode::read_only);
  if (!f)
    return f.error();
  bytes out;
  if (auto st = f->pread_exact(out, size_t(f->size()), 0); !st)
    return st;
  return out;
}

} // namespace al
