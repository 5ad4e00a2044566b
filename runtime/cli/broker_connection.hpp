#pragma once
// The client commands' link to the cluster: one actor system per command
// (al::actor_config + middleman), connected to the broker at --bootstrap
// for metadata and admin requests, and to partition leaders (found in the
// metadata, connected on first use) for data requests. Blocking requests
// always end: every request has a finite timeout, and a lost connection
// turns into NETWORK_EXCEPTION.
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <cxxopts.hpp>

#include "actors/broker/client_api.hpp"
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

/// Whether a data request failed because the partition's leader moved (or
/// is being elected): refresh the metadata and send it to the new leader.
bool is_leader_change(const caf::error& err);

/// partition -> leader's node id (-1: none right now).
using leader_map = std::map<int32_t, int32_t>;

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

  /// Sends `xs...` to the bootstrap broker and waits for its `Response` at
  /// most `timeout`.
  template <class Response, class... Ts>
  caf::expected<Response> request_within(std::chrono::milliseconds timeout, Ts&&... xs) {
    return request_to<Response>(broker_, timeout, std::forward<Ts>(xs)...);
  }

  /// request_within with the --request-timeout-ms.
  template <class Response, class... Ts>
  caf::expected<Response> request(Ts&&... xs) {
    return request_within<Response>(timeout_, std::forward<Ts>(xs)...);
  }

  /// Sends `xs...` to broker `to` and waits for its `Response` at most `timeout`.
  template <class Response, class... Ts>
  caf::expected<Response> request_to(const client_api& to, std::chrono::milliseconds timeout,
                                     Ts&&... xs) {
    if (auto lost = lost_error(to))
      return lost;
    caf::expected<Response> out{caf::sec::invalid_argument}; // always overwritten
    self_->request(to, timeout, std::forward<Ts>(xs)...)
      .receive([&](Response& r) { out = std::move(r); },
               [&](caf::error& err) { out = explain(std::move(err), timeout, to); });
    return out;
  }

  /// The topic's partitions and leaders from the bootstrap broker
  /// (UNKNOWN_TOPIC_OR_PARTITION if it has none); also learns where the
  /// brokers listen, for broker_for().
  caf::expected<topic_description> topic_metadata(const std::string& topic);

  /// Asks the bootstrap broker where the brokers listen (with the metadata
  /// of `topics`, which it returns), for broker_for().
  caf::expected<metadata_response> learn_brokers(const std::vector<std::string>& topics);

  /// partition -> leader of the topic, from topic_metadata().
  caf::expected<leader_map> partition_leaders(const std::string& topic);

  /// The broker with node id `id`, e.g. a partition's leader: the bootstrap
  /// broker itself, or a connection opened on first use to the address the
  /// last metadata gave. LEADER_NOT_AVAILABLE for id -1 or an unknown id.
  caf::expected<client_api> broker_for(int32_t id);

  /// For pipelined requests: issue several with self()->request(...),
  /// receive them in order, and pass errors through explain().
  caf::scoped_actor& self() { return self_; }
  /// The bootstrap broker.
  const client_api& broker() const { return broker_; }
  std::chrono::milliseconds request_timeout() const { return timeout_; }

  /// Makes a failed request's error say what happened: a timeout becomes
  /// REQUEST_TIMED_OUT naming the broker and the time waited, or
  /// NETWORK_EXCEPTION when the connection to that broker is gone.
  caf::error explain(caf::error err, std::chrono::milliseconds waited, const client_api& to);
  caf::error explain(caf::error err, std::chrono::milliseconds waited) {
    return explain(std::move(err), waited, broker_);
  }

private:
  broker_connection(const connection_options& opts);
  /// Connects to the broker at `ep` and monitors it.
  caf::expected<client_api> dial(const endpoint& ep);
  /// "host:port" of a connected broker.
  std::string name_of(const client_api& b) const;
  /// Takes the DOWN messages of lost brokers out of the mailbox.
  void collect_down_messages();
  /// NETWORK_EXCEPTION once `b` is known to be gone, else no error.
  caf::error lost_error(const client_api& b) const;

  static actor_config& prepare(actor_config& cfg);

  actor_config cfg_;
  caf::actor_system sys_;
  caf::scoped_actor self_;
  std::chrono::milliseconds timeout_;
  client_api broker_;                      ///< the bootstrap broker
  endpoint address_;                       ///< where broker_ listens
  int32_t bootstrap_id_ = -1;              ///< broker_'s node id, once metadata told
  std::map<int32_t, endpoint> addresses_;  ///< node id -> listener, from metadata
  std::map<int32_t, client_api> brokers_;  ///< node id -> connected broker
  std::map<caf::actor_addr, std::string> names_; ///< connected broker -> "host:port"
  std::map<caf::actor_addr, std::string> lost_;  ///< gone broker -> exit reason
};

/// A coordinator that is being created or loads: a command-line tool waits.
inline bool coordinator_loading(errc code) {
  return code == errc::coordinator_not_available || code == errc::coordinator_load_in_progress;
}

/// A coordinator request (groups, transactions) to broker `to`, retried
/// every 100 ms while the coordinator is being created or loads (bounded by
/// --request-timeout-ms): the request fails so, or `loading(answer)` says
/// the answer carries such an error (per item, as DescribeTransactions).
template <class Response, class Loading, class... Ts>
caf::expected<Response> request_while_answer_loading(broker_connection& conn,
                                                     const client_api& to, Loading loading,
                                                     Ts... xs) {
  auto deadline = std::chrono::steady_clock::now() + conn.request_timeout();
  for (;;) {
    auto r = conn.request_to<Response>(to, conn.request_timeout(), xs...);
    bool again = r ? loading(*r) : coordinator_loading(error_code_of(r.error()));
    if (!again || std::chrono::steady_clock::now() >= deadline)
      return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

/// The same for requests whose answer carries no error of its own.
template <class Response, class... Ts>
caf::expected<Response> request_while_loading(broker_connection& conn, const client_api& to,
                                              Ts... xs) {
  return request_while_answer_loading<Response>(
    conn, to, [](const Response&) { return false; }, xs...);
}

} // namespace al::cli
