// `actorlog consume`: prints records of a topic (kafka-console-consumer).
// Three steps: which partitions to read (assigned_partitions), where each
// starts (start_cursors), then the fetch loop (fetch_loop), which keeps one
// long-poll fetch per partition outstanding at the partition's leader. A
// consumer group replaces the first two steps with the coordinator's
// assignment and committed offsets, and commits the cursors the loop
// advances.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <deque>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "actors/client/aborted_filter.hpp"
#include "runtime/cli/broker_command.hpp"
#include "runtime/cli/command_line.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/output_format.hpp"
#include "storage/record_batch.hpp"

namespace al::cli {

namespace {

using clock_type = std::chrono::steady_clock;

volatile std::sig_atomic_t interrupted = 0;

void on_interrupt(int) { interrupted = 1; }

struct consume_options {
  std::string topic;
  std::optional<int32_t> partition;
  start_position start; ///< latest unless --from-beginning or --offset
  std::optional<int64_t> max_messages;
  std::optional<std::chrono::milliseconds> idle_timeout; ///< --timeout-ms
  record_print_options print;
  int32_t max_wait_ms = 500;      ///< fetch.max.wait.ms of each long poll
  int32_t max_bytes = 1048576;    ///< max.partition.fetch.bytes
  /// read_committed: up to the last stable offset, aborted transactions skipped.
  fetch_isolation isolation = fetch_isolation::high_watermark;
};

/// Where the loop is in one partition.
struct partition_cursor {
  int32_t partition = 0;
  int64_t next_offset = 0; ///< the next record to print
  int32_t max_bytes = 0;   ///< grows when a batch does not fit
};

/// How often a request follows a moved leader before giving up.
constexpr int max_leader_attempts = 10;

int32_t leader_of(const leader_map& leaders, int32_t partition) {
  auto i = leaders.find(partition);
  return i != leaders.end() ? i->second : -1;
}

/// After NOT_LEADER_OR_FOLLOWER or LEADER_NOT_AVAILABLE: gives the cluster
/// a moment to elect, then asks for the leaders again.
void await_new_leader(broker_connection& conn, const std::string& topic, leader_map& leaders,
                      int attempt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100 * (attempt + 1), 1000)));
  if (auto fresh = conn.partition_leaders(topic))
    leaders = std::move(*fresh);
}

/// Step 1: the partitions to read: --partition, or all of the topic's; and
/// their leaders.
caf::expected<std::vector<int32_t>> assigned_partitions(broker_connection& conn,
                                                        const consume_options& opts,
                                                        leader_map& leaders) {
  auto found = conn.partition_leaders(opts.topic);
  if (!found)
    return found.error();
  leaders = std::move(*found);
  std::vector<int32_t> out;
  for (const auto& [partition, leader] : leaders)
    out.push_back(partition);
  if (!opts.partition)
    return out;
  if (!leaders.count(*opts.partition))
    return make_error(errc::unknown_topic_or_partition,
                      "topic \"" + opts.topic + "\" has " + std::to_string(out.size())
                        + " partition(s), no partition " + std::to_string(*opts.partition));
  return std::vector<int32_t>{*opts.partition};
}

/// Step 2: where each partition starts: --offset, or the earliest/latest
/// offset its leader reports.
caf::expected<std::vector<partition_cursor>>
start_cursors(broker_connection& conn, const consume_options& opts,
              const std::vector<int32_t>& partitions, leader_map& leaders) {
  std::vector<partition_cursor> out;
  for (auto p : partitions) {
    partition_cursor c{p, opts.start.value, opts.max_bytes};
    if (opts.start.kind != start_position::offset) {
      list_offsets_request req{opts.topic, p,
                               opts.start.kind == start_position::earliest ? earliest_timestamp
                                                                           : latest_timestamp,
                               opts.isolation};
      for (int attempt = 0;; ++attempt) {
        auto to = conn.broker_for(leader_of(leaders, p));
        auto res = to ? conn.request_to<list_offsets_response>(*to, conn.request_timeout(),
                                                               list_offsets_atom::value, req)
                      : caf::expected<list_offsets_response>{to.error()};
        if (res) {
          c.next_offset = std::max<int64_t>(res->offset, 0);
          break;
        }
        if (!is_leader_change(res.error()) || attempt + 1 >= max_leader_attempts)
          return res.error();
        await_new_leader(conn, opts.topic, leaders, attempt);
      }
    }
    out.push_back(c);
  }
  return out;
}

