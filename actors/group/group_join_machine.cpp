// JoinGroup and the rebalance itself: PreparingRebalance collects the
// members' joins; when all known members have rejoined (and the initial
// delay is over) or the rebalance timeout fires, the generation advances,
// the coordinator runs the chosen assignor (server-side generations) and
// answers every held join.
#include <algorithm>

#include "actors/group/consumer_protocol.hpp"
#include "actors/group/group_limits.hpp"
#include "actors/group/group_machine.hpp"

namespace al {

namespace {

// Our clients: same protocols and topics. Owned partitions are only a
// stickiness hint for our coordinator-side assignor, so a change there alone
// (the member now owns what this generation gave it) needs no rebalance.
// Kafka wire members: same names and metadata bytes (Kafka's rule).
bool same_subscription(const std::vector<group_protocol>& a,
                       const std::vector<group_protocol>& b, bool client_assigns) {
  auto topics = [](const group_protocol& p) {
    return std::set<std::string>(p.subscription.topics.begin(), p.subscription.topics.end());
  };
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name ||
        (client_assigns ? a[i].metadata != b[i].metadata : topics(a[i]) != topics(b[i])))
      return false;
  return true;
}

// A Kafka consumer's metadata decoded, where it decodes, so that describe
// shows its topics and a change of their partition counts rebalances.
std::vector<group_protocol> stored_protocols(const join_group_request& req) {
  auto out = req.protocols;
  if (!req.client_assigns || req.protocol_type != "consumer")
    return out;
  for (auto& p : out)
    if (auto s = decode_subscription(byte_view{p.metadata}))
      p.subscription = std::move(*s);
  return out;
}

} // namespace

void group_machine::on_join(const join_group_request& req, int64_t now) {
  advance_clock(now);
  auto reply = [&](errc e, std::string member_id) {
    respond(join_error(req.request_id, e, std::move(member_id)));
  };
  if (state_ == group_state::dead)
    return reply(errc::coordinator_not_available, req.member_id);
  if (auto e = validate_join(req); e != errc::none)
    return reply(e, req.member_id);
  if (req.member_id.empty()) {
    // group.max.size counts the ids handed out too, which bounds them.
    if (members_.size() + pending_members_.size() >= size_t(config_.group_max_size))
      return reply(errc::group_max_size_reached, req.member_id);
    // KIP-394: hand out an id first; only a join that carries it becomes a
    // member, so a retried first join cannot leave an orphan member behind.
    auto id = new_member_id(req.client_id);
    pending_members_[id] = now + req.session_timeout_ms;
    return reply(errc::member_id_required, id);
  }
  if (pending_members_.erase(req.member_id)) {
    add_member(req, now);
  } else if (auto it = members_.find(req.member_id); it != members_.end()) {
    rejoin_member(it->second, req, now);
  } else {
    return reply(errc::unknown_member_id, req.member_id);
  }
  settle(now);
}

errc group_machine::validate_join(const join_group_request& req) const {
  // The actor runs the same check before it creates a group.
  auto checked =
      check_join_request(req, config_.min_session_timeout_ms, config_.max_session_timeout_ms);
  if (!checked)
    return checked.code();
  // One protocol type per group (as Kafka); the first member sets it.
  if (!members_.empty() && req.protocol_type != protocol_type_)
    return errc::inconsistent_group_protocol;
  auto candidates = candidate_protocols();
  bool any = false;
  for (auto& p : req.protocols)
    if ((req.client_assigns || assignor_from_name(p.name)) &&
        (members_.empty() || candidates.count(p.name)))
      any = true;
  // A new protocol list must share a protocol with every current member
  // (as Kafka), so the group always has one protocol all members support.
  return any ? errc::none : errc::inconsistent_group_protocol;
}

