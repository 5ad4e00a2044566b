// actorlog-chaos: process-level fault injection against a real 3-node
// cluster (configs/cluster-3). Starts the nodes as child processes, runs
// idempotent acks=all producers in this process, injects faults on a seeded
// schedule (kill -9, SIGSTOP, clean restart, kill of a partition leader,
// kill of the active controller), heals, reads every partition back and
// checks that no acknowledged record was lost, duplicated or reordered.
// --workload transactional runs transactional writers and a
// consume-transform-produce copier instead, with Jepsen-style checks.
// Exit status: 0 pass, 1 a check failed, 2 usage, 3 the cluster would not run.
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <cxxopts.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/actor_config.hpp"
#include "runtime/version_flag.hpp"
#include "tools/chaos/chaos_run.hpp"
#include "tools/chaos/txn_copier.hpp"

namespace fs = std::filesystem;

namespace {

/// The folder of this executable (/proc/self/exe), or "." if unknown.
std::string exe_dir() {
  char buf[PATH_MAX];
  auto n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    return ".";
  buf[n] = '\0';
  return fs::path{buf}.parent_path().string();
}

/// configs/cluster-3 next to the build tree (<repo>/build/runtime/ -> <repo>/configs),
/// else the source tree this binary was built from.
std::string default_config_dir(const std::string& bin_dir) {
  auto near = fs::path{bin_dir} / ".." / ".." / "configs" / "cluster-3";
  if (fs::exists(near / "node1.ini"))
    return fs::weakly_canonical(near).string();
  return std::string{ACTORLOG_SOURCE_DIR} + "/configs/cluster-3";
}

std::optional<chaos::run_options> parse(int argc, char** argv, int& rc) {
  cxxopts::Options options(
    "actorlog-chaos",
    "Fault injection against a real 3-node actorlog cluster (configs/cluster-3):\n"
    "starts the nodes, produces with idempotent acks=all producers, injects faults\n"
    "on a seeded schedule, heals, reads everything back and checks that no\n"
    "acknowledged record is lost, duplicated or out of order. Exit 0 = pass.");
  auto here = exe_dir();
  options.add_options()                                                                      //
    ("seed", "seed of the fault schedule (kinds, targets, pauses)",
     cxxopts::value<uint64_t>()->default_value("1"))                                         //
    ("duration-s", "seconds of fault injection",
     cxxopts::value<int>()->default_value("60"))                                             //
    ("faults", "fault kinds: kill,stop,restart,leader,controller,cut",
     cxxopts::value<std::string>()->default_value("kill,stop,restart,leader,controller,cut"))    //
    ("partitions", "partitions of the topic (RF 3, min.insync.replicas 2)",
     cxxopts::value<int32_t>()->default_value("3"))                                          //
    ("producers", "idempotent producers in this process",
     cxxopts::value<int>()->default_value("2"))                                              //
    ("keys", "keys per producer", cxxopts::value<int>()->default_value("8"))                 //
    ("rate", "records per second, all producers together",
     cxxopts::value<int>()->default_value("300"))                                            //
    ("workload", "idempotent, or transactional (writers in transactions, a read_committed "
     "copier with send_offsets_to_transaction)",
     cxxopts::value<std::string>()->default_value("idempotent"))                             //
    ("writers", "transactional: transactional producers",
     cxxopts::value<int>()->default_value("3"))                                              //
    ("txn-rate", "transactional: transactions per second, all writers together",
     cxxopts::value<int>()->default_value("15"))                                             //
    ("abort-every", "transactional: about one writer transaction in N is aborted on purpose",
     cxxopts::value<int>()->default_value("5"))                                              //
    ("zombie-every", "transactional: about one copier transaction in N, a new copier "
     "instance fences the running one mid-transaction, whose commit must then fail "
     "(0: never)",
     cxxopts::value<int>()->default_value("0"))                                              //
    ("mutate", "test only, transactional: break the copier (offsets-outside-txn, "
     "read-uncommitted) to show the checks catch it",
     cxxopts::value<std::string>()->default_value("none"))                                   //
    ("bin-dir", "folder with actorlog-node", cxxopts::value<std::string>()->default_value(here))
    ("config-dir", "folder with node1.ini..node3.ini (default: configs/cluster-3)",
     cxxopts::value<std::string>())                                                          //
    ("work-dir", "data and node logs (default: a new /tmp/actorlog-chaos.XXXXXX)",
     cxxopts::value<std::string>())                                                          //
    ("keep", "keep the work dir even when the run passes")                                   //
    ("json", "also print the result as one JSON line")                                       //
    ("log-level", "trace, debug, info, warn, error",
     cxxopts::value<std::string>()->default_value("info"))                                   //
    ("version", "print the version and exit")
    ("h,help", "show this help");
  try {
    auto args = options.parse(argc, argv);
    if (args.count("help")) {
      std::cout << options.help() << std::endl;
      rc = 0;
      return std::nullopt;
    }
    chaos::run_options o;
    o.seed = args["seed"].as<uint64_t>();
    o.duration_s = args["duration-s"].as<int>();
    o.partitions = args["partitions"].as<int32_t>();
    o.producers = args["producers"].as<int>();
    o.keys_per_producer = args["keys"].as<int>();
    o.records_per_s = args["rate"].as<int>();
    o.workload = args["workload"].as<std::string>();
    o.writers = args["writers"].as<int>();
    o.txns_per_s = args["txn-rate"].as<int>();
    o.abort_every = args["abort-every"].as<int>();
    o.zombie_every = args["zombie-every"].as<int>();
    if (o.zombie_every < 0)
      throw std::invalid_argument("--zombie-every must be 0 (never) or more");
    o.mutation = args["mutate"].as<std::string>();
    if (o.workload != "idempotent" && o.workload != "transactional")
      throw std::invalid_argument("--workload: \"" + o.workload +
                                  "\" is neither idempotent nor transactional");
    chaos::copier_mutation m;
    if (!chaos::parse_copier_mutation(o.mutation, m))
      throw std::invalid_argument("--mutate: unknown mutation \"" + o.mutation +
                                  "\" (none, offsets-outside-txn, read-uncommitted)");
    if (o.mutation != "none" && o.workload != "transactional")
      throw std::invalid_argument("--mutate needs --workload transactional");
    if (o.writers < 1 || o.txns_per_s < 1 || o.abort_every < 1)
      throw std::invalid_argument("--writers, --txn-rate and --abort-every must be at least 1");
    o.bin_dir = args["bin-dir"].as<std::string>();
    o.config_dir = args.count("config-dir") ? args["config-dir"].as<std::string>()
                                            : default_config_dir(o.bin_dir);
    if (args.count("work-dir"))
      o.work_dir = args["work-dir"].as<std::string>();
    o.keep = args.count("keep") > 0;
    o.json = args.count("json") > 0;
    std::string why;
    if (!chaos::parse_fault_kinds(args["faults"].as<std::string>(), o.kinds, why))
      throw std::invalid_argument("--faults: " + why);
    if (o.duration_s < 1 || o.partitions < 1 || o.producers < 1 || o.keys_per_producer < 1 ||
        o.records_per_s < 1)
      throw std::invalid_argument("--duration-s, --partitions, --producers, --keys and --rate "
                                  "must be at least 1");
    auto level = spdlog::level::from_str(args["log-level"].as<std::string>());
    if (level == spdlog::level::off && args["log-level"].as<std::string>() != "off")
      throw std::invalid_argument("--log-level: unknown level");
    spdlog::set_level(level);
    return o;
  } catch (const std::exception& e) {
    std::cerr << "actorlog-chaos: " << e.what() << " (try --help)" << std::endl;
    rc = 2;
    return std::nullopt;
  }
}

} // namespace

int main(int argc, char** argv) {
  if (al::print_version_if_asked(argc, argv, "actorlog-chaos"))
    return 0;
  spdlog::set_pattern("%H:%M:%S.%e [chaos] %^%l%$ %v");
  int rc = 0;
  auto opts = parse(argc, argv, rc);
  if (!opts)
    return rc;
  if (opts->work_dir.empty()) {
    char tmpl[] = "/tmp/actorlog-chaos.XXXXXX";
    if (!::mkdtemp(tmpl)) {
      std::cerr << "actorlog-chaos: cannot create a work dir in /tmp" << std::endl;
      return 3;
    }
    opts->work_dir = tmpl;
  } else {
    fs::create_directories(opts->work_dir);
  }
  al::actor_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.set("scheduler.max-threads", 2);
  // Detect a SIGSTOPped node's silence (CAF-0.17-NOTES §4).
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds(200)});
  cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(2)});
  int status = 3;
  {
    caf::actor_system sys{cfg};
    status = chaos::run(sys, *opts);
  }
  if (status == 0 && !opts->keep)
    fs::remove_all(opts->work_dir);
  else
    std::cerr << "actorlog-chaos: node logs and data kept in " << opts->work_dir << std::endl;
  return status;
}