/// Prints the records of one fetch response at or after the cursor and
/// advances it; stops early once `budget` records are printed (-1: no limit).
/// Returns the number printed, or CORRUPT_MESSAGE.
caf::expected<int64_t> print_records(const consume_options& opts, partition_cursor& c,
                                     const fetch_response& resp, int64_t budget,
                                     std::string& out) {
  byte_view all{resp.records};
  size_t pos = 0;
  int64_t printed = 0;
  bool whole_batch = false;
  std::optional<aborted_filter> aborted;
  if (opts.isolation == fetch_isolation::read_committed)
    aborted.emplace(resp.aborted);
  while (pos + batch_layout::log_overhead <= all.size && printed != budget) {
    auto length = load_be<int32_t>(all.data + pos + batch_layout::batch_length);
    if (length < 0 || pos + batch_layout::log_overhead + size_t(length) > all.size)
      break; // a cut-off batch at the end of the response
    auto size = batch_layout::log_overhead + size_t(length);
    auto where = opts.topic + "-" + std::to_string(c.partition) + " fetched at offset "
                 + std::to_string(c.next_offset);
    auto batch = decode_batch(all.sub(pos, size), where);
    if (!batch)
      return make_error(batch.error().code(), batch.error().message());
    whole_batch = true;
    bool skipped = aborted ? aborted->skip(batch->header, all.sub(pos, size))
                           : batch->header.is_control();
    pos += size;
    if (!skipped) {
      for (const auto& r : batch->records) {
        if (r.offset < c.next_offset) // a fetch may start mid-batch
          continue;
        std::optional<std::string_view> key, value;
        if (r.key)
          key = r.key->as_string();
        if (r.value)
          value = r.value->as_string();
        append_record_line(out, opts.print, c.partition, r.offset, key, value);
        c.next_offset = r.offset + 1;
        if (++printed == budget)
          return printed;
      }
    }
    c.next_offset = std::max(c.next_offset, batch->header.next_offset());
  }
  if (!whole_batch && !resp.records.empty()) // one batch is larger than max_bytes
    c.max_bytes = c.max_bytes > (1 << 29) ? c.max_bytes : c.max_bytes * 2;
  return printed;
}

using fetch_handle = decltype(std::declval<caf::scoped_actor&>()->request(
  std::declval<const client_api&>(), std::declval<std::chrono::milliseconds>(),
  fetch_atom::value, std::declval<fetch_request>()));

/// One fetch on its way to a partition's leader (or the error that kept it
/// from being sent).
struct outstanding_fetch {
  size_t cursor = 0;
  std::optional<fetch_handle> handle;
  client_api to;
  caf::error unsent;
};

/// Step 3: long-poll fetches to the partitions' leaders, one outstanding per
/// partition, answered in the order sent, until --max-messages, --timeout-ms
/// without a record, or SIGINT. Follows leaders that move. Returns the
/// number of records printed.
caf::expected<int64_t> fetch_loop(broker_connection& conn, const consume_options& opts,
                                  std::vector<partition_cursor>& cursors, leader_map& leaders,
                                  std::ostream& out) {
  int64_t consumed = 0;
  auto last_record = clock_type::now();
  auto idle_left = [&]() -> std::chrono::milliseconds {
    if (!opts.idle_timeout)
      return std::chrono::milliseconds::max();
    return *opts.idle_timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                  clock_type::now() - last_record);
  };
  std::deque<outstanding_fetch> in_flight;
  std::vector<int> attempts(cursors.size(), 0); ///< consecutive leader changes per cursor
  auto fetch = [&](size_t i) {
    outstanding_fetch f;
    f.cursor = i;
    auto to = conn.broker_for(leader_of(leaders, cursors[i].partition));
    if (!to) {
      f.unsent = to.error();
      in_flight.push_back(std::move(f));
      return;
    }
    auto wait = std::min<int64_t>(opts.max_wait_ms, std::max<int64_t>(idle_left().count(), 0));
    fetch_request req;
    req.topic = opts.topic;
    req.partition = cursors[i].partition;
    req.offset = cursors[i].next_offset;
    req.max_bytes = cursors[i].max_bytes;
    req.max_wait_ms = int32_t(wait);
    req.isolation = opts.isolation;
    auto timeout = std::chrono::milliseconds(wait) + conn.request_timeout();
    f.to = *to;
    f.handle = conn.self()->request(*to, timeout, fetch_atom::value, req);
    in_flight.push_back(std::move(f));
  };
  for (size_t i = 0; i < cursors.size(); ++i)
    fetch(i);
  std::string text;
  while (!interrupted) {
    auto f = std::move(in_flight.front());
    in_flight.pop_front();
    auto i = f.cursor;
    caf::error err = std::move(f.unsent);
    int64_t printed = 0;
    auto budget = opts.max_messages ? *opts.max_messages - consumed : int64_t{-1};
    if (f.handle)
      f.handle->receive(
        [&](const fetch_response& resp) {
          auto n = print_records(opts, cursors[i], resp, budget, text);
          if (n)
            printed = *n;
          else
            err = n.error();
        },
        [&](caf::error& e) {
          err = conn.explain(std::move(e),
                             conn.request_timeout() + std::chrono::milliseconds(opts.max_wait_ms),
                             f.to);
        });
    if (!text.empty()) {
      out << text << std::flush;
      text.clear();
    }
    if (err && is_leader_change(err) && attempts[i] + 1 < max_leader_attempts) {
      await_new_leader(conn, opts.topic, leaders, attempts[i]++);
      fetch(i);
      continue;
    }
    if (err)
      return err;
    attempts[i] = 0;
    consumed += printed;
    if (printed > 0)
      last_record = clock_type::now();
    if (opts.max_messages && consumed >= *opts.max_messages)
      break;
    if (idle_left().count() <= 0)
      break;
    fetch(i);
  }
  return consumed;
}

} // namespace

