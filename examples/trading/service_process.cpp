#include "service_process.hpp"

#include <cstdio>
#include <cstring>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace trading {

namespace {

int decode(int wstatus) {
  if (WIFEXITED(wstatus))
    return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus))
    return 128 + WTERMSIG(wstatus);
  return -1;
}

} // namespace

service_process::service_process(const std::vector<std::string>& argv, line_handler on_line) {
  int fds[2];
  if (pipe(fds) != 0)
    throw std::runtime_error(std::string{"pipe: "} + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  reader_ = std::thread([fd = fds[0], on_line = std::move(on_line)] {
    FILE* in = fdopen(fd, "r");
    char* line = nullptr;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) > 0) {
      std::string text{line, size_t(n)};
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.pop_back();
      on_line(text);
    }
    free(line);
    fclose(in);
  });
}

service_process::~service_process() {
  if (!reaped_) {
    signal(SIGKILL);
    wait();
  }
  if (reader_.joinable())
    reader_.join();
}

void service_process::signal(int sig) {
  if (!reaped_)
    kill(pid_, sig);
}

int service_process::wait() {
  if (!reaped_) {
    int wstatus = 0;
    waitpid(pid_, &wstatus, 0);
    status_ = decode(wstatus);
    reaped_ = true;
  }
  if (reader_.joinable())
    reader_.join();
  return status_;
}

bool service_process::exited() {
  if (reaped_)
    return true;
  int wstatus = 0;
  if (waitpid(pid_, &wstatus, WNOHANG) == pid_) {
    status_ = decode(wstatus);
    reaped_ = true;
  }
  return reaped_;
}

} // namespace trading
