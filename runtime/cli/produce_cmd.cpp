// `actorlog produce`: lines from stdin become records (kafka-console-producer).
// Records are batched per partition (one RecordBatch per request, up to
// --batch-size bytes or --linger-ms after its first record) and sent to the
// partition's leader, with up to --max-in-flight requests outstanding.
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>

#include "storage/clock.hpp"
#include "runtime/cli/broker_command.hpp"
#include "runtime/cli/command_line.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/line_reader.hpp"
#include "runtime/cli/partitioner.hpp"
#include "storage/record_batch.hpp"

namespace al::cli {

namespace {

using clock_type = std::chrono::steady_clock;

struct produce_options {
  std::string topic;
  std::optional<int32_t> partition;
  std::optional<std::string> key_separator;
  acks_mode acks = acks_mode::all;
  size_t batch_size = 16384;
  int linger_ms = 1000;
  size_t max_in_flight = 5;
  compression codec = compression::none;
};

using produce_handle = decltype(std::declval<caf::scoped_actor&>()->request(
  std::declval<const client_api&>(), std::declval<std::chrono::milliseconds>(),
  produce_atom::value, std::declval<produce_request>()));

/// Builds one batch per partition and sends it to the partition's leader
/// when full or lingered. A batch refused because the leader moved is sent
/// again to the new leader (after a metadata refresh), a few times.
class producer {
public:
  producer(broker_connection& conn, const produce_options& opts, leader_map leaders)
    : conn_(conn), opts_(opts), leaders_(std::move(leaders)),
      partition_count_(int32_t(leaders_.size())) {
    std::random_device rd;
    sticky_ = int32_t(rd() % uint32_t(partition_count_));
  }

  /// Adds one record, sending batches as they fill. False once a batch failed.
  bool add(std::optional<std::string_view> key, std::string_view value) {
    if (failed())
      return false;
    bool sticky = !opts_.partition && !key;
    auto partition = opts_.partition ? *opts_.partition
                     : key           ? choose_partition(*key, partition_count_)
                                     : sticky_;
    // Kafka's rule: a record that would overflow a non-empty batch starts the
    // next one; a null-key record then moves on with the sticky partition.
    constexpr size_t record_overhead = 32; // varint fields of one record, at most
    auto size = key.value_or("").size() + value.size() + record_overhead;
    auto* b = &batch_for(partition);
    while (!b->builder.empty() && b->builder.estimated_size() + size > opts_.batch_size) {
      send(partition, *b);
      if (failed())
        return false;
      if (sticky) {
        partition = sticky_;
        b = &batch_for(partition);
      }
    }
    if (b->builder.empty())
      b->opened = clock_type::now();
    std::optional<byte_view> k;
    if (key)
      k = byte_view{*key};
    b->builder.append(wall_clock_ms(), k, byte_view{value});
    return true;
  }

  /// Milliseconds until the oldest open batch has lingered long enough
  /// (0: now), or -1 when no batch is open.
  int linger_left_ms() const {
    std::optional<clock_type::time_point> oldest;
    for (const auto& [p, b] : open_)
      if (!b.builder.empty() && (!oldest || b.opened < *oldest))
        oldest = b.opened;
    if (!oldest)
      return -1;
    auto due = *oldest + std::chrono::milliseconds(opts_.linger_ms);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(due - clock_type::now());
    return left.count() > 0 ? int(left.count()) : 0;
  }

  /// Sends the batches that have lingered long enough.
  void send_lingering() {
    auto now = clock_type::now();
    for (auto& [p, b] : open_)
      if (!failed() && !b.builder.empty()
          && now - b.opened >= std::chrono::milliseconds(opts_.linger_ms))
        send(p, b);
  }

  /// Sends every open batch (unless a batch failed) and waits for all replies.
  void finish() {
    for (auto& [p, b] : open_) {
      if (b.builder.empty())
        continue;
      if (failed())
        failed_records_ += int64_t(b.builder.record_count()); // not sent
      else
        send(p, b);
    }
    while (!in_flight_.empty())
      wait_oldest();
    if (opts_.acks == acks_mode::none && !failed())
      barrier();
  }

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  int64_t produced() const { return produced_; }
  int64_t records_failed() const { return failed_records_; }

private:
  struct open_batch {
    batch_builder builder;
    clock_type::time_point opened;
  };

  /// One batch on its way: the request is kept for a resend to a new leader.
  struct outgoing {
    produce_request req;
    size_t records = 0;
    int attempt = 0;
  };

  struct pending {
    produce_handle handle;
    client_api to;
    outgoing out;
  };

  static constexpr int max_attempts = 5;

  int32_t leader_of(int32_t partition) const {
    auto i = leaders_.find(partition);
    return i != leaders_.end() ? i->second : -1;
  }

