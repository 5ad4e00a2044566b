#pragma once
// The frame every command that talks to a broker shares: parse argv (with
// the connection options and --help), connect, ask the bootstrap broker, and
// report each failure as one line on stderr, keeping the exit status to
// return. A command reads:
//
//   broker_command cmd{"topics delete"};
//   auto args = cmd.parse(options, argc, argv);
//   if (!args)
//     return cmd.exit_status();
//   auto res = cmd.ask<bool>(*args, delete_topic_atom::value, name);
//   if (!res)
//     return cmd.exit_status();
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <cxxopts.hpp>

#include "runtime/cli/broker_connection.hpp"

namespace al::cli {

class broker_command {
public:
  /// `context` names the command in messages: "actorlog: <context>: ...".
  explicit broker_command(std::string context) : context_(std::move(context)) {}

  const std::string& context() const { return context_; }

  /// 0 after --help or success so far, 1 after a failure, 2 after a usage error.
  int exit_status() const { return exit_status_; }

  /// Adds the connection options and --help to `options` and parses argv;
  /// nullopt after --help or a usage error.
  std::optional<cxxopts::ParseResult> parse(cxxopts::Options& options, int argc, char** argv);

  /// The connection to the broker at --bootstrap, opened on the first call;
  /// nullptr after reporting why there is none.
  broker_connection* connect(const cxxopts::ParseResult& args);

  /// Connects, sends `xs...` to the bootstrap broker and waits for its
  /// `Response` (--request-timeout-ms); nullopt after reporting the error.
  template <class Response, class... Ts>
  std::optional<Response> ask(const cxxopts::ParseResult& args, Ts&&... xs) {
    auto conn = connect(args);
    if (!conn)
      return std::nullopt;
    auto res = conn->request<Response>(std::forward<Ts>(xs)...);
    if (!res) {
      failure(res.error());
      return std::nullopt;
    }
    return std::move(*res);
  }

  /// "actorlog: <context>: <why>"; returns (and keeps) the exit status 1.
  int failure(const std::string& why);
  /// failure() with the error rendered for users (render_error).
  int failure(const caf::error& err);
  /// "actorlog: <context>: <why> (try --help)"; returns (and keeps) 2.
  int usage_error(const std::string& why);

private:
  std::string context_;
  int exit_status_ = 0;
  std::unique_ptr<broker_connection> conn_;
};

} // namespace al::cli