void group_machine::add_member(const join_group_request& req, int64_t now) {
  AL_ASSERT(!members_.count(req.member_id), req.member_id);
  member m;
  m.member_id = req.member_id;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms > 0 ? req.rebalance_timeout_ms
                                                        : req.session_timeout_ms;
  m.protocols = stored_protocols(req);
  m.client_assigns = req.client_assigns;
  m.pending_join = req.request_id;
  m.last_heartbeat_ms = now;
  members_.emplace(m.member_id, std::move(m));
  auto why = "member " + req.member_id + " joined";
  log(now, why);
  switch (state_) {
    case group_state::empty:
      protocol_type_ = req.protocol_type;
      prepare_rebalance(now, why);
      break;
    case group_state::preparing_rebalance:
      if (initial_delay_phase_) // each newcomer buys the others another delay
        join_not_before_ms_ = std::min(now + config_.initial_rebalance_delay_ms,
                                       rebalance_deadline_ms_);
      break;
    case group_state::completing_rebalance:
    case group_state::stable: prepare_rebalance(now, why); break;
    case group_state::dead: AL_ASSERT(false, "join on a dead group"); break;
  }
}

void group_machine::rejoin_member(member& m, const join_group_request& req, int64_t now) {
  auto protocols = stored_protocols(req);
  bool changed = m.client_assigns != req.client_assigns ||
                 !same_subscription(m.protocols, protocols, req.client_assigns);
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms > 0 ? req.rebalance_timeout_ms
                                                        : req.session_timeout_ms;
  m.protocols = std::move(protocols);
  m.client_assigns = req.client_assigns;
  m.last_heartbeat_ms = now;
  if (state_ == group_state::preparing_rebalance) {
    if (m.pending_join) // superseded by the retry; the client waits on the new one
      respond(join_error(*m.pending_join, errc::rebalance_in_progress, m.member_id));
    m.pending_join = req.request_id;
    return;
  }
  AL_ASSERT(state_ == group_state::stable || state_ == group_state::completing_rebalance,
            to_string(state_));
  // As Kafka: a relay leader that rejoins a Stable group wants a new
  // assignment (its client saw the topics' metadata change).
  bool leader_asks = relay_ && state_ == group_state::stable && m.member_id == leader_;
  if (!changed && !leader_asks) // nothing to rebalance for: the current generation stands
    return respond(join_response(m, req.request_id));
  m.pending_join = req.request_id;
  prepare_rebalance(now, "member " + m.member_id +
                           (changed ? " rejoined with a new subscription"
                                    : " (the leader) rejoined for a new assignment"));
}

void group_machine::prepare_rebalance(int64_t now, const std::string& reason) {
  bool from_empty = state_ == group_state::empty;
  int32_t timeout = 0;
  for (auto& [id, m] : members_)
    timeout = std::max(timeout, m.rebalance_timeout_ms);
  rebalance_deadline_ms_ = now + timeout;
  initial_delay_phase_ = from_empty && config_.initial_rebalance_delay_ms > 0;
  join_not_before_ms_ = initial_delay_phase_
                            ? std::min(now + config_.initial_rebalance_delay_ms,
                                       rebalance_deadline_ms_)
                            : now;
  revoking_.clear();
  sync_deadline_ms_ = 0; // the next generation sets its own
  answer_held_syncs(errc::rebalance_in_progress); // as Kafka: their assignment is void
  transition(group_state::preparing_rebalance, now, reason);
}

void group_machine::maybe_complete_join(int64_t now) {
  if (state_ != group_state::preparing_rebalance)
    return;
  bool all_joined = std::all_of(members_.begin(), members_.end(),
                                [](auto& e) { return e.second.pending_join.has_value(); });
  if ((all_joined && now >= join_not_before_ms_) || now >= rebalance_deadline_ms_)
    complete_join(now);
}

