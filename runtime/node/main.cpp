// actorlog-node: runs one actorlog node from an INI config file.
#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <cxxopts.hpp>
#include <spdlog/spdlog.h>

#include "runtime/config/config_loader.hpp"
#include "runtime/config/config_schema.hpp"
#include "runtime/node/node.hpp"
#include "runtime/version_flag.hpp"

namespace {

spdlog::level::level_enum to_spdlog(al::config::severity s) {
  using al::config::severity;
  switch (s) {
    case severity::trace: return spdlog::level::trace;
    case severity::debug: return spdlog::level::debug;
    case severity::info: return spdlog::level::info;
    case severity::warn: return spdlog::level::warn;
    case severity::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

/// Raises the open-file soft limit to the hard limit (every partition
/// replica holds a few files open) and says what the node has to work with.
void raise_open_file_limit(int32_t max_broker_partitions) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    spdlog::warn("cannot read the open-file limit: {}", std::strerror(errno));
    return;
  }
  auto before = lim.rlim_cur;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
      spdlog::warn("cannot raise the open-file limit from {} to {}: {}", before, lim.rlim_max,
                   std::strerror(errno));
      lim.rlim_cur = before;
    }
  }
  spdlog::info("open-file limit {} (was {}, hard limit {})", lim.rlim_cur, before, lim.rlim_max);
  // A partition keeps one .log descriptor while in use; max.open.segment.files
  // bounds them (open_file_cache.hpp), so a low limit costs reopens, not
  // failures. Said here so a slow node can be explained.
  auto wanted = rlim_t(max_broker_partitions) + 256;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < wanted)
    spdlog::info("open-file limit {} is below max.broker.partitions={} + 256: segment files "
                 "beyond max.open.segment.files are closed and reopened as they are used",
                 lim.rlim_cur, max_broker_partitions);
}

} // namespace

int main(int argc, char** argv) {
  if (al::print_version_if_asked(argc, argv, "actorlog-node"))
    return 0;
  cxxopts::Options opts("actorlog-node", "Runs one actorlog node (broker and/or controller).");
  opts.add_options()
    ("c,config", "node config file (INI, Kafka key names)", cxxopts::value<std::string>())
    ("override", "set a config key, e.g. --override retention.ms=1000 (repeatable)",
     cxxopts::value<std::vector<std::string>>())
    ("dump-config", "print the effective config and exit")
    ("version", "print the version and exit")
    ("h,help", "show this help and every config key");
  cxxopts::ParseResult args;
  try {
    args = opts.parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "actorlog-node: " << e.what() << " (try --help)\n";
    return 2;
  }
  if (args.count("help")) {
    std::cout << opts.help() << "\nConfig keys:\n" << al::config::render_config_help();
    return 0;
  }
  if (!args.count("config")) {
    std::cerr << "actorlog-node: --config FILE is required (try --help)\n";
    return 2;
  }
  // cxxopts splits list values at commas; a piece without '=' belongs to
  // the previous override (controller.quorum.voters=1@h:1,2@h:2).
  std::vector<std::string> overrides;
  if (args.count("override"))
    for (auto& piece : args["override"].as<std::vector<std::string>>()) {
      if (!overrides.empty() && piece.find('=') == std::string::npos)
        overrides.back() += "," + piece;
      else
        overrides.push_back(piece);
    }
  auto cfg = al::config::load_node_config(args["config"].as<std::string>(), overrides);
  if (!cfg) {
    std::cerr << "actorlog-node: invalid config:\n" << cfg.error().message() << "\n";
    return 2;
  }
  if (args.count("dump-config")) {
    std::cout << al::config::to_ini(*cfg, true);
    return 0;
  }
  spdlog::set_level(to_spdlog(cfg->log_level));
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e [node " + std::to_string(cfg->node_id) +
                      "] %^%l%$ %v");
  // Block the stop signals in every thread (CAF's threads inherit the mask),
  // then wait for one here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  raise_open_file_limit(cfg->max_broker_partitions);
  auto n = al::node::start(*cfg);
  if (!n) {
    spdlog::critical("cannot start: {}", n.error().to_string());
    return 1;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("{} received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*n)->stop(); // every actor has run its exit: logs closed (fsynced), SQLite closed
  spdlog::shutdown();
  std::fflush(nullptr);
  // Leave without running ~actor_system. Nothing is left to save (stop()
  // waited for every actor), and CAF 0.17's teardown can wait forever in
  // await_detached_threads for a detached actor whose object another
  // reference (seen after remote peers exchanged handles) keeps alive: about
  // every second cluster shutdown hung there until SIGKILL.
  std::_Exit(0);
}
