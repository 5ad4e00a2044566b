#pragma once
// A child process whose stdout is read line by line (position-service,
// started, killed with kill -9 and replaced by trading-demo).
#include <functional>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace trading {

class service_process {
public:
  using line_handler = std::function<void(const std::string&)>;

  /// Starts `argv[0]` with `argv`; every line it prints goes to `on_line`
  /// (from a thread of its own). Throws std::runtime_error when it cannot start.
  service_process(const std::vector<std::string>& argv, line_handler on_line);
  ~service_process();
  service_process(const service_process&) = delete;
  service_process& operator=(const service_process&) = delete;

  pid_t pid() const { return pid_; }
  /// Sends `signal` (SIGKILL, SIGTERM) unless the process was reaped.
  void signal(int signal);
  /// Waits for the process to end (and its output to be read); returns its
  /// exit status, or 128 + the signal that ended it.
  int wait();
  /// Whether it has ended (reaps it then; wait() returns the status).
  bool exited();

private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
  std::thread reader_;
};

} // namespace trading
