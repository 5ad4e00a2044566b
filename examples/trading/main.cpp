// trading-demo: actorlog embedded the way a user would. An order service
// produces BUY/SELL orders keyed by symbol; four consumer groups read them
// independently: risk, audit and reporting in this process, position in an
// exactly-once service process of its own (position-service, supervised
// from here, killed mid-transaction and replaced).
// It shows per-symbol ordering, independent offsets per group, replay from
// an earlier offset, and a crashed member's partitions resuming at the
// committed offsets (at-least-once, nothing lost). Exit status 0 only when
// every check passed.
#include <filesystem>
#include <iostream>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <cxxopts.hpp>
#include <spdlog/spdlog.h>

#include <actorlog/client.hpp>

#include "runtime/version_flag.hpp"
#include "summary.hpp"

namespace {

using namespace trading;

struct demo_options {
  std::string bootstrap;
  topic_spec topic;
  int64_t orders = 0;
  uint64_t seed = 0;
  int64_t rate = 0;
  int timeout_s = 0;
  verify_options verify;
  std::string position_service; // the binary; empty: next to trading-demo
  bool kill_position_service = true;
};

/// position-service next to this program (both are built in one directory).
std::string beside_this_program(const std::string& name) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? name : (self.parent_path() / name).string();
}

/// nullopt after --help or a usage error (`rc` says which).
std::optional<demo_options> parse_options(int argc, char** argv, int& rc) {
  cxxopts::Options options("trading-demo",
                           "An order service and four consumer groups (risk, position, audit, "
                           "reporting)\nin one process, against a running actorlog cluster.");
  options.add_options()                                                                    //
    ("b,bootstrap", "brokers host:port[,host:port...]",
     cxxopts::value<std::string>()->default_value("127.0.0.1:9101"))                      //
    ("orders", "orders to produce (at least 20)",
     cxxopts::value<int64_t>()->default_value("10000"))                                    //
    ("topic", "topic (created if missing)", cxxopts::value<std::string>()->default_value("orders"))
    ("partitions", "partitions when creating the topic",
     cxxopts::value<int32_t>()->default_value("6"))                                        //
    ("replication-factor", "replicas when creating the topic",
     cxxopts::value<int32_t>()->default_value("1"))                                        //
    ("seed", "seed of the order generator", cxxopts::value<uint64_t>()->default_value("7"))
    ("rate", "orders per second (0: as fast as possible)",
     cxxopts::value<int64_t>()->default_value("0"))                                        //
    ("timeout-s", "give up waiting for the groups after this many seconds",
     cxxopts::value<int>()->default_value("120"))                                          //
    ("tolerate-redelivery", "redeliveries outside audit's crash do not fail the run "
                            "(leader or coordinator moves during fault injection)")        //
    ("position-service", "the position-service binary (default: beside trading-demo)",
     cxxopts::value<std::string>()->default_value(""))                                     //
    ("no-position-kill", "do not kill the position service mid-transaction")             //
    ("log-level", "client log level (spdlog: trace..off)",
     cxxopts::value<std::string>()->default_value("warn"))                                 //
    ("version", "print the version and exit")
    ("h,help", "show this help");
  try {
    auto args = options.parse(argc, argv);
    if (args.count("help")) {
      std::cout << options.help() << std::endl;
      rc = 0;
      return std::nullopt;
    }
    demo_options o;
    o.bootstrap = args["bootstrap"].as<std::string>();
    o.topic = {args["topic"].as<std::string>(), args["partitions"].as<int32_t>(),
               args["replication-factor"].as<int32_t>()};
    o.orders = args["orders"].as<int64_t>();
    o.seed = args["seed"].as<uint64_t>();
    o.rate = args["rate"].as<int64_t>();
    o.timeout_s = args["timeout-s"].as<int>();
    o.verify.tolerate_redelivery = args.count("tolerate-redelivery") > 0;
    o.position_service = args["position-service"].as<std::string>();
    if (o.position_service.empty())
      o.position_service = beside_this_program("position-service");
    o.kill_position_service = args.count("no-position-kill") == 0;
    spdlog::set_level(spdlog::level::from_str(args["log-level"].as<std::string>()));
    std::string bad;
    if (o.orders < 20)
      bad = "--orders must be at least 20";
    else if (o.topic.partitions < 1 || o.topic.replication_factor < 1)
      bad = "--partitions and --replication-factor must be at least 1";
    else if (o.rate < 0)
      bad = "--rate must not be negative";
    else if (o.timeout_s < 1)
      bad = "--timeout-s must be at least 1";
    if (!bad.empty())
      throw std::invalid_argument(bad);
    return o;
  } catch (const std::exception& e) {
    std::cerr << "trading-demo: " << e.what() << " (try --help)" << std::endl;
    rc = 2;
    return std::nullopt;
  }
}