  open_batch& batch_for(int32_t partition) {
    auto i = open_.find(partition);
    if (i == open_.end())
      i = open_.emplace(partition, open_batch{batch_builder{batch_options{opts_.codec}}, {}})
            .first;
    return i->second;
  }

  void send(int32_t partition, open_batch& b) {
    outgoing out;
    out.records = b.builder.record_count();
    out.req.topic = opts_.topic;
    out.req.partition = partition;
    out.req.acks = opts_.acks;
    out.req.timeout_ms = int32_t(conn_.request_timeout().count());
    out.req.batch = b.builder.build();
    if (partition == sticky_ && !opts_.partition)
      sticky_ = (sticky_ + 1) % partition_count_;
    dispatch(std::move(out));
  }

  /// Sends a batch to its partition's leader (waiting for the oldest reply
  /// while --max-in-flight requests are out).
  void dispatch(outgoing out) {
    while (in_flight_.size() >= opts_.max_in_flight && !failed())
      wait_oldest();
    if (failed()) {
      failed_records_ += int64_t(out.records);
      return;
    }
    auto leader = leader_of(out.req.partition);
    auto to = conn_.broker_for(leader);
    if (!to) {
      retry_or_fail(std::move(out), to.error());
      return;
    }
    if (opts_.acks == acks_mode::none) {
      caf::anon_send(*to, produce_atom::value, std::move(out.req));
      produced_ += int64_t(out.records);
      unconfirmed_.emplace(leader, *to);
      if (++unconfirmed_sends_ >= max_unconfirmed_sends)
        barrier();
      return;
    }
    // The broker gets the request timeout to wait for replicas, we a little more.
    auto timeout = conn_.request_timeout() + std::chrono::seconds(5);
    auto handle = conn_.self()->request(*to, timeout, produce_atom::value, out.req);
    in_flight_.push_back(pending{std::move(handle), *to, std::move(out)});
  }

  void wait_oldest() {
    auto p = std::move(in_flight_.front());
    in_flight_.pop_front();
    auto timeout = conn_.request_timeout() + std::chrono::seconds(5);
    caf::error err;
    p.handle.receive([&](const produce_response&) { produced_ += int64_t(p.out.records); },
                     [&](caf::error& e) { err = std::move(e); });
    if (err)
      retry_or_fail(std::move(p.out), conn_.explain(std::move(err), timeout, p.to));
  }

  /// A batch the leader refused because leadership moved goes to the new
  /// leader after a metadata refresh; anything else fails the producer.
  void retry_or_fail(outgoing out, const caf::error& err) {
    if (!is_leader_change(err) || out.attempt + 1 >= max_attempts) {
      fail(opts_.topic + "-" + std::to_string(out.req.partition), out.records, err);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100) * (out.attempt + 1));
    if (auto leaders = conn_.partition_leaders(opts_.topic))
      leaders_ = std::move(*leaders);
    ++out.attempt;
    dispatch(std::move(out));
  }

  /// Nothing confirms acks=0 sends. One round trip on each connection used
  /// makes sure that broker has taken every earlier one: done every
  /// max_unconfirmed_sends batches (so a fast stdin cannot pile up batches
  /// in memory) and before the process exits.
  void barrier() {
    unconfirmed_sends_ = 0;
    auto brokers = std::move(unconfirmed_);
    unconfirmed_.clear();
    for (const auto& [id, b] : brokers) {
      auto res = conn_.request_to<metadata_response>(b, conn_.request_timeout(),
                                                     metadata_atom::value, metadata_request{});
      if (!res)
        fail("broker " + std::to_string(id), 0, res.error());
    }
  }

  void fail(const std::string& where, size_t records, const caf::error& err) {
    failed_records_ += int64_t(records);
    if (!error_.empty())
      return;
    error_ = render_error(err);
    if (error_.find(where) == std::string::npos) // the broker's text may name it already
      error_ = where + ": " + error_;
  }

  broker_connection& conn_;
  const produce_options& opts_;
  leader_map leaders_;
  int32_t partition_count_;
  int32_t sticky_ = 0; ///< where null-key records go; moves on with each batch sent there
  std::map<int32_t, open_batch> open_;
  std::deque<pending> in_flight_;
  static constexpr size_t max_unconfirmed_sends = 64;
  size_t unconfirmed_sends_ = 0;             ///< acks=0 batches since the last barrier
  std::map<int32_t, client_api> unconfirmed_; ///< brokers sent acks=0 batches since then
  int64_t produced_ = 0;
  int64_t failed_records_ = 0;
  std::string error_;
};

} // namespace

