// Transactions inside the broker (broker_txn.hpp, issue 16): coordinator
// placement on __transaction_state, the coordinators' lifecycle, request
// routing, and WriteTxnMarkers to partition leaders.
#include "actors/broker/broker_txn.hpp"

#include <chrono>
#include <memory>
#include <set>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/broker/broker_peer_call.hpp"
#include "actors/controller/image_lookup.hpp"
#include "actors/group/group_placement.hpp"
#include "actors/txn/txn_coordinator_actor.hpp"

namespace al {

namespace {

/// Kafka's limit on a transactional.id is the protocol's string length;
/// actorlog keeps ids to what a topic name may be, so a log line or a
/// __transaction_state key stays small.
constexpr size_t max_transactional_id_bytes = 249;

caf::error check_transactional_id(const std::string& id) {
  if (id.empty())
    return make_error(errc::invalid_request, "transactional.id is empty");
  if (id.size() > max_transactional_id_bytes)
    return make_error(errc::invalid_request,
                      "transactional.id is " + std::to_string(id.size()) + " bytes, at most " +
                        std::to_string(max_transactional_id_bytes));
  return {};
}

/// Kafka creates __transaction_state on the first FindCoordinator for a
/// transactional id: compacted, transaction.state.log.replication.factor
/// capped at the live brokers, min.insync.replicas at most that.
void create_txn_topic(broker_ptr self) {
  auto& st = self->state;
  create_topic_request req;
  req.name = txn_state_topic_name;
  req.partitions = std::max(st.setup.txn_state_num_partitions, 1);
  req.replication_factor = st.setup.txn_state_replication_factor;
  req.configs = {{"cleanup.policy", "compact"},
                 {"min.insync.replicas", std::to_string(std::max(st.setup.txn_state_min_isr, 1))}};
  create_coordinator_topic(self, st.txns.topic, std::move(req));
}

void start_coordinator(broker_ptr self, int32_t partition, int32_t leader_epoch,
                       const partition_api& log) {
  auto& st = self->state;
  txn_coordinator_setup ts;
  ts.node_id = st.setup.node_id;
  ts.partition = partition;
  ts.coordinator_epoch = leader_epoch;
  ts.log = log;
  ts.broker = caf::actor_cast<broker_api>(self);
  ts.config = st.setup.txn;
  ts.owner = self->address();
  // Not linked, as the group coordinators (broker_groups.cpp).
  auto c = self->spawn(txn_coordinator_actor, ts);
  auto running = std::make_shared<std::atomic<bool>>(true);
  c->attach_functor([running](const caf::error&) { *running = false; });
  st.txns.coordinators[partition] = c;
  st.txns.epochs[partition] = leader_epoch;
  st.txns.running[partition] = running;
  spdlog::info("broker {}: coordinating the transactions of {}-{} (epoch {})", st.setup.node_id,
               txn_state_topic_name, partition, leader_epoch);
}

void stop_coordinator(broker_ptr self, int32_t partition) {
  auto& t = self->state.txns;
  auto c = t.coordinators.find(partition);
  if (c == t.coordinators.end())
    return;
  self->send(c->second, unload_atom::value);
  t.coordinators.erase(c);
  t.epochs.erase(partition);
  t.running.erase(partition);
}

/// Forgets coordinators that ended on their own (an exception); a new one
/// starts on the next sync or request.
void forget_ended(broker_ptr self) {
  auto& t = self->state.txns;
  for (auto i = t.running.begin(); i != t.running.end();) {
    if (*i->second) {
      ++i;
      continue;
    }
    spdlog::error("broker {}: the transaction coordinator of {}-{} ended; a new one starts",
                  self->state.setup.node_id, txn_state_topic_name, i->first);
    t.coordinators.erase(i->first);
    t.epochs.erase(i->first);
    i = t.running.erase(i);
  }
}

/// Partitions of __transaction_state led and hosted here, with their epochs.
std::map<int32_t, int32_t> led_partitions(broker_ptr self) {
  auto& st = self->state;
  std::map<int32_t, int32_t> led;
  if (auto t = coordinator_topic(self, txn_state_topic_name))
    for (auto& p : t->partitions)
      if (p.leader == st.setup.node_id &&
          st.partitions.count(topic_partition{txn_state_topic_name, p.partition}))
        led[p.partition] = p.leader_epoch;
  return led;
}

} // namespace

void sync_txn_coordinators(broker_ptr self) {
  auto& st = self->state;
  forget_ended(self);
  auto led = led_partitions(self);
  std::vector<int32_t> stale;
  for (auto& [p, c] : st.txns.coordinators) {
    auto l = led.find(p);
    if (l == led.end() || l->second != st.txns.epochs[p])
      stale.push_back(p);
  }
  for (auto p : stale) {
    spdlog::info("broker {}: no longer coordinating {}-{} in epoch {}", st.setup.node_id,
                 txn_state_topic_name, p, st.txns.epochs[p]);
    stop_coordinator(self, p);
  }
  for (auto& [p, epoch] : led)
    if (!st.txns.coordinators.count(p))
      start_coordinator(self, p, epoch,
                        st.partitions.at(topic_partition{txn_state_topic_name, p}).actor);
  answer_finding(self, st.txns.topic);
}

caf::result<coordinator_info> on_find_txn_coordinator(broker_ptr self,
                                                      const std::string& transactional_id) {
  if (auto err = check_transactional_id(transactional_id))
    return err;
  return find_coordinator(self, self->state.txns.topic, transactional_id,
                          [self] { create_txn_topic(self); });
}

caf::expected<txn_coordinator_api> txn_coordinator_for(broker_ptr self,
                                                       const std::string& transactional_id) {
  if (auto err = check_transactional_id(transactional_id))
    return err;
  auto info = locate_coordinator(self, txn_state_topic_name, transactional_id);
  if (!info)
    return std::move(info.error());
  auto& st = self->state;
  if (info->node_id != st.setup.node_id)
    return make_error(errc::not_coordinator, "transactional id " + transactional_id +
                                               " is coordinated by node " +
                                               std::to_string(info->node_id));
  forget_ended(self);
  if (!st.txns.coordinators.count(info->partition))
    sync_txn_coordinators(self); // led here, its coordinator ended: a new one loads
  auto c = st.txns.coordinators.find(info->partition);
  if (c == st.txns.coordinators.end())
    return make_error(errc::coordinator_not_available,
                      "the transaction coordinator of " + std::string(txn_state_topic_name) +
                        "-" + std::to_string(info->partition) + " is starting");
  return c->second;
}

caf::result<std::vector<txn_description>> on_list_txns(broker_ptr self) {
  forget_ended(self);
  return gather_lists<txn_description>(
    self, self->state.txns.coordinators, txn_list_atom::value,
    [](const txn_description& a, const txn_description& b) {
      return a.transactional_id < b.transactional_id;
    });
}

caf::result<std::vector<txn_description>> on_describe_txns(broker_ptr self,
                                                           const std::vector<std::string>& ids) {
  // Ids coordinated here go to their coordinator; the others are answered
  // with why not (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE), and a
  // loading coordinator's ids with COORDINATOR_LOAD_IN_PROGRESS, as Kafka's
  // DescribeTransactions does per id. Unknown ids are left out.
  auto out = std::make_shared<std::vector<txn_description>>();
  auto refused = [out](const std::string& id, errc code) {
    txn_description d;
    d.transactional_id = id;
    d.error = code;
    out->push_back(std::move(d));
  };
  std::map<int32_t, std::vector<std::string>> by_partition;
  for (auto& id : ids) {
    auto c = txn_coordinator_for(self, id);
    if (!c) {
      refused(id, error_code_of(c.error()));
      continue;
    }
    auto info = locate_coordinator(self, txn_state_topic_name, id);
    by_partition[info->partition].push_back(id);
  }
  if (by_partition.empty())
    return std::move(*out);
  auto rp = self->make_response_promise<std::vector<txn_description>>();
  auto pending = std::make_shared<size_t>(by_partition.size());
  auto done = [rp, out, pending]() mutable {
    if (--*pending == 0)
      rp.deliver(std::move(*out));
  };
  for (auto& [p, part_ids] : by_partition)
    self->request(self->state.txns.coordinators.at(p), std::chrono::seconds(10),
                  txn_describe_atom::value, part_ids)
      .then(
        [out, done](std::vector<txn_description>& part) mutable {
          out->insert(out->end(), part.begin(), part.end());
          done();
        },
        [refused, done, part_ids](caf::error& err) mutable {
          for (auto& id : part_ids)
            refused(id, error_code_of(err));
          done();
        });
  return rp;
}

caf::result<txn_response> on_add_offsets(broker_ptr self, txn_add_offsets_request& req) {
  auto t = coordinator_topic(self, offsets_topic_name);
  if (!t) { // created now; the client retries
    ensure_offsets_topic(self);
    txn_response r;
    r.error = errc::coordinator_not_available;
    r.message = std::string(offsets_topic_name) + " does not exist yet";
    return r;
  }
  txn_add_partitions_request add;
  add.transactional_id = std::move(req.transactional_id);
  add.producer_id = req.producer_id;
  add.producer_epoch = req.producer_epoch;
  add.partitions.push_back(topic_partition{
    offsets_topic_name, offsets_partition_for(req.group_id, int32_t(t->partitions.size()))});
  return route_txn_request(self, txn_add_atom::value, add);
}

caf::result<produce_response> on_write_marker(broker_ptr self, txn_marker_request& req) {
  auto& st = self->state;
  auto* described = find_partition(st.image, req.topic, req.partition);
  if (!described)
    return make_error(errc::unknown_topic_or_partition,
                      req.topic + "-" + std::to_string(req.partition) + " does not exist");
  auto leader = described->leader;
  auto& sender = self->current_sender();
  bool from_peer = sender && sender->node() != self->node();
  if (leader == st.setup.node_id || from_peer || leader < 0) {
    // Here (a peer's request is never sent on again: the partition answers
    // NOT_LEADER_OR_FOLLOWER when it is not the leader, and the
    // coordinator retries after a metadata update).
    auto local = route_partition(st, req.topic, req.partition);
    if (!local)
      return to_caf_error(local.error());
    verify_marker(self, topic_partition{req.topic, req.partition}, req.producer_id);
    if (req.topic != offsets_topic_name)
      return self->delegate(*local, txn_marker_atom::value, std::move(req));
    // In __consumer_offsets the group coordinator of the partition learns
    // of the marker once it is written: the transaction's offsets take
    // effect (COMMIT) or go (ABORT).
    auto rp = self->make_response_promise<produce_response>();
    auto partition = req.partition;
    auto pid = req.producer_id;
    auto commit = req.commit;
    self->request(*local, std::chrono::milliseconds(req.timeout_ms + 1000),
                  txn_marker_atom::value, std::move(req))
      .then(
        [self, rp, partition, pid, commit](const produce_response& r) mutable {
          auto c = self->state.groups.coordinators.find(partition);
          if (c != self->state.groups.coordinators.end())
            self->send(c->second, txn_marker_atom::value, pid, commit);
          rp.deliver(r);
        },
        [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
    return rp;
  }
  auto timeout = std::chrono::milliseconds(req.timeout_ms + 1000);
  return forward_to_peer<produce_response>(self, leader, timeout, txn_marker_atom::value,
                                           std::move(req));
}

} // namespace al
