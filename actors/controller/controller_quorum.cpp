// Driving the controller's raft_machine from the controller actor: ticks,
// the ready/advance loop (persist and fsync, then send, then apply), peer
// connections, and applying committed metadata commands. Snapshots:
// controller_snapshot.cpp.
#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <spdlog/spdlog.h>

#include "storage/clock.hpp"
#include "actors/controller/controller_actor.hpp"
#include "actors/controller/controller_snapshot.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

namespace {

void fail_pending(controller_state& st, const std::string& why) {
  auto pending = std::move(st.pending);
  st.pending.clear();
  for (auto& [index, p] : pending)
    p.done(status{errc::not_controller, why});
}

void apply_entry(controller_ptr self, const raft_entry& e) {
  auto& st = self->state;
  status outcome;
  if (!e.data.empty()) {
    auto cmd = decode_command(e.data);
    if (!cmd) {
      spdlog::critical("controller: committed entry {} does not decode: {}", e.index,
                       cmd.error().to_string());
      outcome = cmd.error();
    } else {
      outcome = st.machine.apply(*cmd, e.index);
      if (outcome)
        spdlog::info("controller: {} committed at index {}", describe(*cmd), e.index);
      else
        spdlog::warn("controller: {} at index {} rejected: {}", describe(*cmd), e.index,
                     outcome.to_string());
    }
  }
  auto p = st.pending.find(e.index);
  if (p != st.pending.end()) {
    auto done = std::move(p->second.done);
    bool ours = p->second.term == e.term;
    st.pending.erase(p);
    done(ours ? outcome : status{errc::not_controller, "leadership changed before commit"});
  }
}

void on_role_change(controller_ptr self, raft_role now) {
  auto& st = self->state;
  if (now == st.last_role)
    return;
  spdlog::info("controller {}: {} -> {} in term {}", st.setup.node_id, to_string(st.last_role),
               to_string(now), st.raft->term());
  bool was_active = st.last_role == raft_role::leader;
  st.last_role = now;
  if (was_active) {
    on_active_change(self, false); // its proposals in flight are forgotten first
    fail_pending(st, "this controller lost leadership");
  }
  if (now == raft_role::leader) {
    on_active_change(self, true); // every broker gets a full session from now on
    st.next_producer_id = 0;
    st.producer_id_block_end = 0; // reserve a fresh block before handing out ids
  }
}

void send_raft(controller_ptr self, const raft_message& m) {
  auto& st = self->state;
  auto peer = st.peers.find(m.to);
  if (peer == st.peers.end() || st.cut_peers.count(m.to))
    return; // not connected (or cut): Raft retries by itself
  self->send(peer->second, raft_atom::value, to_wire(m));
}

void connect_peer(controller_ptr self, const voter_address& v) {
  auto& st = self->state;
  if (st.peers.count(v.id) || st.connecting.count(v.id))
    return;
  st.connecting.insert(v.id);
  auto mm = self->system().middleman().actor_handle();
  auto id = v.id;
  auto fail = [self, id](const std::string& why) {
    self->state.connecting.erase(id);
    spdlog::debug("controller: voter {} not reachable: {}", id, why);
  };
  self->request(mm, std::chrono::seconds(5), caf::connect_atom::value, v.host, v.port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        if (!ptr) {
          fail("nothing published");
          return;
        }
        auto broker = caf::actor_cast<broker_api>(ptr);
        self->request(broker, std::chrono::seconds(5), controller_atom::value)
          .then(
            [=](const caf::actor& ctl) {
              auto& s = self->state;
              s.connecting.erase(id);
              if (!ctl)
                return;
              auto handle = caf::actor_cast<controller_api>(ctl);
              s.peers[id] = handle;
              self->monitor(handle);
              spdlog::info("controller {}: connected to voter {}", s.setup.node_id, id);
            },
            [=](caf::error& err) { fail(self->system().render(err)); });
      },
      [=](caf::error& err) { fail(self->system().render(err)); });
}

} // namespace

/// One pass (on_batch) after what is in the mailbox now: the Raft ready of
/// every proposal and peer message since the last pass, then one image push.
/// The store's materialize() replaces the whole view, so an image restored
/// from a snapshot needs no special message either.
void schedule_batch(controller_ptr self) {
  auto& st = self->state;
  if (st.batch_pending)
    return;
  st.batch_pending = true;
  self->send(self, batch_atom::value); // after what is in the mailbox now
}

void settle(controller_ptr self) {
  if (self->state.batch_pending)
    process_ready(self);
}

void push_image(controller_ptr self) {
  self->state.image_dirty = true;
  schedule_batch(self);
}

void on_batch(controller_ptr self) {
  auto& st = self->state;
  // Raft work that proposals and peer messages queued since the last pass:
  // one save (one fsync) and one message per peer for all of it. Proposing
  // and stepping each one straight away fsynced every AlterPartition on its
  // own: 10 000 partitions whose ISR changed at once kept the controller
  // busy for tens of seconds, its heartbeats stopped, and a broker was
  // fenced (issue 15, three nodes with 10 000 partitions).
  process_ready(self);
  st.batch_pending = false;
  if (!st.image_dirty)
    return;
  st.image_dirty = false;
  if (st.setup.store)
    self->send(st.setup.store, apply_atom::value, st.machine.last_applied_offset(),
               st.machine.image());
  // The broker gets what changed since its last push (the store collapses
  // whole images, which its SQLite view needs anyway).
  if (st.local_broker)
    self->send(st.local_broker, metadata_update_atom::value, st.machine.take_delta());
}

bool is_active(const controller_state& st) {
  return st.raft && st.raft->role() == raft_role::leader;
}