int consume_command(int argc, char** argv) {
  broker_command cmd{"consume"};
  cxxopts::Options options(
    "actorlog consume",
    "Prints the records of a topic, one value per line (kafka-console-consumer):\n"
    "from the latest offset on unless --from-beginning or --offset, from every\n"
    "partition unless --partition, until --max-messages or --timeout-ms without a\n"
    "new record (default: until interrupted). Prints \"Processed a total of N\n"
    "messages\" on stderr at the end. With --group G it consumes as a member of\n"
    "consumer group G instead (`actorlog consume --group G --help`).");
  options.add_options()                                                                   //
    ("topic", "topic to read (required)", cxxopts::value<std::string>())                  //
    ("partition", "read only this partition", cxxopts::value<int32_t>())                  //
    ("from-beginning", "start at each partition's earliest offset")                       //
    ("offset", "start here: an offset (needs --partition), earliest or latest",
     cxxopts::value<std::string>())                                                       //
    ("max-messages", "exit after printing this many records", cxxopts::value<int64_t>())  //
    ("timeout-ms", "exit after this long without a new record", cxxopts::value<int64_t>())  //
    ("print-key", "print the key (\"null\" for none) before the value")                  //
    ("print-offset", "print Offset:<offset> first")                                       //
    ("print-partition", "print Partition:<partition> first")                              //
    ("key-separator", "between printed fields (\\t for a tab)",
     cxxopts::value<std::string>()->default_value("\\t"))                                 //
    ("max-wait-ms", "how long the broker holds a fetch that has no records (long poll)",
     cxxopts::value<int32_t>()->default_value("500"))                                     //
    ("max-partition-fetch-bytes", "bytes per partition and fetch",
     cxxopts::value<int32_t>()->default_value("1048576"))                                 //
    ("isolation-level", "read_uncommitted (everything up to the high watermark) or "
                        "read_committed (committed transactions only, up to the last stable offset)",
     cxxopts::value<std::string>()->default_value("read_uncommitted"));
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  consume_options opts;
  if (!args->count("topic"))
    return cmd.usage_error("--topic is required");
  opts.topic = (*args)["topic"].as<std::string>();
  if (args->count("partition")) {
    opts.partition = (*args)["partition"].as<int32_t>();
    if (*opts.partition < 0)
      return cmd.usage_error("--partition must be >= 0");
  }
  if (args->count("from-beginning") && args->count("offset"))
    return cmd.usage_error("--from-beginning and --offset cannot be used together");
  if (args->count("from-beginning"))
    opts.start.kind = start_position::earliest;
  if (args->count("offset")) {
    auto start = parse_start_position((*args)["offset"].as<std::string>());
    if (!start)
      return cmd.usage_error("--offset: " + start.error().message());
    if (start->kind == start_position::offset && !opts.partition)
      return cmd.usage_error("--offset with a number needs --partition");
    opts.start = *start;
  }
  if (args->count("max-messages")) {
    opts.max_messages = (*args)["max-messages"].as<int64_t>();
    if (*opts.max_messages < 1)
      return cmd.usage_error("--max-messages must be at least 1");
  }
  if (args->count("timeout-ms")) {
    auto ms = (*args)["timeout-ms"].as<int64_t>();
    if (ms < 1)
      return cmd.usage_error("--timeout-ms must be at least 1");
    opts.idle_timeout = std::chrono::milliseconds(ms);
  }
  opts.print.print_key = args->count("print-key") > 0;
  opts.print.print_offset = args->count("print-offset") > 0;
  opts.print.print_partition = args->count("print-partition") > 0;
  opts.print.separator = unescape((*args)["key-separator"].as<std::string>());
  opts.max_wait_ms = (*args)["max-wait-ms"].as<int32_t>();
  if (opts.max_wait_ms < 1)
    return cmd.usage_error("--max-wait-ms must be at least 1");
  opts.max_bytes = (*args)["max-partition-fetch-bytes"].as<int32_t>();
  if (opts.max_bytes < 1)
    return cmd.usage_error("--max-partition-fetch-bytes must be at least 1");
  auto isolation = (*args)["isolation-level"].as<std::string>();
  if (isolation == "read_committed")
    opts.isolation = fetch_isolation::read_committed;
  else if (isolation != "read_uncommitted")
    return cmd.usage_error("--isolation-level: \"" + isolation +
                           "\" is not read_uncommitted or read_committed");
  auto conn = cmd.connect(*args);
  if (!conn)
    return cmd.exit_status();
  leader_map leaders;
  auto partitions = assigned_partitions(*conn, opts, leaders);
  if (!partitions)
    return cmd.failure(partitions.error());
  auto cursors = start_cursors(*conn, opts, *partitions, leaders);
  if (!cursors)
    return cmd.failure(cursors.error());
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto consumed = fetch_loop(*conn, opts, *cursors, leaders, std::cout);
  if (!consumed)
    return cmd.failure(consumed.error());
  std::cerr << "Processed a total of " << *consumed << " messages" << std::endl;
  return 0;
}

} // namespace al::cli
