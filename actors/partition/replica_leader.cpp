// replica_machine, leader role: follower progress, high watermark, acks=all,
// ISR shrink/expand proposals (Kafka's Partition.scala, KIP-497).
//
// ISR bookkeeping. isr_ is what the controller committed at
// partition_epoch_. Every proposal carries that partition epoch, and the
// controller applies a proposal only if its partition epoch is still the
// current one (compare-and-set), so at most one proposal per partition
// epoch is ever applied - but the leader cannot always tell which (answers
// get lost, requests get retried or duplicated). maximal_isr_ is therefore
// isr_ plus every member proposed at this partition epoch, and the HW is the
// minimum LEO over maximal_isr_: whatever the controller committed, its ISR
// holds everything below the HW. Learning a newer partition epoch (answer or
// metadata) resets maximal_isr_ to the committed ISR. Kafka keeps one
// proposal in flight over TCP; this rule also holds when requests are
// retried, duplicated or reordered.
#include <algorithm>

#include "actors/partition/replica_machine.hpp"
#include "storage/assert.hpp"

namespace al {

namespace {
/// How long a follower refused as ineligible stays out of proposals at least.
constexpr int64_t ineligible_backoff_ms = 1000;

bool contains(const std::vector<int32_t>& v, int32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
} // namespace

void replica_machine::reset_followers(int64_t now_ms) {
  // Kafka's resetReplicaState for a new leader: LEO unknown; ISR members get
  // a full lag window from now to show up, the others none.
  followers_.clear();
  for (auto id : replicas_) {
    if (id == config_.broker_id)
      continue;
    follower_progress f;
    f.last_caught_up_ms = contains(isr_, id) ? now_ms : 0;
    followers_.emplace(id, f);
  }
}

bool replica_machine::can_accept_acks_all(int32_t min_insync_replicas) const {
  return role_ == replica_role::leader && int32_t(isr_.size()) >= min_insync_replicas;
}

void replica_machine::on_append(int64_t new_leo) {
  AL_ASSERT(role_ == replica_role::leader, "append while", to_string(role_));
  AL_ASSERT(new_leo >= leo_, "log end went down from", leo_, "to", new_leo);
  leo_ = new_leo;
  maybe_advance_hw();
}

void replica_machine::wait_for(uint64_t id, int64_t last_offset, int32_t min_insync_replicas) {
  AL_ASSERT(acks_.count(id) == 0, "ack id", id, "already waits");
  if (role_ != replica_role::leader) {
    ready_.acks.push_back({id, errc::not_leader_or_follower});
    return;
  }
  AL_ASSERT(last_offset >= 0 && last_offset < leo_, "wait for", last_offset, "leo", leo_);
  acks_.emplace(id, pending_ack{last_offset, min_insync_replicas});
  complete_acks();
}

void replica_machine::cancel_wait(uint64_t id) { acks_.erase(id); }

void replica_machine::complete_acks() {
  AL_ASSERT(role_ == replica_role::leader || acks_.empty(), "acks waiting while",
            to_string(role_));
  for (auto i = acks_.begin(); i != acks_.end();) {
    if (hw_ <= i->second.last_offset) {
      ++i;
      continue;
    }
    // Kafka's checkEnoughReplicasReachOffset: the record is on every member
    // of the maximal ISR; too few of them and the producer hears so.
    bool enough = int32_t(maximal_isr_.size()) >= i->second.min_insync_replicas;
    ready_.acks.push_back(
      {i->first, enough ? errc::none : errc::not_enough_replicas_after_append});
    i = acks_.erase(i);
  }
}

void replica_machine::fail_acks(errc why) {
  for (auto& [id, ack] : acks_)
    ready_.acks.push_back({id, why});
  acks_.clear();
}

leader_fetch_result replica_machine::on_fetch(const replica_fetch_request& req, int64_t now_ms) {
  leader_fetch_result r;
  r.error = check_leader_epoch(req.current_leader_epoch);
  auto f = followers_.find(req.replica_id);
  if (r.error == errc::none && f == followers_.end())
    r.error = errc::not_leader_or_follower; // not a replica of this partition
  if (r.error == errc::none && (req.fetch_offset < 0 || req.fetch_offset > leo_))
    r.error = errc::offset_out_of_range;
  if (r.error == errc::none) {
    update_follower(f->second, req.fetch_offset, now_ms);
    f->second.broker_epoch = req.broker_epoch;
    maybe_change_isr(now_ms); // expansion first, as Kafka does
    maybe_advance_hw();
  }
  r.high_watermark = hw_;
  r.log_end_offset = leo_;
  return r;
}

void replica_machine::update_follower(follower_progress& f, int64_t fetch_offset,
                                      int64_t now_ms) {
  AL_ASSERT(fetch_offset >= 0 && fetch_offset <= leo_, "fetch at", fetch_offset, "leo", leo_);
  // Kafka's Replica.updateFetchStateOrThrow: caught up "now" if the fetch
  // reaches our LEO, or "as of the previous fetch" if it reaches the LEO we
  // had when that previous fetch came.
  if (fetch_offset >= leo_)
    f.last_caught_up_ms = std::max(f.last_caught_up_ms, now_ms);
  else if (fetch_offset >= f.last_fetch_leader_leo)
    f.last_caught_up_ms = std::max(f.last_caught_up_ms, f.last_fetch_ms);
  f.last_fetch_leader_leo = leo_;
  f.last_fetch_ms = now_ms;
  f.log_end_offset = fetch_offset;
}

bool replica_machine::caught_up(const follower_progress& f, int64_t now_ms) const {
  return f.log_end_offset == leo_ ||
         now_ms - f.last_caught_up_ms <= config_.replica_lag_time_max_ms;
}

bool replica_machine::may_join_isr(const follower_progress& f, int64_t now_ms) const {
  // Refused as ineligible: not again until it fetched after the refusal
  // (a dead broker never does) and the back-off passed (a fenced one that
  // fetches again is unfenced by its next heartbeats).
  if (f.refused_ms >= 0 &&
      (f.last_fetch_ms <= f.refused_ms || now_ms - f.refused_ms < ineligible_backoff_ms))
    return false;
  // It has everything committed, and it has reached this epoch, so its log
  // is a prefix of ours (it truncated against us before fetching).
  return f.log_end_offset >= hw_ && f.log_end_offset >= epoch_start_offset_;
}

void replica_machine::maybe_advance_hw() {
  if (role_ != replica_role::leader)
    return;
  int64_t candidate = leo_;
  for (auto id : maximal_isr_) {
    if (id == config_.broker_id)
      continue;
    auto f = followers_.find(id);
    AL_ASSERT(f != followers_.end(), "ISR member", id, "is not a replica");
    candidate = std::min(candidate, f->second.log_end_offset); // -1 while unknown
  }
  AL_ASSERT(candidate <= leo_ && !maximal_isr_.empty(), "candidate", candidate, "leo", leo_);
  if (candidate > hw_) {
    set_hw(candidate);
    complete_acks();
  }
}

void replica_machine::maybe_change_isr(int64_t now_ms) {
  if (role_ != replica_role::leader || awaiting_metadata_)
    return;
  std::vector<int32_t> desired;
  for (auto id : replicas_) {
    if (id == config_.broker_id) {
      desired.push_back(id);
      continue;
    }
    auto& f = followers_.at(id);
    // A member stays while caught up within the lag time; a non-member
    // joins when it has reached the HW and this epoch - and is still
    // fetching (an in-doubt proposal holds the HW where a dead follower
    // left it, so "reached the HW" alone would keep re-adding it).
    bool in = contains(isr_, id);
    if (caught_up(f, now_ms) && (in || may_join_isr(f, now_ms)))
      desired.push_back(id);
  }
  if (desired == isr_ && maximal_isr_ == isr_)
    return; // nothing to change, nothing in doubt
  // desired == isr_ with earlier proposals in doubt: proposing the committed
  // ISR moves the partition epoch on, which settles them (see the top).
  if (desired == last_proposed_ && now_ms - last_proposed_ms_ < config_.request_timeout_ms)
    return; // already asked; wait for the answer or the metadata
  propose_isr(std::move(desired), now_ms);
}

void replica_machine::propose_isr(std::vector<int32_t> new_isr, int64_t now_ms) {
  AL_ASSERT(contains(new_isr, config_.broker_id), "proposed ISR", describe_ids(new_isr),
            "lacks the leader", config_.broker_id);
  std::vector<int32_t> maximal;
  for (auto id : replicas_)
    if (contains(maximal_isr_, id) || contains(new_isr, id))
      maximal.push_back(id);
  AL_ASSERT(maximal.size() >= maximal_isr_.size());
  maximal_isr_ = std::move(maximal);
  alter_isr_request req;
  req.tp = config_.tp;
  req.leader_id = config_.broker_id;
  req.leader_epoch = leader_epoch_;
  req.partition_epoch = partition_epoch_;
  req.new_isr = new_isr;
  for (auto id : new_isr)
    if (auto f = followers_.find(id); f != followers_.end() && f->second.broker_epoch >= 0)
      req.broker_epochs[id] = f->second.broker_epoch;
  req.proposal_id = next_proposal_id_++;
  ready_.alter_isr.push_back(std::move(req));
  last_proposed_ = std::move(new_isr);
  last_proposed_ms_ = now_ms;
}

void replica_machine::commit_isr(std::vector<int32_t> isr, int32_t partition_epoch) {
  AL_ASSERT(role_ == replica_role::leader && partition_epoch > partition_epoch_,
            "partition epoch", partition_epoch, "current", partition_epoch_);
  AL_ASSERT(contains(isr, config_.broker_id), "committed ISR", describe_ids(isr),
            "lacks the leader", config_.broker_id);
  for (auto id : isr)
    AL_ASSERT(contains(replicas_, id), "ISR member", id, "not a replica");
  isr_ = std::move(isr);
  maximal_isr_ = isr_;
  partition_epoch_ = partition_epoch;
  last_proposed_.clear();
  awaiting_metadata_ = false;
  epoch_first_proposal_id_ = next_proposal_id_;
  maybe_advance_hw(); // a shrink can let it move
}

void replica_machine::on_alter_isr_response(const alter_isr_response& resp, int64_t now_ms) {
  if (role_ != replica_role::leader || resp.proposal_id < epoch_first_proposal_id_)
    return; // not ours, or about a partition epoch we left behind
  if (resp.error == alter_isr_error::none) {
    if (resp.leader_epoch == leader_epoch_ && resp.partition_epoch > partition_epoch_)
      commit_isr(resp.isr, resp.partition_epoch);
    return;
  }
  if (resp.error == alter_isr_error::invalid_update_version &&
      resp.partition_epoch < partition_epoch_) {
    // The controller is behind us: a new Raft leader that has not applied
    // its log yet (the change that gave us this epoch is in it). No newer
    // metadata will come to wait for; propose again after the request
    // timeout, as for a refusal that changed nothing (txn_sim_test, seed
    // 2414 with 3000 seeds: the ISR stayed short for good).
    return;
  }
  switch (resp.error) {
    case alter_isr_error::fenced_leader_epoch:
    case alter_isr_error::invalid_update_version:
    case alter_isr_error::unknown_topic_or_partition:
      // Our view is stale; metadata will tell us what happened (Kafka waits
      // for it too). Proposals stay in doubt until then.
      awaiting_metadata_ = true;
      break;
    case alter_isr_error::ineligible_replica:
      // Not applied: a member it would add is fenced or restarted. The
      // proposal stays in doubt (a duplicate may still arrive), so the HW
      // waits for that member; proposing the committed ISR right away
      // settles it (a newer partition epoch), and the refused members are
      // left out until they fetch again.
      for (auto id : last_proposed_)
        if (!contains(isr_, id))
          if (auto f = followers_.find(id); f != followers_.end())
            f->second.refused_ms = now_ms;
      last_proposed_.clear();
      maybe_change_isr(now_ms);
      break;
    default:
      // Not applied (malformed). The proposal stays in doubt (a duplicate
      // may still arrive); we propose again after the request timeout if
      // it is still what we want.
      break;
  }
}

offsets_for_epoch_response replica_machine::on_offsets_for_epoch(
  const offsets_for_epoch_request& req) {
  offsets_for_epoch_response resp;
  resp.current_leader_epoch = req.current_leader_epoch;
  resp.requested_epoch = req.requested_epoch;
  resp.error = check_leader_epoch(req.current_leader_epoch);
  if (resp.error != errc::none)
    return resp;
  auto eo = epochs_.end_offset_for(req.requested_epoch, leo_);
  resp.epoch = eo.epoch;
  resp.end_offset = eo.end_offset;
  return resp;
}

} // namespace al