std::optional<controller_api> active_peer(const controller_state& st) {
  if (!st.raft || st.raft->leader() == raft_no_node || st.raft->leader() == st.setup.node_id)
    return std::nullopt;
  auto p = st.peers.find(st.raft->leader());
  if (p == st.peers.end() || st.cut_peers.count(st.raft->leader()))
    return std::nullopt;
  return p->second;
}

quorum_member own_quorum_status(const controller_state& st) {
  quorum_member q;
  q.id = st.setup.node_id;
  if (!st.raft) {
    q.role = "unavailable";
    return q;
  }
  auto s = st.raft->status();
  q.role = to_string(s.role);
  q.term = s.term;
  q.commit_index = s.commit;
  return q;
}

void process_ready(controller_ptr self) {
  auto& st = self->state;
  if (!st.raft)
    return;
  while (st.raft->has_ready()) {
    auto rd = st.raft->ready();
    // Persist (and fsync when asked) before anything that promises durability leaves.
    if (auto saved = st.storage->save(rd, wall_clock_ms()); !saved) {
      spdlog::critical("controller: cannot persist Raft state: {}", saved.to_string());
      self->quit(to_caf_error(saved));
      return;
    }
    if (rd.snapshot) {
      // Durable now; the image must reflect it before anything is applied
      // on top. A leader never installs, so no proposal can be waiting.
      fail_pending(st, "replaced by a snapshot from the leader");
      if (!install_snapshot(self, *rd.snapshot))
        return;
    }
    for (auto& m : rd.messages)
      send_raft(self, m);
    bool applied_any = false;
    for (auto& e : rd.committed) {
      apply_entry(self, e);
      applied_any = true;
    }
    st.raft->advance(rd);
    on_role_change(self, rd.role);
    if (applied_any) {
      push_image(self);
      maybe_take_snapshot(self);
    }
  }
}

void propose(controller_ptr self, const metadata_command& cmd,
             std::function<void(const status&)> done) {
  auto& st = self->state;
  if (!st.raft) {
    done(st.open_error);
    return;
  }
  auto p = st.raft->propose(encode_command(cmd));
  if (!p) {
    done(p.error());
    return;
  }
  st.pending[p->index] = controller_state::pending_proposal{p->term, std::move(done)};
  schedule_batch(self); // with whatever else the mailbox holds
}

void on_raft_message(controller_ptr self, raft_wire w) {
  auto& st = self->state;
  if (!st.raft || st.cut_peers.count(w.msg.from))
    return;
  // A message for another node or from a non-voter is a peer's mistake, not
  // a reason to stop: drop it.
  bool from_voter = false;
  for (auto& v : st.setup.voters)
    from_voter |= v.id == w.msg.from;
  if (w.msg.to != st.setup.node_id || !from_voter || w.msg.from == st.setup.node_id) {
    spdlog::warn("controller {}: dropped a Raft message {} -> {}", st.setup.node_id, w.msg.from,
                 w.msg.to);
    return;
  }
  st.raft->step(from_wire(std::move(w)));
  schedule_batch(self);
}

void on_quorum_tick(controller_ptr self) {
  auto& st = self->state;
  if (!st.raft)
    return;
  st.raft->tick();
  process_ready(self);
  for (auto& v : st.setup.voters)
    if (v.id != st.setup.node_id)
      connect_peer(self, v);
}

void start_quorum(controller_ptr self) {
  auto& st = self->state;
  auto dir = st.setup.data_dir + "/__cluster_metadata-0";
  auto storage = raft_storage::open(dir, wall_clock_ms());
  if (!storage) {
    st.open_error = {errc::kafka_storage_error,
                     "controller: cannot open the metadata log: " + storage.error().to_string()};
    spdlog::critical("{}", st.open_error.message());
    return;
  }
  std::vector<std::string> warnings;
  auto persisted = (*storage)->recover(wall_clock_ms(), &warnings, image_decodes());
  for (auto& w : warnings)
    spdlog::warn("controller {}: {}", st.setup.node_id, w);
  if (!persisted) {
    st.open_error = {errc::kafka_storage_error,
                     "controller: metadata log recovery failed: " + persisted.error().to_string()};
    spdlog::critical("{}", st.open_error.message());
    return;
  }
  st.storage = std::move(*storage);
  if (persisted->snapshot) {
    if (auto restored = restore_snapshot(self, *persisted->snapshot); !restored) {
      st.open_error = {errc::kafka_storage_error,
                       "controller: cannot restore the snapshot: " + restored.to_string()};
      spdlog::critical("{}", st.open_error.message());
      return;
    }
  }
  raft_config rc;
  rc.id = st.setup.node_id;
  for (auto& v : st.setup.voters)
    rc.voters.push_back(v.id);
  if (rc.voters.empty())
    rc.voters.push_back(rc.id);
  rc.election_ticks = 10;
  rc.heartbeat_ticks = 1;
  rc.seed = uint64_t(wall_clock_ms()) ^ (uint64_t(rc.id) << 32);
  st.tick_ms = std::max<int64_t>(st.setup.election_timeout_ms / rc.election_ticks, 10);
  auto entries = persisted->entries.size();
  st.raft = std::make_unique<raft_machine>(rc, std::move(*persisted));
  spdlog::info("controller {}: Raft with {} voter(s), snapshot index {}, {} stored entries "
               "after it, term {}, snapshot every {} entries",
               st.setup.node_id, rc.voters.size(), st.raft->status().snapshot_index, entries,
               st.raft->term(), st.setup.snapshot_interval_entries);
  if (rc.voters.size() == 1)
    st.raft->campaign(); // alone: no one to wait for
  process_ready(self);
}

} // namespace al
