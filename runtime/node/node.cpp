#include "runtime/node/node.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/resource.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/broker/broker_actor.hpp"
#include "actors/broker/client_gateway_actor.hpp"
#include "actors/controller/controller_actor.hpp"
#include "actors/kafka/kafka_server.hpp"
#include "actors/partition/hw_checkpoint_files.hpp"
#include "actors/protocol/actor_config.hpp"
#include "actors/protocol/errors.hpp"
#include "actors/store/store_api.hpp"
#include "runtime/config/config_schema.hpp"
#include "runtime/guard/listener_guard.hpp"
#include "runtime/node/metrics_server.hpp"
#include "storage/open_file_cache.hpp"
#include "storage/topic_config.hpp"

namespace al {

namespace fs = std::filesystem;

std::string cluster_id_for(const std::vector<config::voter>& voters) {
  std::vector<std::string> names;
  for (auto& v : voters)
    names.push_back(config::to_string(v));
  std::sort(names.begin(), names.end());
  uint64_t h1 = 0xcbf29ce484222325ull, h2 = 0x9e3779b97f4a7c15ull; // FNV-1a, two seeds
  for (auto& n : names)
    for (char c : n + ",") {
      h1 = (h1 ^ uint8_t(c)) * 0x100000001b3ull;
      h2 = (h2 ^ uint8_t(c)) * 0x100000001b3ull;
    }
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id;
  for (int i = 0; i < 22; ++i) {
    auto& h = i < 11 ? h1 : h2;
    id += alphabet[h % 62];
    h = h / 62 * 0x9e3779b97f4a7c15ull + 1;
  }
  return id;
}

result<std::string> prepare_data_dir(const std::string& data_dir, int32_t node_id,
                                     const std::string& new_cluster_id) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec)
    return status{errc::kafka_storage_error, "cannot create data.dir " + data_dir + ": " + ec.message()};
  auto path = data_dir + "/meta.properties";
  std::ifstream in(path);
  std::string cluster_id;
  if (in) {
    std::string line;
    int32_t stored_id = -1;
    while (std::getline(in, line)) {
      if (line.rfind("cluster.id=", 0) == 0)
        cluster_id = line.substr(11);
      else if (line.rfind("node.id=", 0) == 0)
        stored_id = std::atoi(line.c_str() + 8);
    }
    if (cluster_id.empty() || stored_id < 0)
      return status{errc::invalid_config, path + ": missing cluster.id or node.id"};
    if (stored_id != node_id)
      return status{errc::invalid_config, path + ": the data dir belongs to node.id " +
                                            std::to_string(stored_id) + ", not " +
                                            std::to_string(node_id)};
    return cluster_id;
  }
  cluster_id = new_cluster_id;
  auto tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << "version=1\ncluster.id=" << cluster_id << "\nnode.id=" << node_id << "\n";
    if (!out.flush())
      return status{errc::kafka_storage_error, "cannot write " + tmp};
  }
  fs::rename(tmp, path, ec);
  if (ec)
    return status{errc::kafka_storage_error, "cannot write " + path + ": " + ec.message()};
  return cluster_id;
}

namespace {

log_config broker_log_defaults(const config::log_config& c) {
  log_config l;
  l.segment_bytes = c.segment_bytes;
  l.segment_ms = c.segment_ms;
  l.index_interval_bytes = c.index_interval_bytes;
  l.max_message_bytes = c.max_message_bytes;
  l.retention_ms = c.retention_ms;
  l.retention_bytes = c.retention_bytes;
  parse_cleanup_policy(config::to_string(c.cleanup_policy), l.policy);
  l.delete_retention_ms = c.delete_retention_ms;
  l.flush_messages = c.log_flush_interval_messages;
  l.flush_ms = c.log_flush_interval_ms < 0 ? log_config::never : c.log_flush_interval_ms;
  return l;
}

} // namespace

int32_t scheduler_threads(const config::node_config& c) {
  if (c.num_scheduler_threads > 0)
    return c.num_scheduler_threads;
  return std::max(2, int32_t(std::thread::hardware_concurrency()));
}

size_t open_segment_files_bound(const config::node_config& c) {
  if (c.max_open_segment_files > 0)
    return size_t(c.max_open_segment_files);
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
    return 0;
  return std::max<size_t>(64, size_t(lim.rlim_cur) / 4 * 3);
}

