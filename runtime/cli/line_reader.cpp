#include "runtime/cli/line_reader.hpp"

#include <cerrno>
#include <chrono>

#include <poll.h>
#include <unistd.h>

namespace al::cli {

bool line_reader::take_line(std::string& line) {
  auto nl = buf_.find('\n', start_);
  if (nl == std::string::npos) {
    if (!eof_ || start_ == buf_.size())
      return false;
    nl = buf_.size(); // last line without '\n'
  }
  auto end = nl;
  if (end > start_ && buf_[end - 1] == '\r')
    --end;
  line.assign(buf_, start_, end - start_);
  start_ = nl < buf_.size() ? nl + 1 : nl;
  if (start_ > 65536 && start_ * 2 > buf_.size()) { // drop consumed bytes now and then
    buf_.erase(0, start_);
    start_ = 0;
  }
  ++lines_;
  return true;
}

line_reader::outcome line_reader::next(std::string& line, int timeout_ms) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
  for (;;) {
    if (take_line(line))
      return outcome::line;
    if (eof_)
      return outcome::eof;
    int wait = -1;
    if (timeout_ms >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      wait = left.count() > 0 ? int(left.count()) : 0;
    }
    pollfd p{fd_, POLLIN, 0};
    auto n = ::poll(&p, 1, wait);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      errno_ = errno;
      return outcome::error;
    }
    if (n == 0)
      return outcome::timeout;
    char chunk[65536];
    auto got = ::read(fd_, chunk, sizeof chunk);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN)
        continue;
      errno_ = errno;
      return outcome::error;
    }
    if (got == 0)
      eof_ = true;
    else
      buf_.append(chunk, size_t(got));
  }
}

} // namespace al::cli
