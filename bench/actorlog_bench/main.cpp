// actorlog-bench: produce / consume / end-to-end latency figures of a
// running actorlog, with the real clients, in-process and from another
// process. Prints a live progress line on stderr, a table per scenario on
// stdout, and (--json) every figure as JSON.
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <cxxopts.hpp>
#include <spdlog/spdlog.h>

#include "bench/actorlog_bench/report.hpp"
#include "bench/actorlog_bench/scenarios.hpp"
#include "bench/actorlog_bench/target.hpp"
#include "runtime/version_flag.hpp"

using namespace al;
using namespace al::bench;
namespace fs = std::filesystem;

namespace {

template <class T>
std::vector<T> parse_list(const std::string& text, const std::string& option) {
  std::vector<T> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty())
      continue;
    if constexpr (std::is_same_v<T, std::string>) {
      out.push_back(item);
    } else {
      std::size_t used = 0;
      long long v = 0;
      try {
        v = std::stoll(item, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != item.size() || v <= 0)
        throw std::invalid_argument("--" + option + ": \"" + item + "\" is not a positive number");
      out.push_back(T(v));
    }
  }
  if (out.empty())
    throw std::invalid_argument("--" + option + " is empty");
  return out;
}

std::string default_node_binary() {
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec)
    return "actorlog-node";
  // build/bench/actorlog-bench -> build/runtime/actorlog-node
  return (self.parent_path().parent_path() / "runtime" / "actorlog-node").string();
}

/// The 1-minute load average now (stored with every row: this machine is shared).
double load1() {
  double v = 0;
  std::ifstream("/proc/loadavg") >> v;
  return v;
}

std::string now_text() {
  auto t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", std::localtime(&t));
  return buf;
}

} // namespace

