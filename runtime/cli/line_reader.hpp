#pragma once
// Reads lines from a file descriptor (the producer's stdin) with a timeout,
// so a producer can send a lingering batch while no input arrives. Lines end
// at '\n' (a trailing '\r' is removed too); a last line without '\n' is
// still a line. No CAF.
#include <string>

namespace al::cli {

class line_reader {
public:
  enum class outcome { line, timeout, eof, error };

  explicit line_reader(int fd) : fd_(fd) {}

  /// Waits at most `timeout_ms` (< 0: forever) for the next line. On
  /// outcome::error, error_number() is the errno.
  outcome next(std::string& line, int timeout_ms);

  int error_number() const { return errno_; }

  /// Lines returned so far (for messages naming a line number).
  size_t line_number() const { return lines_; }

private:
  bool take_line(std::string& line);

  int fd_;
  std::string buf_;
  size_t start_ = 0; ///< first unread byte of buf_
  bool eof_ = false;
  int errno_ = 0;
  size_t lines_ = 0;
};

} // namespace al::cli