int fail(const std::string& what, const al::status& st) {
  std::cerr << "trading-demo: " << what << ": " << st.to_string() << std::endl;
  return 1;
}

int run(caf::actor_system& sys, const demo_options& opts) {
  auto admin = cluster_admin::connect(sys, opts.bootstrap);
  if (!admin)
    return fail("connect", admin.error());
  bool created = false;
  auto partitions = (*admin)->ensure_topic(opts.topic, created);
  if (!partitions)
    return fail("topic", partitions.error());
  std::cout << "== topic " << opts.topic.name << ": " << (created ? "created" : "exists") << ", "
            << partitions->size() << " partitions" << std::endl;
  // The position service's output, read back at the end from this run's
  // first offsets.
  topic_spec out_spec{"positions", opts.topic.partitions, opts.topic.replication_factor};
  auto out_partitions = (*admin)->ensure_topic(out_spec, created);
  if (!out_partitions)
    return fail("topic positions", out_partitions.error());
  auto out_start = (*admin)->end_offsets(out_spec.name, *out_partitions);
  if (!out_start)
    return fail("end offsets of positions", out_start.error());
  // This run's orders start at the current end offsets; every group starts
  // there too (an OffsetCommit, as `actorlog groups reset-offsets` does).
  auto start = (*admin)->end_offsets(opts.topic.name, *partitions);
  if (!start)
    return fail("end offsets", start.error());
  for (auto group : {"risk", "position", "audit", "reporting"})
    if (auto st = (*admin)->reset_group(group, opts.topic.name, *start); !st)
      return fail("group offsets", st);
  demo_context ctx{sys, **admin, opts.topic.name, *partitions, *start, opts.orders,
                   std::chrono::seconds(opts.timeout_s)};
  std::cout << "== four consumer groups join, the order service sends " << opts.orders
            << " orders keyed by symbol" << std::endl;
  risk_group risk{ctx};
  position_group position{ctx, {opts.position_service, out_spec.name,
                                int32_t(out_partitions->size()), *out_start,
                                opts.kill_position_service}};
  audit_group audit{ctx};
  reporting_group reporting{ctx};
  for (trading_group* g : std::initializer_list<trading_group*>{&risk, &position, &audit,
                                                                &reporting})
    g->start();
  auto prod = produce_orders(sys, {opts.bootstrap, opts.topic.name, opts.orders, opts.seed, opts.rate});
  ctx.say("orders", std::to_string(prod.acked_count) + " acknowledged, " +
                      std::to_string(prod.failed_sends) + " failed, in " +
                      std::to_string(prod.seconds).substr(0, 4) + " s");
  auto end = (*admin)->end_offsets(opts.topic.name, *partitions);
  if (!end)
    return fail("end offsets", end.error());
  ctx.set_end(*end);
  for (trading_group* g : std::initializer_list<trading_group*>{&risk, &position, &audit,
                                                                &reporting})
    g->finish();
  summary_input in;
  in.ctx = &ctx;
  in.replication_factor = opts.topic.replication_factor;
  in.production = &prod;
  in.risk = &risk;
  in.position = &position;
  in.audit = &audit;
  in.reporting = &reporting;
  for (auto group : {"risk", "position", "audit", "reporting"}) {
    auto c = (*admin)->committed(group, opts.topic.name, *partitions);
    if (!c)
      return fail("committed offsets of " + std::string{group}, c.error());
    in.committed[group] = *c;
  }
  in.checks = verify_run(ctx, prod, risk, position, audit, reporting, in.committed, opts.verify);
  return print_summary(in, std::cout) ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  if (al::print_version_if_asked(argc, argv, "trading-demo"))
    return 0;
  int rc = 0;
  auto opts = parse_options(argc, argv, rc);
  if (!opts)
    return rc;
  al::actor_config cfg;
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  return run(sys, *opts);
}
