// raft_machine: terms and elections (Raft §5.2, §5.4.1; pre-vote and
// leader stickiness from Ongaro's thesis §9.6, as in etcd-raft).
#include "actors/controller/raft_machine.hpp"

namespace al {

namespace {

bool is_from_leader(raft_msg type) {
  return type == raft_msg::append || type == raft_msg::heartbeat ||
         type == raft_msg::install_snapshot;
}

} // namespace

/// A message from a higher term. Returns whether to go on handling it.
bool raft_machine::on_higher_term(const raft_message& m) {
  if (m.type == raft_msg::pre_vote || m.type == raft_msg::vote) {
    // Leader stickiness: while we hear from a leader, a (pre-)candidate is
    // a partitioned or slow node; neither vote for it nor take its term.
    bool in_lease = config_.check_quorum && leader_ != raft_no_node &&
                    election_elapsed_ < config_.election_ticks;
    if (in_lease)
      return false;
  }
  if (m.type == raft_msg::pre_vote)
    return true; // a pre-vote never changes our term
  if (m.type == raft_msg::pre_vote_resp && !m.reject)
    return true; // granted for the term we would campaign in; counted below
  become_follower(m.term, is_from_leader(m.type) ? m.from : raft_no_node);
  return true;
}

/// A message from a lower term: a stale leader learns the newer term from
/// our answer and steps down; a stale pre-candidate learns it lost.
void raft_machine::on_lower_term(const raft_message& m) {
  raft_message r;
  r.to = m.from;
  if (is_from_leader(m.type)) {
    r.type = raft_msg::append_resp;
    r.reject = true;
    r.log_index = m.log_index;
  } else if (m.type == raft_msg::pre_vote) {
    r.type = raft_msg::pre_vote_resp;
    r.reject = true;
    r.term = term_;
  } else {
    return; // stale answers and votes: nothing to do
  }
  send(std::move(r));
}

void raft_machine::on_vote_request(const raft_message& m) {
  bool pre = m.type == raft_msg::pre_vote;
  AL_ASSERT(pre ? m.term >= term_ : m.term == term_, m.term, term_);
  // One vote per term (§5.2): a repeat of our vote, or none cast while no
  // leader is known; a pre-vote for a later term promises nothing.
  bool can_vote = voted_for_ == m.from ||
                  (voted_for_ == raft_no_node && leader_ == raft_no_node) ||
                  (pre && m.term > term_);
  // Election restriction (§5.4.1): only a candidate whose log holds every
  // committed entry may win, so it must be at least as up to date as ours.
  bool grant = can_vote && log_.is_up_to_date(m.log_term, m.log_index);
  raft_message r;
  r.type = pre ? raft_msg::pre_vote_resp : raft_msg::vote_resp;
  r.to = m.from;
  r.reject = !grant;
  // A grant echoes the asked-for term: a pre-candidate ignores answers
  // from terms below the one it campaigns in.
  r.term = grant ? m.term : term_;
  if (grant && !pre) {
    voted_for_ = m.from; // persisted (ready.hard_state) before r is sent
    election_elapsed_ = 0;
  }
  send(std::move(r));
}

void raft_machine::on_vote_response(const raft_message& m) {
  bool pre = m.type == raft_msg::pre_vote_resp;
  if (role_ != (pre ? raft_role::pre_candidate : raft_role::candidate))
    return; // late answer from an election that is over
  votes_.emplace(m.from, !m.reject); // the first answer counts
  int32_t granted = 0, rejected = 0;
  for (auto& [id, yes] : votes_)
    (yes ? granted : rejected) += 1;
  if (granted >= quorum()) {
    if (pre)
      become_candidate();
    else
      become_leader();
  } else if (rejected >= quorum()) {
    become_follower(term_, raft_no_node);
  }
}

void raft_machine::request_votes(raft_msg type, int64_t term) {
  for (raft_node_id v : config_.voters) {
    if (v == config_.id)
      continue;
    raft_message m;
    m.type = type;
    m.to = v;
    m.term = term;
    m.log_index = log_.last_index();
    m.log_term = log_.last_term();
    send(std::move(m));
  }
}

void raft_machine::send(raft_message m) {
  m.from = config_.id;
  // Vote traffic names its term explicitly (pre-votes ask about term + 1);
  // everything else carries ours.
  bool explicit_term = m.type == raft_msg::pre_vote || m.type == raft_msg::pre_vote_resp ||
                       m.type == raft_msg::vote_resp;
  if (!explicit_term)
    m.term = term_;
  AL_ASSERT(m.to != config_.id && is_voter(m.to), m.to, describe(m));
  outbox_.push_back(std::move(m));
}

} // namespace al