int main(int argc, char** argv) {
  if (al::print_version_if_asked(argc, argv, "actorlog-bench"))
    return 0;
  cxxopts::Options opts(
    "actorlog-bench",
    "Measures actorlog with its real clients: produce (records/s, MB/s by record size, acks and\n"
    "partitions), consume (page cache hot and cold) and end-to-end latency at a fixed rate, with\n"
    "the client in the node's process (inproc) or in this process talking TCP to actorlog-node\n"
    "(remote), or a librdkafka client through the node's Kafka listener (kafka). Scenarios:\n"
    "produce, consume, latency, all (default).\n");
  opts.positional_help("[scenario...]");
  // clang-format off
  opts.add_options()
    ("scenario", "produce | consume | latency | all", cxxopts::value<std::vector<std::string>>())
    ("client", "inproc, remote, kafka (comma-separated; kafka = librdkafka against an actorlog-node child process, or with --cluster against the three nodes; --cluster takes remote and kafka, remote = the CAF client)", cxxopts::value<std::string>()->default_value("inproc,remote"))
    ("cluster", "three actorlog-node processes from --cluster-config-dir, topics with replication factor 3 and min.insync.replicas 2")
    ("cluster-config-dir", "--cluster: folder with node1.ini .. node3.ini", cxxopts::value<std::string>()->default_value("configs/cluster-3"))
    ("replication-factor", "replication factor of the bench's topics (default: 1, --cluster 3)", cxxopts::value<int32_t>()->default_value("0"))
    ("min-insync-replicas", "--cluster: min.insync.replicas of the bench's topics", cxxopts::value<int32_t>()->default_value("2"))
    ("sizes", "record value sizes in bytes", cxxopts::value<std::string>()->default_value("100,1024"))
    ("acks", "produce: acks values", cxxopts::value<std::string>()->default_value("0,1,all"))
    ("partitions", "produce: partition counts", cxxopts::value<std::string>()->default_value("1,4"))
    ("transactions", "produce, and consume's load: transaction modes, comma-separated: off (idempotent or plain), <N>ms (a transactional producer committing every N ms), <N>rec (every N records); with acks=all", cxxopts::value<std::string>()->default_value("off"))
    ("isolation-level", "consume: isolation.level of the reads, comma-separated: read_uncommitted, read_committed (each read once per level, beside each other)", cxxopts::value<std::string>()->default_value("read_uncommitted"))
    ("keys", "produce: distinct record keys, spread by the default partitioner over every partition (0 = null keys, sticky partitioning)", cxxopts::value<uint64_t>()->default_value("0"))
    ("mib", "produce: MiB of values per run", cxxopts::value<double>()->default_value("200"))
    ("records", "produce: records per run (overrides --mib)", cxxopts::value<uint64_t>())
    ("repeat", "produce, consume (hot): runs per case, the best is reported", cxxopts::value<int>()->default_value("1"))
    ("consume-mib", "consume: MiB of values to load and read", cxxopts::value<double>()->default_value("200"))
    ("consume-partitions", "consume: partitions", cxxopts::value<int32_t>()->default_value("1"))
    ("no-cold", "consume: skip the cold-cache read (node restart)")
    ("rate", "latency: offered records/s", cxxopts::value<std::string>()->default_value("50000"))
    ("latency-seconds", "latency: seconds at the offered rate", cxxopts::value<double>()->default_value("10"))
    ("latency-acks", "latency: acks", cxxopts::value<std::string>()->default_value("1"))
    ("latency-size", "latency: record size", cxxopts::value<size_t>()->default_value("100"))
    ("latency-partitions", "latency: partitions of the topic, every one assigned to the consumer (its fetches long-poll across all of them)", cxxopts::value<int32_t>()->default_value("1"))
    ("max-seconds", "bound on any one run", cxxopts::value<double>()->default_value("60"))
    ("linger-ms", "producer linger.ms", cxxopts::value<int64_t>()->default_value("5"))
    ("batch-size", "producer batch.size", cxxopts::value<int32_t>()->default_value("16384"))
    ("max-in-flight", "producer max.in.flight.requests.per.connection", cxxopts::value<int32_t>()->default_value("5"))
    ("buffer-mib", "unacknowledged MiB the producer may hold (Kafka buffer.memory)", cxxopts::value<double>()->default_value("32"))
    ("max-poll-records", "consumer max.poll.records", cxxopts::value<int32_t>()->default_value("500"))
    ("kafka-set", "--client kafka: librdkafka property key=value for its producer and consumer (repeatable; one value per option, a comma splits it), e.g. fetch.wait.max.ms=10", cxxopts::value<std::vector<std::string>>())
    ("config", "node config file", cxxopts::value<std::string>()->default_value("configs/single/node.ini"))
    ("override", "node config key=value (repeatable)", cxxopts::value<std::vector<std::string>>())
    ("node-binary", "actorlog-node for --client remote and --cluster", cxxopts::value<std::string>()->default_value(default_node_binary()))
    ("data-dir", "where the nodes keep their data (removed at the end)", cxxopts::value<std::string>()->default_value("/tmp/actorlog-bench-" + std::to_string(::getpid())))
    ("keep-data", "do not remove --data-dir at the end")
    ("json", "also write every figure as JSON to FILE (- = stdout)", cxxopts::value<std::string>())
    ("no-progress", "no live progress line on stderr")
    ("version", "print the version and exit")
    ("h,help", "show this help");
  // clang-format on
  opts.parse_positional({"scenario"});
  cxxopts::ParseResult args;
  std::set<std::string> scenarios;
  // (target, kafka client?) in the order measured.
  std::vector<std::pair<target_kind, bool>> kinds;
  std::vector<size_t> sizes;
  std::vector<std::string> acks;
  std::vector<int32_t> partitions;
  std::vector<txn_mode> txn_modes;
  std::vector<std::string> isolation_levels;
  std::vector<double> rates;
  try {
    args = opts.parse(argc, argv);
    if (args.count("help")) {
      std::cout << opts.help() << "\nExamples:\n"
                << "  actorlog-bench produce --client inproc --sizes 100 --acks 1 --partitions 1\n"
                << "  actorlog-bench latency --client remote --rate 50000 --latency-seconds 20\n"
                << "  actorlog-bench produce --cluster --acks 1,all --partitions 1,4   # RF=3\n"
                << "  actorlog-bench produce --client remote --acks all --transactions off,100ms,1000rec\n"
                << "  actorlog-bench consume --client remote --transactions 1000rec \\\n"
                << "      --isolation-level read_committed,read_uncommitted\n"
                << "  actorlog-bench latency --cluster --latency-acks all --rate 50000\n"
                << "  actorlog-bench produce --client remote,kafka --sizes 100 --acks 1\n"
                << "  actorlog-bench latency --cluster --client kafka --linger-ms 0\n"
                << "  actorlog-bench --json results.json      # everything, both clients\n";
      return 0;
    }
    if (args.count("scenario"))
      for (auto& s : args["scenario"].as<std::vector<std::string>>())
        scenarios.insert(s);
    if (scenarios.empty() || scenarios.count("all"))
      scenarios = {"produce", "consume", "latency"};
    for (auto& s : scenarios)
      if (s != "produce" && s != "consume" && s != "latency")
        throw std::invalid_argument("unknown scenario \"" + s + "\"");
    if (args.count("cluster")) {
      if (!args.count("client")) {
        kinds = {{target_kind::cluster, false}};
      } else {
        for (auto& k : parse_list<std::string>(args["client"].as<std::string>(), "client")) {
          if (k == "remote" || k == "cluster")
            kinds.push_back({target_kind::cluster, false});
          else if (k == "kafka")
            kinds.push_back({target_kind::cluster, true});
          else
            throw std::invalid_argument("--cluster --client: \"" + k + "\" is not remote or kafka");
        }
      }
    } else {
      for (auto& k : parse_list<std::string>(args["client"].as<std::string>(), "client")) {
        if (k == "inproc")
          kinds.push_back({target_kind::in_process, false});
        else if (k == "remote")
          kinds.push_back({target_kind::remote, false});
        else if (k == "kafka")
          kinds.push_back({target_kind::remote, true});
        else
          throw std::invalid_argument("--client: \"" + k + "\" is not inproc, remote or kafka");
      }
    }
#ifndef AL_BENCH_HAVE_RDKAFKA
    for (auto& k : kinds)
      if (k.second)
        throw std::invalid_argument("--client kafka: this actorlog-bench was built without "
                                    "librdkafka (install librdkafka-dev and rebuild)");
#endif
    sizes = parse_list<size_t>(args["sizes"].as<std::string>(), "sizes");
    acks = parse_list<std::string>(args["acks"].as<std::string>(), "acks");
    for (auto& a : acks)
      if (a != "0" && a != "1" && a != "all" && a != "-1")
        throw std::invalid_argument("--acks: \"" + a + "\" is not 0, 1 or all");
    partitions = parse_list<int32_t>(args["partitions"].as<std::string>(), "partitions");
    for (auto& m : parse_list<std::string>(args["transactions"].as<std::string>(), "transactions")) {
      auto number = [&](size_t suffix) {
        auto n = std::stoll(m.substr(0, m.size() - suffix));
        if (n <= 0)
          throw std::invalid_argument("--transactions: \"" + m + "\" must be positive");
        return n;
      };
      if (m == "off")
        txn_modes.push_back({});
      else if (m.size() > 2 && m.compare(m.size() - 2, 2, "ms") == 0)
        txn_modes.push_back({number(2), 0});
      else if (m.size() > 3 && m.compare(m.size() - 3, 3, "rec") == 0)
        txn_modes.push_back({0, uint64_t(number(3))});
      else
        throw std::invalid_argument("--transactions: \"" + m + "\" is not off, <N>ms or <N>rec");
    }
    isolation_levels = parse_list<std::string>(args["isolation-level"].as<std::string>(),
                                               "isolation-level");
    for (auto& l : isolation_levels)
      if (l != "read_uncommitted" && l != "read_committed")
        throw std::invalid_argument("--isolation-level: \"" + l +
                                    "\" is not read_uncommitted or read_committed");
    for (auto r : parse_list<int64_t>(args["rate"].as<std::string>(), "rate"))
      rates.push_back(double(r));
  } catch (const std::exception& e) {
    std::cerr << "actorlog-bench: " << e.what() << " (try --help)\n";
    return 2;
  }

  spdlog::set_level(spdlog::level::warn); // the in-process node's info lines would break the table
  client_settings cs;
  cs.linger_ms = args["linger-ms"].as<int64_t>();
  cs.batch_size = args["batch-size"].as<int32_t>();
  cs.max_in_flight = args["max-in-flight"].as<int32_t>();
  cs.max_poll_records = args["max-poll-records"].as<int32_t>();
  cs.buffer_bytes = int64_t(args["buffer-mib"].as<double>() * (1 << 20));
  if (args.count("kafka-set"))
    for (auto& kv : args["kafka-set"].as<std::vector<std::string>>()) {
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::cerr << "actorlog-bench: --kafka-set \"" << kv << "\" is not key=value\n";
        return 2;
      }
      cs.kafka_extra.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
  const double max_seconds = args["max-seconds"].as<double>();
  const int repeat = std::max(1, args["repeat"].as<int>());
  progress_line pl(!args.count("no-progress") && ::isatty(2));

  run_info info;
  for (int i = 0; i < argc; ++i)
    info.command += (i ? " " : "") + std::string(argv[i]);
  info.started = now_text();
  info.host = describe_host();
  info.load_before = read_loadavg();
#ifdef NDEBUG
  info.build = "optimised (NDEBUG)";
#else
  info.build = "debug (assertions on)";
#endif

  target_options to;
  to.config_path = args["config"].as<std::string>();
  to.cluster_config_dir = args["cluster-config-dir"].as<std::string>();
  to.replication_factor = args["replication-factor"].as<int32_t>();
  to.min_insync_replicas = args["min-insync-replicas"].as<int32_t>();
  to.node_binary = args["node-binary"].as<std::string>();
  to.data_dir = args["data-dir"].as<std::string>();
  if (args.count("override"))
    to.overrides = args["override"].as<std::vector<std::string>>();

  std::vector<row> rows;
  int exit_code = 0;
#ifdef AL_BENCH_HAVE_RDKAFKA
  auto produce_fn = [](bool kafka) { return kafka ? run_kafka_produce : run_produce; };
  auto consume_fn = [](bool kafka) { return kafka ? run_kafka_consume : run_consume; };
  auto latency_fn = [](bool kafka) { return kafka ? run_kafka_latency : run_latency; };
#else
  auto produce_fn = [](bool) { return run_produce; };
  auto consume_fn = [](bool) { return run_consume; };
  auto latency_fn = [](bool) { return run_latency; };
#endif
  for (auto [kind, kafka] : kinds) {
    to.kind = kind;
    auto t = target::start(to);
    if (!t) {
      std::cerr << "actorlog-bench: cannot start the " << to_string(kind)
                << " target: " << t.error().to_string() << "\n";
      exit_code = 1;
      continue;
    }
    std::cerr << "target: " << (*t)->describe() << (kafka ? ", client librdkafka " : "")
              << (kafka ? (*t)->kafka_bootstrap() : "") << "\n";
    if (scenarios.count("produce")) {
      for (auto size : sizes)
        for (auto& a : acks)
          for (auto p : partitions)
          for (auto& mode : txn_modes) {
            produce_case c;
            c.record_size = size;
            c.acks = a == "-1" ? "all" : a;
            c.partitions = p;
            c.txn = mode;
            if (c.transactional() && kafka) {
              std::cerr << "actorlog-bench: --transactions: the kafka client runs without them\n";
              continue;
            }
            if (c.transactional() && c.acks != "all") {
              std::cerr << "actorlog-bench: --transactions " << mode.describe()
                        << " needs acks=all; skipped for acks=" << c.acks << "\n";
              continue;
            }
            c.keys = args["keys"].as<uint64_t>();
            c.records = args.count("records")
                          ? args["records"].as<uint64_t>()
                          : uint64_t(args["mib"].as<double>() * (1 << 20) / double(size));
            c.max_seconds = max_seconds;
            row best;
            for (int i = 0; i < repeat; ++i) {
              auto r = produce_fn(kafka)(**t, c, cs, pl);
              if (i == 0 || r.get("rec/s") > best.get("rec/s"))
                best = r;
            }
            if (repeat > 1)
              best.figure("runs", repeat);
            rows.push_back(best.figure("load1", load1()));
          }
    }
    if (scenarios.count("consume")) {
      for (auto size : sizes)
        for (auto& mode : txn_modes) {
          consume_case c;
          c.record_size = size;
          c.partitions = args["consume-partitions"].as<int32_t>();
          c.records = uint64_t(args["consume-mib"].as<double>() * (1 << 20) / double(size));
          c.cold = !args.count("no-cold");
          c.repeat = repeat;
          c.max_seconds = max_seconds;
          c.txn = mode;
          c.isolation_levels = isolation_levels;
          if (kafka && c.labels_isolation()) {
            std::cerr << "actorlog-bench: consume --transactions/--isolation-level: the kafka "
                         "client runs without them (--kafka-set isolation.level=...)\n";
            continue;
          }
          for (auto& r : consume_fn(kafka)(**t, c, cs, pl))
            rows.push_back(r.figure("load1", load1()));
        }
    }
    if (scenarios.count("latency")) {
      for (auto rate : rates) {
        latency_case c;
        c.record_size = args["latency-size"].as<size_t>();
        c.acks = args["latency-acks"].as<std::string>();
        c.rate = rate;
        c.partitions = args["latency-partitions"].as<int32_t>();
        c.seconds = std::min(args["latency-seconds"].as<double>(), max_seconds);
        rows.push_back(latency_fn(kafka)(**t, c, cs, pl).figure("load1", load1()));
      }
    }
    t->reset();
  }
  info.load_after = read_loadavg();
  if (!args.count("keep-data")) {
    std::error_code ec;
    fs::remove_all(to.data_dir, ec);
  }

  std::cout << "actorlog-bench  " << info.started << "\n"
            << "host: " << info.host << "\nbuild: " << info.build << "\nload before: "
            << info.load_before << "   after: " << info.load_after << "\n"
            << "MB/s counts record values only (10^6 bytes); rates are records acknowledged "
               "(acks=0: in the log) per second\n";
  print_tables(std::cout, rows);
  if (args.count("json")) {
    auto path = args["json"].as<std::string>();
    if (path == "-") {
      write_json(std::cout, info, rows);
    } else {
      std::ofstream out(path);
      write_json(out, info, rows);
      if (!out) {
        std::cerr << "actorlog-bench: cannot write " << path << "\n";
        exit_code = 1;
      }
    }
  }
  for (auto& r : rows)
    if (!r.note.empty() && r.note.find("failed") != std::string::npos)
      exit_code = 1;
  return exit_code;
}
