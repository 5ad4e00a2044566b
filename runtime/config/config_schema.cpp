#include "runtime/config/config_schema.hpp"

#include <algorithm>
#include <limits>

#include "runtime/config/config_text.hpp"

namespace al::config {

namespace {

constexpr int64_t i32_max = std::numeric_limits<int32_t>::max();
constexpr int64_t i64_min = std::numeric_limits<int64_t>::min();
constexpr int64_t i64_max = std::numeric_limits<int64_t>::max();

// --- moving values between `value` and node_config fields -------------------

void put(int32_t& f, const value& v) { f = static_cast<int32_t>(std::get<int64_t>(v)); }
void put(int64_t& f, const value& v) { f = std::get<int64_t>(v); }
void put(bool& f, const value& v) { f = std::get<bool>(v); }
void put(std::string& f, const value& v) { f = std::get<std::string>(v); }
void put(host_port& f, const value& v) { f = std::get<host_port>(v); }
void put(std::vector<voter>& f, const value& v) { f = std::get<std::vector<voter>>(v); }
void put(severity& f, const value& v) {
  auto x = parse_severity(std::get<std::string>(v));
  AL_ASSERT(x.has_value());
  f = *x;
}
void put(codec& f, const value& v) {
  auto x = parse_codec(std::get<std::string>(v));
  AL_ASSERT(x.has_value());
  f = *x;
}
void put(std::vector<node_role>& f, const value& v) {
  f.clear();
  for (auto& s : std::get<std::vector<std::string>>(v)) {
    auto x = parse_node_role(s);
    AL_ASSERT(x.has_value());
    f.push_back(*x);
  }
}
void put(cleanup& f, const value& v) {
  auto& xs = std::get<std::vector<std::string>>(v);
  bool del = std::find(xs.begin(), xs.end(), "delete") != xs.end();
  bool compact = std::find(xs.begin(), xs.end(), "compact") != xs.end();
  AL_ASSERT(del || compact);
  f = del && compact ? cleanup::compact_delete : compact ? cleanup::compact : cleanup::delete_;
}

value get(int32_t f) { return int64_t{f}; }
value get(int64_t f) { return f; }
value get(bool f) { return f; }
value get(const std::string& f) { return f; }
value get(const host_port& f) { return f; }
value get(const std::vector<voter>& f) { return f; }
value get(severity f) { return std::string{to_string(f)}; }
value get(codec f) { return std::string{to_string(f)}; }
value get(const std::vector<node_role>& f) {
  std::vector<std::string> out;
  for (auto r : f)
    out.emplace_back(to_string(r));
  return out;
}
value get(cleanup f) {
  switch (f) {
    case cleanup::delete_: return std::vector<std::string>{"delete"};
    case cleanup::compact: return std::vector<std::string>{"compact"};
    case cleanup::compact_delete: return std::vector<std::string>{"compact", "delete"};
  }
  return std::vector<std::string>{};
}

#define AL_BIND(field)                                                                  \
  [](node_config& c, const value& v) { put(c.field, v); },                             \
    [](const node_config& c) -> value { return get(c.field); }

using T = value_type;
constexpr bool req = true;
constexpr bool opt = false;

// clang-format off
const std::vector<key_info> schema_table = {
// section, name, type, required, default, min, max, allowed, help, binding
{"node", "node.id", T::int32, req, "", 0, i32_max, "",
 "Id of this node, unique in the cluster; a controller's id must appear in controller.quorum.voters.",
 AL_BIND(node_id)},
{"node", "process.roles", T::string_list, opt, "broker,controller", 0, 0, "broker|controller",
 "Roles this node runs: broker (partitions, clients), controller (metadata quorum), or both.",
 AL_BIND(process_roles)},
{"node", "listeners", T::kafka_listener, opt, "PLAINTEXT://127.0.0.1:9092", 0, 0, "",
 "Where Kafka clients connect (kcat, librdkafka, kafka-python, the Java client): Kafka's wire protocol, PLAINTEXT://host:port (port 0: any free port).",
 AL_BIND(kafka_listener)},
{"node", "advertised.listeners", T::kafka_listener, opt, "", 0, 0, "",
 "The Kafka listener this node names to clients in Metadata and FindCoordinator answers; empty: listeners.",
 AL_BIND(advertised_listener)},
{"node", "caf.listener", T::host_port, opt, "127.0.0.1:9091", 0, 0, "",
 "Where actorlog's own clients connect (the CLI, C++ producers and consumers, over CAF's middleman); other nodes use peer.listener.",
 AL_BIND(caf_listener)},
{"node", "peer.listener", T::host_port, opt, "127.0.0.1:9093", 0, 0, "",
 "Where other nodes connect (replication, controller quorum, registration); controller.quorum.voters names these ports. Clients never use it.",
 AL_BIND(peer_listener)},
{"node", "socket.request.max.bytes", T::int32, opt, "104857600", 1024, i32_max, "",
 "Largest request (one CAF message frame) a connection may send; a larger one closes the connection before it is read.",
 AL_BIND(socket_request_max_bytes)},
{"node", "queued.max.request.bytes", T::int64, opt, "536870912", 1024, i64_max, "",
 "Bytes of unfinished and queued requests held for all connections together; reading pauses at this limit. At least socket.request.max.bytes.",
 AL_BIND(queued_max_request_bytes)},
{"node", "max.connections", T::int32, opt, "4096", 1, i32_max, "",
 "Connections the node's listeners accept at once (both listeners together); more are closed at once.",
 AL_BIND(max_connections)},
{"node", "socket.frame.timeout.ms", T::duration_ms, opt, "30000", 1, i32_max, "",
 "A request (or a new connection's handshake) must arrive whole within this time of its first byte, else the connection is closed.",
 AL_BIND(socket_frame_timeout_ms)},
{"node", "connections.max.idle.ms", T::duration_ms, opt, "600000", 1, i64_max, "",
 "Close a connection with no traffic either way for this long.",
 AL_BIND(connections_max_idle_ms)},
{"node", "fault.injection.enable", T::boolean, opt, "false", 0, 0, "",
 "Accept fault-injection requests (actorlog cluster cut). For test clusters only; off by default.",
 AL_BIND(fault_injection_enable)},
{"node", "data.dir", T::string, req, "", 0, 0, "",
 "Directory for this node's log segments and meta.db (a relative path is relative to the working directory).",
 AL_BIND(data_dir)},
{"node", "log.level", T::enumeration, opt, "info", 0, 0, "trace|debug|info|warn|error",
 "Lowest level of log lines written.",
 AL_BIND(log_level)},
{"node", "num.scheduler.threads", T::int32, opt, "0", 0, 256, "",
 "Threads of the actor scheduler, which runs every partition, broker, group coordinator and client-facing actor of the node (they never block on the disk); 0 = one per core, at least 2. The node's thread count does not grow with its partitions (docs/ARCHITECTURE.md, Threads).",
 AL_BIND(num_scheduler_threads)},
{"node", "num.io.threads", T::int32, opt, "2", 1, 64, "",
 "Detached I/O workers that write the partitions' checkpoint and snapshot files and run their fsyncs off the scheduler (Kafka's num.io.threads plays a similar part). A partition always uses the same worker, so its files are written in order.",
 AL_BIND(num_io_threads)},
{"node", "max.open.segment.files", T::int32, opt, "0", 0, i32_max, "",
 "Segment .log files the node keeps open at once; past it, the least recently used are closed and reopened on their next read or write, so a node can host more partitions than its open-file limit. 0 = three quarters of the open-file limit (ulimit -n) at start.",
 AL_BIND(max_open_segment_files)},
{"node", "metrics.port", T::int32, opt, "0", 0, 65535, "",
 "Port of the metrics endpoint; 0 = off.",
 AL_BIND(metrics_port)},
{"node", "fetch.max.bytes", T::int32, opt, "57671680", 1024, i32_max, "",
 "Most bytes one fetch returns, whatever max_bytes the client asks (a larger first batch is still returned whole, as in Kafka).",
 AL_BIND(fetch_max_bytes)},
{"node", "fetch.wait.max.ms", T::duration_ms, opt, "30000", 0, i32_max, "",
 "Longest a fetch waits at a partition for data (the client's fetch.max.wait.ms is cut to this).",
 AL_BIND(fetch_wait_max_ms)},
{"node", "fetch.purgatory.max.per.partition", T::int32, opt, "1000", 0, i32_max, "",
 "Fetches waiting for data at one partition at once; a newer one answers the oldest early with what there is. 0 = fetches never wait.",
 AL_BIND(fetch_purgatory_max_per_partition)},
{"node", "producer.id.expiration.ms", T::duration_ms, opt, "86400000", 1, i64_max, "",
 "A partition forgets an idempotent producer that has not written for this long (its next batch starts it afresh).",
 AL_BIND(producer_id_expiration_ms)},

{"node", "auto.create.topics.enable", T::boolean, opt, "true", 0, 0, "",
 "A Kafka client's Metadata request for an unknown topic creates it with the cluster's defaults (Kafka's behaviour; actorlog's own clients never do).",
 AL_BIND(auto_create_topics_enable)},

{"cluster", "controller.quorum.voters", T::voters, req, "", 0, 0, "",
 "The controller quorum: id@host:port of every controller node, comma-separated; the same on every node.",
 AL_BIND(quorum_voters)},
{"cluster", "broker.session.timeout.ms", T::duration_ms, opt, "9000", 1, i32_max, "",
 "A broker without heartbeats for this long is fenced by the controller and its partitions get new leaders.",
 AL_BIND(broker_session_timeout_ms)},
{"cluster", "broker.heartbeat.interval.ms", T::duration_ms, opt, "2000", 1, i32_max, "",
 "How often a broker heartbeats the active controller; must be below broker.session.timeout.ms.",
 AL_BIND(broker_heartbeat_interval_ms)},
{"cluster", "controller.election.timeout.ms", T::duration_ms, opt, "1000", 1, i32_max, "",
 "Raft election timeout of the controller quorum: a voter that hears no leader for this long starts an election.",
 AL_BIND(controller_election_timeout_ms)},
{"cluster", "metadata.snapshot.interval.entries", T::int64, opt, "1000", 0, i64_max, "",
 "A controller snapshots its metadata image every this many applied metadata log entries and deletes the log before the older of its two newest snapshots; 0 = never.",
 AL_BIND(metadata_snapshot_interval_entries)},
{"cluster", "replica.lag.time.max.ms", T::duration_ms, opt, "30000", 1, i64_max, "",
 "A follower that has not caught up with the leader for this long is removed from the ISR.",
 AL_BIND(replica_lag_time_max_ms)},
{"cluster", "replica.fetch.sessions", T::boolean, opt, "false", 0, 0, "",
 "Experimental: followers on this node fetch from each leader node in fetch sessions (the fetches of all partitions led there leave together, their answers come back together, through the brokers). Off by default: measured no faster at 2000 and 5000 partitions on three nodes, and at 10 000 follower fetches time out and the ISRs shrink (cause not found yet; bench/RESULTS.md).",
 AL_BIND(replica_fetch_sessions)},
{"cluster", "replica.fetch.max.bytes", T::int32, opt, "1048576", 0, i32_max, "",
 "Bytes a follower asks for per partition and fetch (a larger first batch is still returned whole).",
 AL_BIND(replica_fetch_max_bytes)},
{"cluster", "unclean.leader.election.enable", T::boolean, opt, "false", 0, 0, "",
 "Elect a replica outside the ISR as leader when no ISR member is alive (loses committed data).",
 AL_BIND(unclean_leader_election_enable)},
{"cluster", "offsets.topic.num.partitions", T::int32, opt, "8", 1, i32_max, "",
 "Partitions of the internal __consumer_offsets topic (Kafka's default is 50).",
 AL_BIND(offsets_topic_num_partitions)},
{"cluster", "offsets.topic.replication.factor", T::int32, opt, "3", 1, 32767, "",
 "Replication factor of __consumer_offsets; capped by the number of live brokers when the topic is created.",
 AL_BIND(offsets_topic_replication_factor)},
{"cluster", "transaction.state.log.num.partitions", T::int32, opt, "8", 1, i32_max, "",
 "Partitions of the internal __transaction_state topic, where transaction coordinators keep their state (Kafka's default is 50).",
 AL_BIND(transaction_state_log_num_partitions)},
{"cluster", "transaction.state.log.replication.factor", T::int32, opt, "3", 1, 32767, "",
 "Replication factor of __transaction_state; capped by the number of live brokers when the topic is created.",
 AL_BIND(transaction_state_log_replication_factor)},
{"cluster", "transaction.state.log.min.isr", T::int32, opt, "2", 1, 32767, "",
 "min.insync.replicas of __transaction_state (capped at its replication factor): a coordinator's state change is acknowledged once this many replicas have it.",
 AL_BIND(transaction_state_log_min_isr)},
{"cluster", "transaction.max.timeout.ms", T::duration_ms, opt, "900000", 1, i32_max, "",
 "Longest transaction.timeout.ms a producer may ask for (INVALID_TRANSACTION_TIMEOUT beyond it).",
 AL_BIND(transaction_max_timeout_ms)},
{"cluster", "transactional.id.expiration.ms", T::duration_ms, opt, "604800000", 1, i64_max, "",
 "A transactional.id with no transaction for this long is forgotten by its coordinator (a tombstone in __transaction_state).",
 AL_BIND(transactional_id_expiration_ms)},
{"cluster", "group.initial.rebalance.delay.ms", T::duration_ms, opt, "3000", 0, i32_max, "",
 "How long a new, empty consumer group waits for more members before its first rebalance (Kafka's default; tests may use 0).",
 AL_BIND(group_initial_rebalance_delay_ms)},
{"cluster", "offset.metadata.max.bytes", T::int32, opt, "4096", 0, 32767, "",
 "Longest metadata string an offset commit may carry; a longer one is refused for its partition with OFFSET_METADATA_TOO_LARGE (Kafka's default; at most 32767, what an offsets record holds).",
 AL_BIND(offset_metadata_max_bytes)},
{"cluster", "group.max.size", T::int32, opt, "1000", 1, i32_max, "",
 "Members (plus member ids handed out and not yet used) one consumer group may have; a newcomer beyond it gets GROUP_MAX_SIZE_REACHED. Kafka's default is unlimited; 1000 bounds a group's memory and its rebalances.",
 AL_BIND(group_max_size)},
{"cluster", "middleman.heartbeat.interval.ms", T::duration_ms, opt, "500", 1, i32_max, "",
 "Interval of CAF middleman heartbeats between nodes; with middleman.connection.timeout.ms it detects hung peers.",
 AL_BIND(middleman_heartbeat_interval_ms)},
{"cluster", "middleman.connection.timeout.ms", T::duration_ms, opt, "3000", 1, i32_max, "",
 "A peer connection silent (not even heartbeats) for this long is closed; must exceed middleman.heartbeat.interval.ms.",
 AL_BIND(middleman_connection_timeout_ms)},
{"cluster", "max.broker.partitions", T::int32, opt, "1000", 1, i32_max, "",
 "Partition replicas one broker may host; creating or adding partitions that would place more on any broker is refused with POLICY_VIOLATION (each replica keeps about one file open).",
 AL_BIND(max_broker_partitions)},
{"cluster", "request.timeout.ms", T::duration_ms, opt, "30000", 1, i32_max, "",
 "Timeout of every request to another node (CAF 0.17 gives no early error when a peer dies).",
 AL_BIND(request_timeout_ms)},

{"log", "num.partitions", T::int32, opt, "1", 1, i32_max, "",
 "Partitions of a topic created without an explicit count.",
 AL_BIND(log_defaults.num_partitions)},
{"log", "default.replication.factor", T::int32, opt, "1", 1, 32767, "",
 "Replication factor of a topic created without an explicit one.",
 AL_BIND(log_defaults.default_replication_factor)},
{"log", "min.insync.replicas", T::int32, opt, "1", 1, i32_max, "",
 "With acks=all a write fails with NOT_ENOUGH_REPLICAS while fewer replicas are in the ISR.",
 AL_BIND(log_defaults.min_insync_replicas)},
{"log", "retention.ms", T::duration_ms, opt, "604800000", -1, i64_max, "",
 "Delete log segments older than this; -1 = keep forever.",
 AL_BIND(log_defaults.retention_ms)},
{"log", "retention.bytes", T::int64, opt, "-1", -1, i64_max, "",
 "Delete the oldest segments while a partition is larger than this; -1 = no size limit.",
 AL_BIND(log_defaults.retention_bytes)},
{"log", "segment.bytes", T::int32, opt, "1073741824", 1024, i32_max, "",
 "Roll a new log segment when the active one reaches this size.",
 AL_BIND(log_defaults.segment_bytes)},
{"log", "segment.ms", T::duration_ms, opt, "604800000", 1, i64_max, "",
 "Roll a new log segment after this long even if it is not full.",
 AL_BIND(log_defaults.segment_ms)},
{"log", "cleanup.policy", T::string_list, opt, "delete", 0, 0, "compact|delete",
 "delete (old segments by retention), compact (keep the last record per key) or compact,delete.",
 AL_BIND(log_defaults.cleanup_policy)},
{"log", "log.flush.interval.messages", T::int64, opt, "9223372036854775807", 1, i64_max, "",
 "fsync a partition after this many messages; the default (Long.MAX_VALUE) never forces it, replication protects the data.",
 AL_BIND(log_defaults.log_flush_interval_messages)},
{"log", "log.flush.interval.ms", T::duration_ms, opt, "-1", -1, i64_max, "",
 "fsync a partition at least this often; -1 = no time-based flush.",
 AL_BIND(log_defaults.log_flush_interval_ms)},
{"log", "max.message.bytes", T::int32, opt, "1048588", 0, i32_max, "",
 "Largest record batch (after compression) a topic accepts.",
 AL_BIND(log_defaults.max_message_bytes)},
{"log", "delete.retention.ms", T::duration_ms, opt, "86400000", 0, i64_max, "",
 "How long delete markers (tombstones) are kept on compacted topics.",
 AL_BIND(log_defaults.delete_retention_ms)},
{"log", "index.interval.bytes", T::int32, opt, "4096", 0, i32_max, "",
 "Add an offset index entry every this many bytes of log.",
 AL_BIND(log_defaults.index_interval_bytes)},
{"log", "log.retention.check.interval.ms", T::duration_ms, opt, "300000", 1, i64_max, "",
 "How often segments are checked for deletion by retention.ms and retention.bytes.",
 AL_BIND(log_defaults.log_retention_check_interval_ms)},
{"log", "compression.type", T::enumeration, opt, "producer", 0, 0, "producer|none|gzip|snappy|lz4|zstd",
 "Codec of stored batches: producer keeps the producer's codec, any other value recompresses.",
 AL_BIND(log_defaults.compression_type)},
{"log", "log.message.timestamp.before.max.ms", T::duration_ms, opt, "9223372036854775807", 0, i64_max, "",
 "A record whose timestamp is more than this before the broker's clock is refused with INVALID_TIMESTAMP (topic config message.timestamp.before.max.ms).",
 AL_BIND(log_defaults.log_message_timestamp_before_max_ms)},
{"log", "log.message.timestamp.after.max.ms", T::duration_ms, opt, "3600000", 0, i64_max, "",
 "A record whose timestamp is more than this after the broker's clock is refused with INVALID_TIMESTAMP (topic config message.timestamp.after.max.ms; a far future timestamp would hold off retention.ms).",
 AL_BIND(log_defaults.log_message_timestamp_after_max_ms)},
};
// clang-format on

#undef AL_BIND

std::string range_text(const key_info& k) {
  auto type_max = k.type == T::int32 ? i32_max : i64_max;
  if (k.min == -1 && k.max == type_max)
    return "-1 or >= 0";
  if (k.max == type_max)
    return ">= " + std::to_string(k.min);
  if (k.min == i64_min)
    return "<= " + std::to_string(k.max);
  return std::to_string(k.min) + ".." + std::to_string(k.max);
}

/// "int, >= 0", "duration ms, -1 or >= 0", "enum: a|b", "host:port", ...
std::string help_type(const key_info& k) {
  std::string out{type_name(k.type)};
  switch (k.type) {
    case T::int32:
    case T::int64: return out + ", " + range_text(k);
    case T::duration_ms: return out + " ms, " + range_text(k);
    case T::string_list:
    case T::enumeration: return out + ": " + std::string{k.allowed};
    case T::voters: return out + ": id@host:port,...";
    default: return out;
  }
}

} // namespace

const std::vector<key_info>& config_schema() {
  return schema_table;
}

const std::vector<std::string_view>& config_sections() {
  static const std::vector<std::string_view> sections{"node", "cluster", "log"};
  return sections;
}

const key_info* find_config_key(std::string_view name) {
  for (auto& k : schema_table)
    if (k.name == name)
      return &k;
  return nullptr;
}

std::string_view type_name(value_type t) {
  switch (t) {
    case T::int32: return "int";
    case T::int64: return "long";
    case T::boolean: return "bool";
    case T::string: return "string";
    case T::duration_ms: return "duration";
    case T::string_list: return "list";
    case T::enumeration: return "enum";
    case T::host_port: return "host:port";
    case T::voters: return "voters";
    case T::kafka_listener: return "listener";
  }
  return "?";
}

std::string describe_expected(const key_info& k) {
  switch (k.type) {
    case T::int32:
    case T::int64: return "integer, " + range_text(k);
    case T::duration_ms: return "milliseconds, " + range_text(k);
    case T::boolean: return "true or false";
    case T::string: return "a non-empty string";
    case T::string_list: return "comma-separated list of " + join_allowed(k.allowed);
    case T::enumeration: return "one of " + join_allowed(k.allowed);
    case T::host_port: return "host:port";
    case T::voters: return "id@host:port,id@host:port,...";
    case T::kafka_listener: return "PLAINTEXT://host:port";
  }
  return "?";
}

std::string render_config_help() {
  std::string out;
  out += "Node config keys (Kafka names). Set them in the INI file under their [section],\n"
         "or with --override key=value (applied after the file, checked the same way).\n";
  for (auto section : config_sections()) {
    out += "\n[";
    out += section;
    out += "]\n";
    for (auto& k : schema_table) {
      if (k.section != section)
        continue;
      out += "  ";
      out += k.name;
      out += "  (";
      out += help_type(k);
      if (k.required) {
        out += "; required)\n";
      } else {
        out += "; default ";
        out += k.default_text;
        out += ")\n";
      }
      out += "      ";
      out += k.help;
      out += '\n';
    }
  }
  return out;
}

} // namespace al::config
