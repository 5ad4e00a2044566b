// The group coordinator's part in transactions (issue 16, Kafka's
// TxnOffsetCommit and completePendingTxnOffsetCommit): offsets committed
// inside a producer's transaction are appended to the offsets partition as
// that producer's transactional batch (the partition fences an older
// epoch), wait in the group's txn_offsets_machine, and take effect when the
// COMMIT marker reaches the partition (the broker tells the coordinator
// once WriteTxnMarkers wrote it) or go on ABORT. A coordinator that loads
// the partition finds them the same way (offsets_loader).
#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/group/group_coordinator_actor.hpp"
#include "actors/group/group_limits.hpp"
#include "actors/protocol/errors.hpp"
#include "storage/record_batch.hpp"

namespace al {

namespace {

using self_ptr = group_coordinator_ptr;

/// KIP-447: a producer that passes its consumer's group metadata (member
/// id, generation) commits only as a member of the current generation, so
/// a zombie of an earlier generation is refused; without them (member id
/// empty, generation -1) nothing is checked. Kafka's doTxnCommitOffsets.
errc check_txn_member(const group_machine& m, const txn_offset_commit_request& req) {
  if (m.state() == group_state::dead)
    return errc::coordinator_not_available;
  if (!req.member_id.empty() && !m.is_member(req.member_id))
    return errc::unknown_member_id;
  if (req.generation_id >= 0 && req.generation_id != m.generation_id())
    return errc::illegal_generation;
  return errc::none;
}

offset_commit_response failed(const txn_offset_commit_request& req, errc code) {
  offset_commit_response r;
  r.error = code;
  for (auto& [tp, o] : req.offsets)
    r.partition_errors[tp] = code;
  return r;
}

/// The offsets as the group stores them.
group_offsets rows_of(const txn_offset_commit_request& req, int64_t now_ms) {
  group_offsets out;
  for (auto& [tp, o] : req.offsets)
    out[tp] = group_offset{o.offset, o.metadata, req.generation_id, now_ms, o.leader_epoch};
  return out;
}

/// The producer's batch: its id and epoch, the transactional bit, no
/// sequence (Kafka's coordinator writes it so; only __consumer_offsets
/// takes such a batch).
bytes txn_commit_batch(const std::string& group_id, const txn_offset_commit_request& req,
                       const group_offsets& offsets, int64_t now_ms) {
  auto batch = offset_commit_batch(group_id, offsets, now_ms);
  store_be<int64_t>(batch.data() + batch_layout::producer_id, req.producer_id);
  store_be<int16_t>(batch.data() + batch_layout::producer_epoch, req.producer_epoch);
  auto attrs = load_be<int16_t>(batch.data() + batch_layout::attributes);
  store_be<int16_t>(batch.data() + batch_layout::attributes,
                    int16_t(attrs | batch_attr::transactional));
  write_batch_crc(batch.data(), batch.size());
  return batch;
}

/// Appends the producer's batch through the broker, which asks the
/// transaction coordinator whether the producer added this partition to its
/// transaction before the batch may open one here (KIP-890 part 1), and
/// keeps it in order with the markers it sends to the partition. Without a
/// broker (unit tests) the batch goes straight to the partition.
template <class OnWritten, class OnError>
void append_txn_batch(self_ptr self, const std::string& transactional_id, bytes batch,
                      OnWritten on_written, OnError on_error) {
  auto timeout = std::chrono::milliseconds(self->state.setup.request_timeout_ms + 1000);
  auto one = offsets_append(self, std::move(batch));
  auto broker = caf::actor_cast<caf::actor>(self->state.setup.owner);
  if (!broker) {
    self->request(self->state.setup.log, timeout, produce_atom::value, std::move(one))
      .then(on_written, on_error);
    return;
  }
  produce_set_request set;
  set.acks = one.acks;
  set.timeout_ms = one.timeout_ms;
  set.transactional_id = transactional_id;
  set.parts.push_back(produce_part{std::move(one.topic), one.partition, std::move(one.batch)});
  self->request(broker, timeout, produce_atom::value, std::move(set))
    .then(
      [on_written, on_error](produce_set_response& r) mutable {
        if (r.results.size() != 1) {
          caf::error err = make_error(errc::unknown_server_error,
                                      "the broker answered a one-partition produce with " +
                                        std::to_string(r.results.size()) + " results");
          return on_error(err);
        }
        auto& result = r.results.front();
        if (result.error != errc::none) {
          caf::error err = make_error(result.error, result.message);
          return on_error(err);
        }
        on_written(result.response);
      },
      on_error);
}

} // namespace

caf::result<offset_commit_response> on_txn_offset_commit(group_coordinator_ptr self,
                                                         const std::string& group_id,
                                                         txn_offset_commit_request& req) {
  if (auto err = check_group_request(self, group_id))
    return err;
  if (req.offsets.empty())
    return offset_commit_response{};
  if (req.producer_id < 0 || req.producer_epoch < 0 || req.transactional_id.empty())
    return failed(req, errc::invalid_request);
  if (auto st = check_offset_commit(req.member_id, req.offsets); !st)
    return to_caf_error(st);
  auto now = coordinator_now_ms(self);
  auto* g = find_group(self, group_id);
  if (!g)
    g = &add_group(self, group_id, {}, 0);
  if (auto code = check_txn_member(*g->machine, req); code != errc::none)
    return failed(req, code);
  auto offsets = rows_of(req, now);
  auto incarnation = g->incarnation;
  auto pid = req.producer_id;
  auto rp = self->make_response_promise<offset_commit_response>();
  append_txn_batch(
      self, req.transactional_id, txn_commit_batch(group_id, req, offsets, now),
      [self, rp, group_id, incarnation, pid, offsets](const produce_response& r) mutable {
        auto* grp = find_group(self, group_id);
        if (!grp || grp->incarnation != incarnation) { // deleted meanwhile
          rp.deliver(make_error(errc::coordinator_not_available,
                                "group " + group_id + " changed while committing"));
          return;
        }
        grp->txn_offsets.on_txn_commit_appended(pid, offsets, r.base_offset);
        rp.deliver(offset_commit_response{});
      },
      [rp, req, group_id](caf::error& err) mutable {
        auto code = error_code_of(err);
        spdlog::warn("group {}: transactional offset commit of producer {} failed: {}", group_id,
                     req.producer_id, describe_error(err));
        // The producer's epoch was fenced at the partition, or its
        // transaction does not hold this partition (the broker's check
        // with the transaction coordinator): the client's own error; the
        // others as a coordinator would map them.
        if (code != errc::invalid_producer_epoch && code != errc::producer_fenced &&
            code != errc::invalid_txn_state && code != errc::invalid_producer_id_mapping)
          code = commit_error_for(code);
        rp.deliver(failed(req, code));
      });
  return rp;
}

void on_txn_marker(group_coordinator_ptr self, int64_t producer_id, bool commit) {
  auto& st = self->state;
  if (!st.loaded) {
    st.markers_while_loading.emplace_back(producer_id, commit);
    return;
  }
  for (auto& [group_id, g] : st.groups) {
    if (!g.txn_offsets.producers().count(producer_id))
      continue;
    auto offsets = g.txn_offsets.on_marker(producer_id, commit);
    if (offsets.empty())
      continue;
    g.machine->install_offsets(offsets);
    if (st.setup.store) {
      std::map<int32_t, group_offsets> by_generation;
      for (auto& [tp, v] : offsets)
        by_generation[v.generation_id][tp] = v;
      for (auto& [generation, rows] : by_generation)
        self->send(st.setup.store, offset_commit_atom::value, group_id, generation,
                   store_rows(rows));
    }
    spdlog::debug("group {}: {} offset(s) of producer {}'s transaction committed", group_id,
                  offsets.size(), producer_id);
  }
}

void restore_pending_txn_offsets(group_coordinator_ptr self, const offsets_loader& loader) {
  for (auto& [pid, commits] : loader.pending_txn_commits())
    for (auto& c : commits) {
      auto* g = find_group(self, c.group_id);
      if (!g)
        g = &add_group(self, c.group_id, {}, 0);
      g->txn_offsets.on_txn_commit_appended(pid, c.offsets, c.record_offset);
      // Plain commits read after it win at its marker.
      for (auto& [tp, v] : c.offsets)
        if (auto at = loader.plain_commit_offset(c.group_id, tp); at > c.record_offset)
          g->txn_offsets.on_plain_commit_appended(group_offsets{{tp, v}}, at);
    }
}

} // namespace al