void group_machine::complete_join(int64_t now) {
  AL_ASSERT(state_ == group_state::preparing_rebalance, to_string(state_));
  std::vector<std::string> late;
  for (auto& [id, m] : members_)
    if (!m.pending_join)
      late.push_back(id);
  for (auto& id : late) {
    members_.erase(id);
    log(now, "member " + id + " removed: did not rejoin within the rebalance timeout");
  }
  // Wraps to 1 rather than overflow: 2^31 rebalances leave no member of
  // generation 1 alive (the loader refuses absurd stored generations).
  generation_ = generation_ == INT32_MAX ? 1 : generation_ + 1;
  assignment_.clear();
  assignment_bytes_.clear();
  revoking_.clear();
  assignment_write_started_ = false;
  assignment_ready_ = false;
  relay_ = false;
  if (members_.empty()) {
    protocol_name_.clear();
    leader_.clear();
    return transition(group_state::empty, now, "no members left");
  }
  protocol_name_ = select_protocol();
  choose_mode_and_leader();
  if (!relay_) { // server-side: the assignment exists now; relay: the leader's sync brings it
    auto kind = assignor_from_name(protocol_name_);
    AL_ASSERT(kind.has_value(), protocol_name_);
    assignment_ = run_assignor(*kind, subscriptions(), topics_, &revoking_);
    AL_ASSERT(assignment_.size() == members_.size(), assignment_.size(), members_.size());
    for (auto& [id, a] : assignment_)
      assignment_bytes_[id] = encode_assignment(a);
    assignment_ready_ = true;
  }
  int32_t rebalance_timeout = 0;
  for (auto& [id, m] : members_) {
    AL_ASSERT(!m.pending_sync, id); // answered when the rebalance began
    respond(join_response(m, *m.pending_join));
    m.pending_join.reset();
    m.last_heartbeat_ms = now; // the session clock restarts with the new generation
    m.synced = false;
    rebalance_timeout = std::max(rebalance_timeout, m.rebalance_timeout_ms);
  }
  sync_deadline_ms_ = now + rebalance_timeout;
  transition(group_state::completing_rebalance, now,
             "generation " + std::to_string(generation_) + " with " +
                 std::to_string(members_.size()) + " members, protocol " + protocol_name_ +
                 (relay_ ? ", leader " + leader_ + " assigns" : ""));
}

std::set<std::string> group_machine::candidate_protocols() const {
  std::optional<std::set<std::string>> common;
  for (auto& [id, m] : members_) {
    std::set<std::string> mine;
    for (auto& p : m.protocols)
      if ((m.client_assigns || assignor_from_name(p.name)) && (!common || common->count(p.name)))
        mine.insert(p.name);
    common = std::move(mine);
  }
  return common ? *common : std::set<std::string>{};
}

std::string group_machine::select_protocol() const {
  auto candidates = candidate_protocols();
  AL_ASSERT(!candidates.empty(), members_.size());
  // Each member votes for its most preferred candidate; most votes wins,
  // ties go to the smaller name so every run picks the same one.
  std::map<std::string, size_t> votes;
  for (auto& [id, m] : members_)
    for (auto& p : m.protocols)
      if (candidates.count(p.name)) {
        ++votes[p.name];
        break;
      }
  auto best = std::max_element(votes.begin(), votes.end(), [](auto& a, auto& b) {
    return a.second < b.second || (a.second == b.second && a.first > b.first);
  });
  AL_ASSERT(best != votes.end());
  return best->first;
}

member_subscriptions group_machine::subscriptions() const {
  member_subscriptions out;
  for (auto& [id, m] : members_) {
    auto p = std::find_if(m.protocols.begin(), m.protocols.end(),
                          [&](auto& x) { return x.name == protocol_name_; });
    AL_ASSERT(p != m.protocols.end(), id, protocol_name_);
    out[id] = p->subscription;
  }
  return out;
}

join_group_response group_machine::join_response(const member& m, group_request_id id) const {
  join_group_response r{id,      errc::none, generation_, protocol_name_, leader_, m.member_id,
                        {},      protocol_type_, {}};
  if (m.member_id != leader_)
    return r;
  for (auto& [member_id, other] : members_) {
    r.members.push_back(member_id);
    if (relay_)
      r.member_metadata.push_back(join_member{member_id, metadata_in_protocol(other)});
  }
  return r;
}

} // namespace al
