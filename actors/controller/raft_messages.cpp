#include "actors/controller/raft_messages.hpp"

namespace al {

const char* to_string(raft_msg type) {
  switch (type) {
    case raft_msg::pre_vote: return "pre_vote";
    case raft_msg::pre_vote_resp: return "pre_vote_resp";
    case raft_msg::vote: return "vote";
    case raft_msg::vote_resp: return "vote_resp";
    case raft_msg::append: return "append";
    case raft_msg::append_resp: return "append_resp";
    case raft_msg::heartbeat: return "heartbeat";
    case raft_msg::heartbeat_resp: return "heartbeat_resp";
    case raft_msg::install_snapshot: return "install_snapshot";
  }
  return "?";
}

std::string describe(const raft_message& m) {
  auto n = [](int64_t v) { return std::to_string(v); };
  std::string s = std::string(to_string(m.type)) + " " + n(m.from) + "->" + n(m.to) + " term " +
                  n(m.term);
  switch (m.type) {
    case raft_msg::pre_vote:
    case raft_msg::vote:
    case raft_msg::append:
      s += " log " + n(m.log_index) + "/" + n(m.log_term);
      break;
    default: break;
  }
  if (!m.entries.empty())
    s += " entries " + n(m.entries.front().index) + ".." + n(m.entries.back().index);
  if (m.type == raft_msg::append || m.type == raft_msg::heartbeat)
    s += " commit " + n(m.commit);
  if (m.reject)
    s += " reject";
  if (m.type == raft_msg::append_resp)
    s += m.reject ? " at " + n(m.log_index) + " hint " + n(m.hint_index) + "/" + n(m.hint_term)
                  : " match " + n(m.match_index);
  if (m.snapshot)
    s += " snapshot " + n(m.snapshot->meta.index) + "/" + n(m.snapshot->meta.term);
  return s;
}

} // namespace al
