#include "runtime/cli/broker_connection.hpp"

#include <iostream>
#include <set>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

namespace al::cli {

void add_connection_options(cxxopts::Options& options) {
  options.add_options("connection")                                             //
    ("b,bootstrap", "broker address host:port (several: comma-separated, the "
                    "first that answers is used)",
     cxxopts::value<std::string>()->default_value(default_bootstrap))          //
    ("request-timeout-ms", "how long to wait for each reply",
     cxxopts::value<int>()->default_value(std::to_string(default_request_timeout_ms)));
}

result<connection_options> read_connection_options(const cxxopts::ParseResult& args) {
  connection_options out;
  auto eps = parse_bootstrap(args["bootstrap"].as<std::string>());
  if (!eps)
    return status{errc::invalid_request, "--bootstrap: " + eps.error().message()};
  out.bootstrap = std::move(*eps);
  auto timeout = args["request-timeout-ms"].as<int>();
  if (timeout <= 0)
    return status{errc::invalid_request, "--request-timeout-ms must be > 0"};
  out.request_timeout = std::chrono::milliseconds(timeout);
  return out;
}

int report_failure(const std::string& context, const std::string& why) {
  std::cout.flush();
  std::cerr << "actorlog: " << context << ": " << why << std::endl;
  return 1;
}

int report_usage_error(const std::string& context, const std::string& why) {
  std::cerr << "actorlog: " << context << ": " << why << " (try --help)" << std::endl;
  return 2;
}

std::string render_error(const caf::error& err) {
  if (!err)
    return "no error";
  if (err.category() == error_category)
    return describe_error(err);
  if (err.category() != caf::atom("system"))
    return caf::to_string(err);
  auto code = static_cast<caf::sec>(err.code());
  std::string what;
  switch (code) {
    case caf::sec::cannot_connect_to_node:
      what = "connection refused or host unreachable";
      break;
    case caf::sec::no_actor_published_at_port:
      what = "nothing is published at that port";
      break;
    case caf::sec::unexpected_actor_messaging_interface:
      what = "the actor at that port is not an actorlog broker (or another version)";
      break;
    case caf::sec::unexpected_message:
      what = "the broker does not understand this request (another version?)";
      break;
    case caf::sec::request_timeout:
      what = "no reply in time";
      break;
    case caf::sec::request_receiver_down:
      what = "the broker is gone";
      break;
    default:
      return caf::to_string(err);
  }
  return what + " (" + caf::to_string(code) + ")";
}

bool is_leader_change(const caf::error& err) {
  auto code = error_code_of(err);
  return code == errc::not_leader_or_follower || code == errc::leader_not_available;
}

actor_config& broker_connection::prepare(actor_config& cfg) {
  cfg.load<caf::io::middleman>();
  // A client mostly waits: no polling workers, and two threads are plenty.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads", 2);
  return cfg;
}

broker_connection::broker_connection(const connection_options& opts)
  : sys_(prepare(cfg_)), self_(sys_), timeout_(opts.request_timeout) {
  // nop
}

broker_connection::~broker_connection() = default;

caf::expected<client_api> broker_connection::dial(const endpoint& ep) {
  // What middleman::remote_actor<client_api>() does, but with a timeout: its
  // own request waits forever on a peer that accepts and never answers.
  caf::error err;
  client_api out;
  auto mm = sys_.middleman().actor_handle();
  self_->request(mm, timeout_, caf::connect_atom::value, ep.host, ep.port)
    .receive(
      [&](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
        if (!ptr)
          err = caf::make_error(caf::sec::no_actor_published_at_port, ep.port);
        else if (!sys_.assignable<client_api>(ifs))
          err = caf::make_error(caf::sec::unexpected_actor_messaging_interface);
        else
          out = caf::actor_cast<client_api>(std::move(ptr));
      },
      [&](caf::error& e) { err = std::move(e); });
  if (err == caf::sec::request_timeout)
    return make_error(errc::request_timed_out,
                      "no handshake within " + std::to_string(timeout_.count()) + " ms");
  if (err)
    return err;
  self_->monitor(out);
  names_[out.address()] = to_string(ep);
  return out;
}

std::unique_ptr<broker_connection> broker_connection::open(const connection_options& opts,
                                                           std::string& why) {
  std::unique_ptr<broker_connection> conn{new broker_connection(opts)};
  for (const auto& ep : opts.bootstrap) {
    auto b = conn->dial(ep);
    if (b) {
      conn->broker_ = std::move(*b);
      conn->address_ = ep;
      return conn;
    }
    if (!why.empty())
      why += "; ";
    why += "cannot connect to " + to_string(ep) + ": " + render_error(b.error());
  }
  return nullptr;
}

std::unique_ptr<broker_connection> connect_to_broker(const cxxopts::ParseResult& args,
                                                     const std::string& context,
                                                     int& exit_status) {
  auto opts = read_connection_options(args);
  if (!opts) {
    exit_status = report_usage_error(context, opts.error().message());
    return nullptr;
  }
  std::string why;
  auto conn = broker_connection::open(*opts, why);
  if (!conn) {
    std::cerr << "actorlog: " << why << std::endl;
    exit_status = 1;
  }
  return conn;
}

caf::expected<metadata_response>
broker_connection::learn_brokers(const std::vector<std::string>& topics) {
  auto md = request<metadata_response>(metadata_atom::value, metadata_request{topics});
  if (!md)
    return md.error();
  for (const auto& b : md->brokers)
    addresses_[b.id] = endpoint{b.host, b.port};
  if (md->responder_id >= 0) {
    bootstrap_id_ = md->responder_id;
  } else {
    for (const auto& [id, ep] : addresses_)
      if (ep.host == address_.host && ep.port == address_.port)
        bootstrap_id_ = id;
  }
  return md;
}

caf::expected<topic_description> broker_connection::topic_metadata(const std::string& topic) {
  auto md = learn_brokers({topic});
  if (!md)
    return md.error();
  for (auto& t : md->topics)
    if (t.name == topic && !t.partitions.empty())
      return std::move(t);
  return make_error(errc::unknown_topic_or_partition, "topic \"" + topic + "\" does not exist");
}

caf::expected<leader_map> broker_connection::partition_leaders(const std::string& topic) {
  auto t = topic_metadata(topic);
  if (!t)
    return t.error();
  leader_map out;
  for (const auto& p : t->partitions)
    out[p.partition] = p.leader;
  return out;
}

caf::expected<client_api> broker_connection::broker_for(int32_t id) {
  if (id < 0)
    return make_error(errc::leader_not_available, "no leader right now");
  if (id == bootstrap_id_)
    return broker_;
  if (auto i = brokers_.find(id); i != brokers_.end())
    return i->second;
  auto ep = addresses_.find(id);
  if (ep == addresses_.end())
    return make_error(errc::leader_not_available,
                      "no address known for broker " + std::to_string(id));
  auto b = dial(ep->second);
  if (!b)
    return make_error(errc::network_exception, "cannot connect to broker " + std::to_string(id)
                                                 + " at " + to_string(ep->second) + ": "
                                                 + render_error(b.error()));
  brokers_.emplace(id, *b);
  return b;
}

std::string broker_connection::name_of(const client_api& b) const {
  auto i = names_.find(b.address());
  return i != names_.end() ? i->second : std::string{"?"};
}

void broker_connection::collect_down_messages() {
  bool more = true;
  while (more)
    self_->receive([&](caf::down_msg& dm) { lost_[dm.source] = caf::to_string(dm.reason); },
                   caf::after(std::chrono::seconds(0)) >> [&] { more = false; });
}

caf::error broker_connection::lost_error(const client_api& b) const {
  auto i = lost_.find(b.address());
  if (i == lost_.end())
    return {};
  return make_error(errc::network_exception,
                    "lost the connection to broker " + name_of(b) + " (" + i->second + ")");
}

caf::error broker_connection::explain(caf::error err, std::chrono::milliseconds waited,
                                      const client_api& to) {
  if (err != caf::sec::request_timeout && err != caf::sec::request_receiver_down)
    return err;
  // A dead peer shows only as a timeout; the monitor tells whether it died.
  collect_down_messages();
  if (auto lost = lost_error(to))
    return lost;
  if (err == caf::sec::request_receiver_down)
    return make_error(errc::network_exception, "broker " + name_of(to) + " is gone");
  return make_error(errc::request_timed_out, "no reply from broker " + name_of(to) + " within "
                                               + std::to_string(waited.count()) + " ms");
}

} // namespace al::cli