int produce_command(int argc, char** argv) {
  broker_command cmd{"produce"};
  cxxopts::Options options(
    "actorlog produce",
    "Reads lines from stdin and produces one record per line (kafka-console-producer).\n"
    "Without --key-separator a line is the value and the key is null. Records go to\n"
    "--partition if given, else by key hash, and null-key records to one partition per\n"
    "batch in turn. Prints \"Produced N records to T\" on stderr at the end.");
  options.add_options()                                                                  //
    ("topic", "topic to produce to (required)", cxxopts::value<std::string>())           //
    ("partition", "produce every record to this partition", cxxopts::value<int32_t>())   //
    ("key-separator", "lines are key<SEP>value, split at the first SEP (\\t for a tab)",
     cxxopts::value<std::string>())                                                      //
    ("acks", "all (or -1): every in-sync replica has the batch; 1: the leader; "
             "0: do not wait for replies",
     cxxopts::value<std::string>()->default_value("all"))                                //
    ("batch-size", "bytes per batch (one request), at most",
     cxxopts::value<int32_t>()->default_value("16384"))                                  //
    ("linger-ms", "send a batch this long after its first record even if not full",
     cxxopts::value<int32_t>()->default_value("1000"))                                   //
    ("max-in-flight", "requests sent before waiting for the oldest reply",
     cxxopts::value<int32_t>()->default_value("5"))                                      //
    ("compression-type", "none, gzip, snappy, lz4 or zstd",
     cxxopts::value<std::string>()->default_value("none"));
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  produce_options opts;
  if (!args->count("topic"))
    return cmd.usage_error("--topic is required");
  opts.topic = (*args)["topic"].as<std::string>();
  if (args->count("partition")) {
    opts.partition = (*args)["partition"].as<int32_t>();
    if (*opts.partition < 0)
      return cmd.usage_error("--partition must be >= 0");
  }
  if (args->count("key-separator")) {
    opts.key_separator = unescape((*args)["key-separator"].as<std::string>());
    if (opts.key_separator->empty())
      return cmd.usage_error("--key-separator must not be empty");
  }
  auto acks = parse_acks((*args)["acks"].as<std::string>());
  if (!acks)
    return cmd.usage_error("--acks: " + acks.error().message());
  opts.acks = *acks;
  auto batch_size = (*args)["batch-size"].as<int32_t>();
  auto linger = (*args)["linger-ms"].as<int32_t>();
  auto in_flight = (*args)["max-in-flight"].as<int32_t>();
  if (batch_size < 1)
    return cmd.usage_error("--batch-size must be at least 1");
  if (linger < 0)
    return cmd.usage_error("--linger-ms must be >= 0");
  if (in_flight < 1)
    return cmd.usage_error("--max-in-flight must be at least 1");
  opts.batch_size = size_t(batch_size);
  opts.linger_ms = linger;
  opts.max_in_flight = size_t(in_flight);
  auto codec_name = (*args)["compression-type"].as<std::string>();
  if (!parse_compression(codec_name, opts.codec))
    return cmd.usage_error("--compression-type: unknown codec \"" + codec_name
                           + "\" (expected none, gzip, snappy, lz4 or zstd)");
  auto conn = cmd.connect(*args);
  if (!conn)
    return cmd.exit_status();
  auto leaders = conn->partition_leaders(opts.topic);
  if (!leaders)
    return cmd.failure(leaders.error());
  if (opts.partition && leaders->count(*opts.partition) == 0)
    return cmd.failure("UNKNOWN_TOPIC_OR_PARTITION: topic \"" + opts.topic + "\" has "
                       + std::to_string(leaders->size()) + " partition(s), no partition "
                       + std::to_string(*opts.partition));
  producer prod{*conn, opts, std::move(*leaders)};
  line_reader in{STDIN_FILENO};
  std::string line;
  std::string input_error;
  while (!prod.failed()) {
    auto got = in.next(line, prod.linger_left_ms());
    if (got == line_reader::outcome::timeout) {
      prod.send_lingering();
      continue;
    }
    if (got == line_reader::outcome::eof)
      break;
    if (got == line_reader::outcome::error) {
      input_error = std::string{"cannot read stdin: "} + std::strerror(in.error_number());
      break;
    }
    if (!opts.key_separator) {
      prod.add(std::nullopt, line);
      continue;
    }
    auto kv = split_key_value(line, *opts.key_separator);
    if (!kv) {
      input_error = "no key separator \"" + *opts.key_separator + "\" on line "
                    + std::to_string(in.line_number());
      break;
    }
    prod.add(kv->first, kv->second);
  }
  prod.finish();
  auto summary = std::to_string(prod.produced()) + " record(s) produced to " + opts.topic;
  if (prod.failed())
    return cmd.failure(prod.error() + " (" + summary + ", "
                       + std::to_string(prod.records_failed()) + " not produced)");
  if (!input_error.empty())
    return cmd.failure(input_error + " (" + summary + " before it)");
  std::cerr << "Produced " << prod.produced() << " records to " << opts.topic << std::endl;
  return 0;
}

} // namespace al::cli