namespace {

struct caf_config : actor_config {
  explicit caf_config(const config::node_config& c) {
    load<caf::io::middleman>();
    set("scheduler.max-threads", size_t(scheduler_threads(c)));
    set("middleman.heartbeat-interval",
        caf::timespan{std::chrono::milliseconds(c.middleman_heartbeat_interval_ms)});
    set("middleman.connection-timeout",
        caf::timespan{std::chrono::milliseconds(c.middleman_connection_timeout_ms)});
  }
};

/// Topic-level config -> the node's default, for Kafka's DescribeConfigs: the
/// [log] key of the same name, or the broker key Kafka derives it from.
std::map<std::string, std::string> topic_defaults_of(const config::node_config& cfg) {
  static const std::map<std::string, std::string> broker_key = {
    {"flush.messages", "log.flush.interval.messages"},
    {"flush.ms", "log.flush.interval.ms"},
    {"message.timestamp.before.max.ms", "log.message.timestamp.before.max.ms"},
    {"message.timestamp.after.max.ms", "log.message.timestamp.after.max.ms"}};
  std::map<std::string, std::string> out{{"min.compaction.lag.ms", "0"}}; // Kafka's default
  for (auto& k : topic_config_keys()) {
    auto alias = broker_key.find(k.name);
    auto* key = config::find_config_key(alias != broker_key.end() ? alias->second : k.name);
    if (key)
      out[k.name] = config::format_value(*key, key->load(cfg));
  }
  return out;
}

/// Every key of the node's config with its value (a broker's DescribeConfigs).
std::map<std::string, std::string> broker_configs_of(const config::node_config& cfg) {
  std::map<std::string, std::string> out;
  for (auto& k : config::config_schema())
    out[std::string(k.name)] = config::format_value(k, k.load(cfg));
  return out;
}

} // namespace

struct node::impl {
  config::node_config cfg;
  std::string cluster_id;
  caf_config caf_cfg;
  caf::actor_system sys;
  store_api store;
  controller_api controller;
  broker_api broker;
  client_api gateway;
  std::unique_ptr<guard::listener_guard> guard; // the public listeners
  uint16_t port = 0;      // listeners (clients)
  uint16_t peer_port = 0; // peer.listener (other nodes)
  uint16_t caf_client_port = 0; // CAF's loopback listeners behind the guard
  uint16_t caf_peer_port = 0;
  std::unique_ptr<metrics_server> metrics; // metrics.port != 0
  caf::actor kafka_listener;  // listeners (Kafka clients)
  uint16_t kafka_port = 0;
  /// The broker's HW and recovery-point tables: written durably once more
  /// after every actor is done (stop), when every partition has closed its
  /// log and stored its final values.
  std::shared_ptr<hw_checkpoint_table> hw_table;
  std::shared_ptr<hw_checkpoint_table> recovery_table;
  bool stopped = false;

  impl(const config::node_config& c, std::string cid)
    : cfg(c), cluster_id(std::move(cid)), caf_cfg(c), sys(caf_cfg) {}
};

