#pragma once
// Raft messages as they cross nodes: raft_message with its snapshot pointer
// flattened into plain fields, with `inspect` overloads. CAF-free.
#include <cstdint>
#include <memory>
#include <vector>

#include "actors/controller/raft_messages.hpp"
#include "actors/protocol/checked_bytes.hpp"
#include "actors/protocol/admin_messages.hpp"

namespace al {

struct raft_wire {
  raft_message msg;        // snapshot pointer unused here
  bool has_snapshot = false;
  int64_t snapshot_index = 0;
  int64_t snapshot_term = 0;
  bytes snapshot_data;
};

inline raft_wire to_wire(const raft_message& m) {
  raft_wire w;
  w.msg = m;
  w.msg.snapshot.reset();
  if (m.snapshot) {
    w.has_snapshot = true;
    w.snapshot_index = m.snapshot->meta.index;
    w.snapshot_term = m.snapshot->meta.term;
    w.snapshot_data = m.snapshot->data;
  }
  return w;
}

inline raft_message from_wire(raft_wire w) {
  raft_message m = std::move(w.msg);
  if (w.has_snapshot)
    m.snapshot = std::make_shared<const raft_snapshot>(
      raft_snapshot{{w.snapshot_index, w.snapshot_term}, std::move(w.snapshot_data)});
  return m;
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, raft_entry& x) {
  return f(x.index, x.term, checked(x.data));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, raft_wire& x) {
  auto& m = x.msg;
  return f(m.type, m.from, m.to, m.term, m.log_index, m.log_term, m.entries, m.commit, m.reject,
           m.match_index, m.hint_index, m.hint_term, x.has_snapshot, x.snapshot_index,
           x.snapshot_term, checked(x.snapshot_data));
}

} // namespace al
