// position-service: the exactly-once position service of the trading
// example, one process (see service.hpp). trading-demo starts it, kills it
// with kill -9 while it holds an open transaction, and starts a
// replacement; it can also be run by hand against a cluster:
//
//   position-service --bootstrap 127.0.0.1:9101 --partitions 6
#include <csignal>
#include <iostream>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <cxxopts.hpp>
#include <spdlog/spdlog.h>

#include <actorlog/client.hpp>

#include "runtime/version_flag.hpp"
#include "service.hpp"

namespace {

std::atomic<bool> stop_requested{false};

void on_signal(int) { stop_requested = true; }

/// "0:12,1:40" -> {0: 12, 1: 40}
std::map<int32_t, int64_t> parse_offsets(const std::string& text) {
  std::map<int32_t, int64_t> out;
  size_t at = 0;
  while (at < text.size()) {
    auto comma = text.find(',', at);
    auto item = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    auto colon = item.find(':');
    if (colon == std::string::npos)
      throw std::invalid_argument("--output-start: '" + item + "' is not partition:offset");
    out[std::stoi(item.substr(0, colon))] = std::stoll(item.substr(colon + 1));
    if (comma == std::string::npos)
      break;
    at = comma + 1;
  }
  return out;
}

} // namespace

int main(int argc, char** argv) {
  if (al::print_version_if_asked(argc, argv, "position-service"))
    return 0;
  cxxopts::Options options(
    "position-service",
    "Exactly-once position service: reads orders (read_committed, group 'position'),\n"
    "writes net positions to 'positions' in transactions with the consumed offsets.\n"
    "Exit status: 0 after SIGTERM/SIGINT, 3 when a transaction failed (restart it),\n"
    "1 when it could not start, 2 on a usage error.");
  options.add_options()                                                                    //
    ("b,bootstrap", "brokers host:port[,host:port...]",
     cxxopts::value<std::string>()->default_value("127.0.0.1:9101"))                      //
    ("input", "topic of orders", cxxopts::value<std::string>()->default_value("orders"))  //
    ("output", "topic of positions", cxxopts::value<std::string>()->default_value("positions"))
    ("group", "consumer group whose offsets commit with the output",
     cxxopts::value<std::string>()->default_value("position"))                           //
    ("transactional-id", "transactional.id (one per service instance slot)",
     cxxopts::value<std::string>()->default_value("position-service"))                    //
    ("partitions", "partitions of the input topic", cxxopts::value<int32_t>()->default_value("6"))
    ("output-partitions", "partitions of the output topic (default: --partitions)",
     cxxopts::value<int32_t>())                                                          //
    ("output-start", "partition:offset,... where this run's positions begin (restore reads "
                     "from there; default 0)",
     cxxopts::value<std::string>()->default_value(""))                                   //
    ("max-poll-records", "records per poll, so per transaction",
     cxxopts::value<int32_t>()->default_value("200"))                                    //
    ("hold-open-after", "demo: after N committed orders, write one more transaction, print "
                        "HOLDING and wait (to be killed) without committing it; 0: never",
     cxxopts::value<int64_t>()->default_value("0"))                                      //
    ("log-level", "client log level (spdlog: trace..off)",
     cxxopts::value<std::string>()->default_value("warn"))                               //
    ("version", "print the version and exit")                                            //
    ("h,help", "show this help");
  trading::service_options o;
  try {
    auto args = options.parse(argc, argv);
    if (args.count("help")) {
      std::cout << options.help() << std::endl;
      return 0;
    }
    o.bootstrap = args["bootstrap"].as<std::string>();
    o.input = args["input"].as<std::string>();
    o.output = args["output"].as<std::string>();
    o.group = args["group"].as<std::string>();
    o.transactional_id = args["transactional-id"].as<std::string>();
    o.input_partitions = args["partitions"].as<int32_t>();
    o.output_partitions = args.count("output-partitions") ? args["output-partitions"].as<int32_t>()
                                                          : o.input_partitions;
    o.output_start = parse_offsets(args["output-start"].as<std::string>());
    o.max_poll_records = args["max-poll-records"].as<int32_t>();
    o.hold_open_after = args["hold-open-after"].as<int64_t>();
    spdlog::set_level(spdlog::level::from_str(args["log-level"].as<std::string>()));
    if (o.input_partitions < 1 || o.output_partitions < 1)
      throw std::invalid_argument("--partitions and --output-partitions must be at least 1");
    if (o.max_poll_records < 1)
      throw std::invalid_argument("--max-poll-records must be at least 1");
    if (o.hold_open_after < 0)
      throw std::invalid_argument("--hold-open-after must not be negative");
  } catch (const std::exception& e) {
    std::cerr << "position-service: " << e.what() << " (try --help)" << std::endl;
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  al::actor_config cfg;
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  return trading::run_position_service(sys, o, stop_requested);
}
