#pragma once
// The client commands' link to a broker: one actor system per command
// (al::actor_config + middleman), connected to the broker at --bootstrap,
// and blocking requests that always end: every request has a finite
// timeout, and a lost connection turns into NETWORK_EXCEPTION.
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include <caf/all.hpp>
#include <cxxopts.hpp>

#include "actors/broker/broker_api.hpp"
#include "actors/protocol/actor_config.hpp"
#include "actors/protocol/errors.hpp"
#include "runtime/cli/cli_args.hpp"

namespace al::cli {

/// Kafka's request.timeout.ms default.
constexpr int default_request_timeout_ms = 30000;

/// Adds --bootstrap and --request-timeout-ms to a command's options.
void add_connection_options(cxxopts::Options& options);

struct connection_options {
  std::vector<endpoint> bootstrap;
  std::chrono::milliseconds request_timeout{default_request_timeout_ms};
};

/// Reads the options added by add_connection_options.
result<connection_options> read_connection_options(const cxxopts::ParseResult& args);

/// Prints "actorlog: <context>: <why>" as one line on stderr; returns the
/// exit status 1.
int report_failure(const std::string& context, const std::string& why);

/// A usage error: "actorlog: <context>: <why> (try --help)"; returns 2.
int report_usage_error(const std::string& context, const std::string& why);

class broker_connection;

/// For commands: reads the connection options and connects. On failure
/// returns nullptr with `exit_status` set after reporting one line: 2 for
/// a bad option ("actorlog: <context>: ..."), 1 when no broker answered
/// ("actorlog: cannot connect to 127.0.0.1:9101: ...").
std::unique_ptr<broker_connection> connect_to_broker(const cxxopts::ParseResult& args,
                                                     const std::string& context,
                                                     int& exit_status);

/// One line for users: actorlog errors as "CODE: context", CAF's own errors
/// in plain words with CAF's name in parentheses.
std::string render_error(const caf::error& err);

class broker_connection {
public:
  /// Connects to the first bootstrap address with an actorlog broker.
  /// On failure returns nullptr and sets `why` to one line, e.g.
  /// "cannot connect to 127.0.0.1:9101: connection refused (...)".
  static std::unique_ptr<broker_connection> open(const connection_options& opts,
                                                 std::string& why);

  broker_connection(const broker_connection&) = delete;
  broker_connection& operator=(const broker_connection&) = delete;
  ~broker_connection();

  /// Sends `xs...` to the broker and waits for its `Response` at most
  /// `timeout`.
  template <class Response, class... Ts>
  caf::expected<Response> request_within(std::chrono::milliseconds timeout, Ts&&... xs) {
    if (lost_)
      return lost_;
    caf::expected<Response> out{caf::sec::invalid_argument}; // always overwritten
    self_->request(broker_, timeout, std::forward<Ts>(xs)...)
      .receive([&](Response& r) { out = std::move(r); },
               [&](caf::error& err) { out = explain(std::move(err), timeout); });
    return out;
  }

  /// request_within with the --request-timeout-ms.
  template <class Response, class... Ts>
  caf::expected<Response> request(Ts&&... xs) {
    return request_within<Response>(timeout_, std::forward<Ts>(xs)...);
  }

  /// For pipelined requests: issue several with self()->request(broker(),
  /// ...), receive them in order, and pass errors through explain().
  caf::scoped_actor& self() { return self_; }
  const broker_api& broker() const { return broker_; }
  const endpoint& address() const { return address_; }
  std::chrono::milliseconds request_timeout() const { return timeout_; }

  /// Makes a failed request's error say what happened: a timeout becomes
  /// REQUEST_TIMED_OUT naming the broker and the time waited, or
  /// NETWORK_EXCEPTION when the connection to the broker is gone.
  caf::error explain(caf::error err, std::chrono::milliseconds waited);

private:
  broker_connection(const connection_options& opts);
  caf::error connect(const endpoint& ep);

  static actor_config& prepare(actor_config& cfg);

  actor_config cfg_;
  caf::actor_system sys_;
  caf::scoped_actor self_;
  broker_api broker_;
  endpoint address_;
  std::chrono::milliseconds timeout_;
  caf::error lost_; ///< set once the broker's connection is known to be gone
};

} // namespace al::cli