node::node(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

node::~node() { stop(); }

uint16_t node::port() const { return impl_->port; }
uint16_t node::peer_port() const { return impl_->peer_port; }
uint16_t node::kafka_port() const { return impl_->kafka_port; }
caf::actor_system& node::system() { return impl_->sys; }
caf::actor node::broker() const { return caf::actor_cast<caf::actor>(impl_->broker); }
const std::string& node::cluster_id() const { return impl_->cluster_id; }

result<std::unique_ptr<node>> node::start(const config::node_config& cfg) {
  auto cluster_id = prepare_data_dir(cfg.data_dir, cfg.node_id, cluster_id_for(cfg.quorum_voters));
  if (!cluster_id)
    return cluster_id.error();
  // Process-wide, as the open-file limit is (in-process nodes share it).
  open_file_cache::process().set_capacity(open_segment_files_bound(cfg));
  // A metrics port in use is an error, like the listener's: the node does
  // not start. Bound first, so there is nothing to undo.
  std::unique_ptr<metrics_server> metrics;
  if (cfg.metrics_port != 0) {
    auto m = metrics_server::bind({cfg.node_id, *cluster_id, cfg.caf_listener.host,
                                   uint16_t(cfg.metrics_port), std::chrono::milliseconds(5000)});
    if (!m)
      return m.error();
    metrics = std::move(*m);
  }
  // The public listeners are bound first (a port in use fails the start
  // before any actor runs); connections wait in the backlog until the
  // guard runs, once CAF listens behind it.
  guard::guard_limits limits;
  limits.framer.frame_max_bytes = uint32_t(cfg.socket_request_max_bytes);
  limits.queued_max_request_bytes = cfg.queued_max_request_bytes;
  limits.max_connections = cfg.max_connections;
  limits.frame_timeout_ms = cfg.socket_frame_timeout_ms;
  limits.idle_timeout_ms = cfg.connections_max_idle_ms;
  auto bound = guard::listener_guard::bind(
    {guard::guarded_listener{"client", cfg.caf_listener.host, cfg.caf_listener.port, 0, true},
     guard::guarded_listener{"peer", cfg.peer_listener.host, cfg.peer_listener.port, 0, false}},
    limits);
  if (!bound)
    return bound.error();
  auto p = std::make_unique<impl>(cfg, *cluster_id);
  p->guard = std::move(*bound);
  p->port = p->guard->port(0);
  p->peer_port = p->guard->port(1);
  auto& sys = p->sys;
  p->store = sys.spawn<caf::detached>(store_actor, cfg.data_dir + "/meta.db");
  controller_setup cs;
  cs.node_id = cfg.node_id;
  cs.data_dir = cfg.data_dir;
  cs.cluster_id = *cluster_id;
  cs.defaults.num_partitions = cfg.log_defaults.num_partitions;
  cs.defaults.replication_factor = cfg.log_defaults.default_replication_factor;
  cs.defaults.max_broker_partitions = cfg.max_broker_partitions;
  cs.store = p->store;
  cs.broker_session_timeout_ms = cfg.broker_session_timeout_ms;
  cs.election_timeout_ms = cfg.controller_election_timeout_ms;
  cs.unclean_leader_election = cfg.unclean_leader_election_enable;
  for (auto& v : cfg.quorum_voters)
    cs.voters.push_back(voter_address{v.id, v.host, v.port});
  cs.snapshot_interval_entries = cfg.metadata_snapshot_interval_entries;
  p->controller = sys.spawn<caf::detached>(controller_actor, cs);
  // The Kafka listener is bound before the broker registers, which names it.
  kafka_server::listener_setup ks;
  ks.node_id = cfg.node_id;
  ks.cluster_id = *cluster_id;
  ks.host = cfg.kafka_listener.host;
  ks.port = cfg.kafka_listener.port;
  ks.max_connections = cfg.max_connections;
  ks.socket_request_max_bytes = cfg.socket_request_max_bytes;
  ks.request_timeout_ms = int32_t(cfg.request_timeout_ms);
  ks.auto_create_topics = cfg.auto_create_topics_enable;
  ks.topic_defaults = topic_defaults_of(cfg);
  ks.broker_configs = broker_configs_of(cfg);
  auto kafka = kafka_server::start_listener(sys, ks);
  if (!kafka) {
    auto msg = "cannot listen for Kafka clients on PLAINTEXT://" + cfg.kafka_listener.host + ":" +
               std::to_string(cfg.kafka_listener.port) + " (listeners): " +
               sys.render(kafka.error());
    caf::anon_send_exit(p->controller, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(p->store, caf::exit_reason::user_shutdown);
    return status{errc::network_exception, msg};
  }
  p->kafka_listener = kafka->first;
  p->kafka_port = kafka->second;
  broker_setup bs;
  bs.node_id = cfg.node_id;
  bs.host = cfg.caf_listener.host;
  bs.port = p->port;
  bs.peer_port = p->peer_port;
  if (cfg.advertised_listener.host.empty()) { // advertise what is bound
    bs.kafka_host = cfg.kafka_listener.host;
    bs.kafka_port = p->kafka_port;
  } else {
    bs.kafka_host = cfg.advertised_listener.host;
    bs.kafka_port = cfg.advertised_listener.port;
  }
  bs.fault_injection_enable = cfg.fault_injection_enable;
  bs.data_dir = cfg.data_dir;
  bs.log_defaults = broker_log_defaults(cfg.log_defaults);
  bs.log_defaults.message_timestamp_before_max_ms = cfg.log_defaults.log_message_timestamp_before_max_ms;
  bs.log_defaults.message_timestamp_after_max_ms = cfg.log_defaults.log_message_timestamp_after_max_ms;
  bs.default_min_insync_replicas = cfg.log_defaults.min_insync_replicas;
  bs.retention_check_interval_ms = cfg.log_defaults.log_retention_check_interval_ms;
  bs.heartbeat_interval_ms = cfg.broker_heartbeat_interval_ms;
  bs.heartbeat_thread = true;
  bs.incarnation = std::chrono::system_clock::now().time_since_epoch().count();
  bs.controller = p->controller;
  bs.replica_lag_time_max_ms = cfg.replica_lag_time_max_ms;
  bs.replica_fetch_max_bytes = cfg.replica_fetch_max_bytes;
  bs.replica_fetch_sessions = cfg.replica_fetch_sessions;
  bs.fetch_max_bytes = cfg.fetch_max_bytes;
  bs.fetch_wait_max_ms = cfg.fetch_wait_max_ms;
  bs.fetch_purgatory_max = cfg.fetch_purgatory_max_per_partition;
  bs.producer_id_expiration_ms = cfg.producer_id_expiration_ms;
  bs.offsets_topic_num_partitions = cfg.offsets_topic_num_partitions;
  bs.offsets_topic_replication_factor = cfg.offsets_topic_replication_factor;
  bs.txn_state_num_partitions = cfg.transaction_state_log_num_partitions;
  bs.txn_state_replication_factor = cfg.transaction_state_log_replication_factor;
  bs.txn_state_min_isr = cfg.transaction_state_log_min_isr;
  bs.txn.max_timeout_ms = int32_t(cfg.transaction_max_timeout_ms);
  bs.txn.id_expiration_ms = cfg.transactional_id_expiration_ms;
  bs.group_initial_rebalance_delay_ms = int32_t(cfg.group_initial_rebalance_delay_ms);
  bs.offset_metadata_max_bytes = cfg.offset_metadata_max_bytes;
  bs.group_max_size = cfg.group_max_size;
  bs.store = p->store;
  bs.io_threads = cfg.num_io_threads;
  p->hw_table = std::make_shared<hw_checkpoint_table>(cfg.data_dir);
  p->recovery_table = std::make_shared<hw_checkpoint_table>(cfg.data_dir, recovery_table_name);
  bs.hw_table = p->hw_table;
  bs.recovery_table = p->recovery_table;
  p->broker = sys.spawn(broker_actor, bs);
  gateway_setup gw;
  gw.node_id = cfg.node_id;
  gw.broker = p->broker;
  p->gateway = sys.spawn(client_gateway_actor, gw);
  caf::anon_send(p->kafka_listener, kafka_server::set_gateway_atom::value, p->gateway);
  // CAF listens on loopback ports of its own; only the guard connects there.
  auto client_port = sys.middleman().publish(p->gateway, 0, "127.0.0.1", true);
  auto peer_port = sys.middleman().publish(p->broker, 0, "127.0.0.1", true);
  if (!client_port || !peer_port) {
    auto msg = "cannot open CAF's loopback listener: " +
               sys.render(client_port ? peer_port.error() : client_port.error());
    std::unique_ptr<node> n{new node(std::move(p))};
    n->stop();
    return status{errc::network_exception, msg};
  }
  p->caf_client_port = *client_port;
  p->caf_peer_port = *peer_port;
  p->guard->run({p->caf_client_port, p->caf_peer_port});
  if (metrics) {
    metrics->serve(sys, p->broker);
    spdlog::info("node {} metrics at {}", cfg.node_id, metrics->url());
    p->metrics = std::move(metrics);
  }
  spdlog::info("node {} up: cluster {}, Kafka clients on PLAINTEXT://{}:{}, actorlog clients on "
               "{}:{}, peers on {}:{}, data in {}",
               cfg.node_id, *cluster_id, cfg.kafka_listener.host, p->kafka_port,
               cfg.caf_listener.host, p->port, cfg.peer_listener.host, p->peer_port, cfg.data_dir);
  return std::unique_ptr<node>(new node(std::move(p)));
}

void node::stop() {
  if (!impl_ || impl_->stopped)
    return;
  impl_->stopped = true;
  auto& p = *impl_;
  if (p.metrics)
    p.metrics->stop(); // before the actors it asks go away
  if (p.guard)
    p.guard->stop(); // no new bytes from outside
  if (p.caf_client_port != 0)
    (void)p.sys.middleman().unpublish(p.gateway, p.caf_client_port);
  if (p.caf_peer_port != 0)
    (void)p.sys.middleman().unpublish(p.broker, p.caf_peer_port);
  // The broker's partition actors are linked to it: killing the broker
  // ends them, and each closes (indexes written, fsync) its log on exit.
  if (p.kafka_listener)
    caf::anon_send_exit(p.kafka_listener, caf::exit_reason::user_shutdown);
  if (p.gateway)
    caf::anon_send_exit(p.gateway, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(p.broker, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(p.controller, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(p.store, caf::exit_reason::user_shutdown);
  p.sys.await_all_actors_done();
  // Written here, once every partition has closed its log and stored its
  // values, rather than whenever the tables' last owner lets go.
  for (const auto& table : {p.hw_table, p.recovery_table})
    if (table)
      if (auto st = table->write(true); !st)
        spdlog::error("node {}: {}", p.cfg.node_id, st.to_string());
  spdlog::info("node {} stopped", p.cfg.node_id);
}

} // namespace al
