// `actorlog consume --group G`: kafka-console-consumer as a member of a
// consumer group. The coordinator assigns the partitions; each starts at the
// group's committed offset (else the latest, or the earliest with
// --from-beginning). What is committed is exactly what was printed: the
// offset after the last printed record of each partition, when a partition
// is revoked, every few seconds, and before the command exits (records
// fetched but not printed, e.g. past --max-messages, stay uncommitted).
#include <algorithm>
#include <chrono>
#include <csignal>
#include <iostream>
#include <map>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

#include "actors/client/consumer_client.hpp"
#include "runtime/cli/broker_command.hpp"
#include "runtime/cli/cli_args.hpp"
#include "runtime/cli/command_line.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/output_format.hpp"

namespace al::cli {

namespace {

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

volatile std::sig_atomic_t interrupted = 0;

void on_interrupt(int) { interrupted = 1; }

constexpr auto commit_interval = std::chrono::seconds(5);

struct group_consume_options {
  std::string topic;
  std::string group;
  bool from_beginning = false;
  std::optional<int64_t> max_messages;
  std::optional<milliseconds> idle_timeout;
  record_print_options print;
  int32_t max_wait_ms = 500;
  std::string isolation_level = "read_uncommitted";
};

/// The offsets after what was printed, per partition (what a commit commits).
using printed_offsets = std::map<topic_partition, int64_t>;

offset_commit_map to_commit(const printed_offsets& printed,
                            const std::vector<topic_partition>& only = {}) {
  offset_commit_map out;
  for (const auto& [tp, next] : printed)
    if (only.empty() || std::find(only.begin(), only.end(), tp) != only.end())
      out[tp] = offset_and_metadata{next, "", -1};
  return out;
}

result<group_consume_options> read_options(const cxxopts::ParseResult& args) {
  auto bad = [](std::string why) { return status{errc::invalid_request, std::move(why)}; };
  group_consume_options o;
  if (!args.count("topic"))
    return bad("--topic is required");
  o.topic = args["topic"].as<std::string>();
  o.group = args["group"].as<std::string>();
  if (o.group.empty())
    return bad("--group must not be empty");
  if (args.count("partition") || args.count("offset"))
    return bad("--partition and --offset cannot be used with --group (the group's coordinator "
               "assigns partitions, and they start at the committed offsets)");
  o.from_beginning = args.count("from-beginning") > 0;
  if (args.count("max-messages")) {
    o.max_messages = args["max-messages"].as<int64_t>();
    if (*o.max_messages < 1)
      return bad("--max-messages must be at least 1");
  }
  if (args.count("timeout-ms")) {
    auto ms = args["timeout-ms"].as<int64_t>();
    if (ms < 1)
      return bad("--timeout-ms must be at least 1");
    o.idle_timeout = milliseconds(ms);
  }
  o.isolation_level = args["isolation-level"].as<std::string>();
  if (o.isolation_level != "read_uncommitted" && o.isolation_level != "read_committed")
    return bad("--isolation-level: \"" + o.isolation_level +
               "\" is not read_uncommitted or read_committed");
  o.print.print_key = args.count("print-key") > 0;
  o.print.print_offset = args.count("print-offset") > 0;
  o.print.print_partition = args.count("print-partition") > 0;
  o.print.separator = unescape(args["key-separator"].as<std::string>());
  o.max_wait_ms = args["max-wait-ms"].as<int32_t>();
  if (o.max_wait_ms < 1)
    return bad("--max-wait-ms must be at least 1");
  return o;
}

/// Polls and prints until --max-messages, --timeout-ms without a record, or
/// SIGINT; returns the number printed. `printed` tracks what to commit.
int64_t consume_loop(consumer& c, const group_consume_options& o, printed_offsets& printed,
                     std::ostream& out) {
  int64_t consumed = 0;
  auto last_record = clock_type::now();
  auto next_commit = clock_type::now() + commit_interval;
  std::string text;
  while (!interrupted) {
    auto wait = milliseconds(500);
    if (o.idle_timeout) {
      auto idle = std::chrono::duration_cast<milliseconds>(clock_type::now() - last_record);
      if (idle >= *o.idle_timeout)
        break;
      wait = std::min(wait, *o.idle_timeout - idle);
    }
    for (auto& r : c.poll(wait)) {
      if (o.max_messages && consumed >= *o.max_messages)
        break; // fetched, not printed: not committed
      std::optional<std::string_view> key, value;
      if (r.key)
        key = *r.key;
      if (r.value)
        value = *r.value;
      append_record_line(text, o.print, r.partition, r.offset, key, value);
      printed[topic_partition{r.topic, r.partition}] = r.offset + 1;
      ++consumed;
      last_record = clock_type::now();
    }
    if (!text.empty()) {
      out << text << std::flush;
      text.clear();
    }
    if (o.max_messages && consumed >= *o.max_messages)
      break;
    if (clock_type::now() >= next_commit && !printed.empty()) {
      c.commit_async(to_commit(printed));
      next_commit = clock_type::now() + commit_interval;
    }
  }
  return consumed;
}

} // namespace

int consume_group_command(int argc, char** argv) {
  broker_command cmd{"consume"};
  cxxopts::Options options(
    "actorlog consume --group",
    "Prints the records of a topic as a member of a consumer group\n"
    "(kafka-console-consumer --group): the group's coordinator assigns the\n"
    "partitions, each starts at the group's committed offset (else the latest, or\n"
    "the earliest with --from-beginning), and before exiting the command commits\n"
    "the offsets of exactly what it printed.");
  options.add_options()                                                                   //
    ("topic", "topic to read (required)", cxxopts::value<std::string>())                  //
    ("group", "the consumer group to join (required)", cxxopts::value<std::string>())     //
    ("from-beginning", "partitions without a committed offset start at the earliest")     //
    ("partition", "not with --group", cxxopts::value<int32_t>())                          //
    ("offset", "not with --group", cxxopts::value<std::string>())                         //
    ("max-messages", "exit after printing this many records", cxxopts::value<int64_t>())  //
    ("timeout-ms", "exit after this long without a new record", cxxopts::value<int64_t>())  //
    ("print-key", "print the key (\"null\" for none) before the value")                  //
    ("print-offset", "print Offset:<offset> first")                                       //
    ("print-partition", "print Partition:<partition> first")                              //
    ("key-separator", "between printed fields (\\t for a tab)",
     cxxopts::value<std::string>()->default_value("\\t"))                                 //
    ("max-wait-ms", "how long the broker holds a fetch that has no records (long poll)",
     cxxopts::value<int32_t>()->default_value("500"))                                     //
    ("isolation-level", "read_uncommitted or read_committed (committed transactions only)",
     cxxopts::value<std::string>()->default_value("read_uncommitted"));
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  auto opts = read_options(*args);
  if (!opts)
    return cmd.usage_error(opts.error().message());
  spdlog::set_level(spdlog::level::warn); // the client library's info lines are not records
  auto conn = cmd.connect(*args);
  if (!conn)
    return cmd.exit_status();
  auto md = conn->request<metadata_response>(metadata_atom::value,
                                             metadata_request{{opts->topic}});
  if (!md)
    return cmd.failure(md.error());
  if (md->topics.empty() || md->topics.front().partitions.empty())
    return cmd.failure("UNKNOWN_TOPIC_OR_PARTITION: topic \"" + opts->topic +
                       "\" does not exist");
  properties props{
    {"group.id", opts->group},
    {"client.id", "actorlog-console-consumer"},
    {"enable.auto.commit", "false"}, // we commit what we printed
    {"auto.offset.reset", opts->from_beginning ? "earliest" : "latest"},
    {"fetch.max.wait.ms", std::to_string(opts->max_wait_ms)},
    {"isolation.level", opts->isolation_level},
    {"request.timeout.ms", std::to_string(conn->request_timeout().count())},
  };
  auto created = consumer::create(conn->self()->home_system(), props,
                                  caf::actor_cast<caf::actor>(conn->broker()));
  if (!created)
    return cmd.failure(created.error().to_string());
  auto& c = **created;
  printed_offsets printed;
  bool closing = false;
  rebalance_listener listener;
  listener.on_partitions_revoked = [&](const std::vector<topic_partition>& tps) {
    if (closing)
      return;
    if (auto st = c.commit_sync(to_commit(printed, tps)); !st)
      std::cerr << "actorlog: consume: commit before a rebalance failed: " << st.to_string()
                << std::endl;
  };
  if (auto st = c.subscribe({opts->topic}, listener); !st)
    return cmd.failure(st.to_string());
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto consumed = consume_loop(c, *opts, printed, std::cout);
  if (auto st = c.commit_sync(to_commit(printed)); !st)
    cmd.failure("committing the printed offsets failed: " + st.to_string());
  closing = true;
  c.close();
  std::cerr << "Processed a total of " << consumed << " messages" << std::endl;
  return cmd.exit_status();
}

} // namespace al::cli
