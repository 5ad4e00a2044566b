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

caf::error broker_connection::connect(const endpoint& ep) {
  // What middleman::remote_actor<broker_api>() does, but with a timeout: its
  // own request waits forever on a peer that accepts and never answers.
  caf::error err;
  auto mm = sys_.middleman().actor_handle();
  self_->request(mm, timeout_, caf::connect_atom::value, ep.host, ep.port)
    .receive(
      [&](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
        if (!ptr)
          err = caf::make_error(caf::sec::no_actor_published_at_port, ep.port);
        else if (!sys_.assignable<broker_api>(ifs))
          err = caf::make_error(caf::sec::unexpected_actor_messaging_interface);
        else
          broker_ = caf::actor_cast<broker_api>(std::move(ptr));
      },
      [&](caf::error& e) { err = std::move(e); });
  if (err == caf::sec::request_timeout)
    return make_error(errc::request_timed_out, "no handshake within "
                                                 + std::to_string(timeout_.count()) + " ms");
  if (!err) {
    address_ = ep;
    self_->monitor(broker_);
  }
  return err;
}

std::unique_ptr<broker_connection> broker_connection::open(const connection_options& opts,
                                                           std::string& why) {
  std::unique_ptr<broker_connection> conn{new broker_connection(opts)};
  for (const auto& ep : opts.bootstrap) {
    auto err = conn->connect(ep);
    if (!err)
      return conn;
    if (!why.empty())
      why += "; ";
    why += "cannot connect to " + to_string(ep) + ": " + render_error(err);
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

caf::error broker_connection::explain(caf::error err, std::chrono::milliseconds waited) {
  if (err != caf::sec::request_timeout && err != caf::sec::request_receiver_down)
    return err;
  // A dead peer shows only as a timeout; the monitor tells whether it died.
  self_->receive([&](caf::down_msg& dm) {
                   lost_ = make_error(errc::network_exception,
                                      "lost the connection to broker " + to_string(address_)
                                        + " (" + caf::to_string(dm.reason) + ")");
                 },
                 caf::after(std::chrono::seconds(0)) >> [] {});
  if (lost_)
    return lost_;
  if (err == caf::sec::request_receiver_down)
    return make_error(errc::network_exception, "broker " + to_string(address_) + " is gone");
  return make_error(errc::request_timed_out, "no reply from broker " + to_string(address_)
                                               + " within " + std::to_string(waited.count())
                                               + " ms");
}

} // namespace al::cli
