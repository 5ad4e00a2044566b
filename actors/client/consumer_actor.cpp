#include "actors/client/consumer_actor.hpp"

#include <spdlog/spdlog.h>

#include "actors/client/aborted_filter.hpp"
#include "storage/record_batch.hpp"

namespace al {

namespace {

using self_ptr = consumer_actor_ptr;

constexpr int64_t rate_window_ms = 30000;

void note_consumed(consumer_state& st, int64_t n) {
  auto now = consumer_now_ms();
  st.records_consumed += n;
  st.consumed_samples.emplace_back(now, n);
  while (!st.consumed_samples.empty() && st.consumed_samples.front().first < now - rate_window_ms)
    st.consumed_samples.pop_front();
}

bool read_committed(const consumer_state& st) {
  return st.cfg.isolation_level == "read_committed";
}

/// Once none of a partition's fetched records wait in the buffer, what was
/// skipped after them (control batches, aborted transactions) counts as
/// consumed too: position() and commits move past it, as in Kafka.
void settle_consumed(consumer_state::partition_fetch& pf) {
  if (pf.buffered == 0 && pf.consumed >= 0)
    pf.consumed = std::max(pf.consumed, pf.position);
}

/// Appends the records at or after the position; returns the next position.
/// read_committed: the records of aborted transactions are skipped.
int64_t buffer_records(consumer_state& st, const topic_partition& tp, const fetch_response& resp,
                       int64_t position, int64_t& buffered) {
  std::optional<aborted_filter> aborted;
  if (read_committed(st))
    aborted.emplace(resp.aborted);
  byte_view rest{resp.records};
  while (rest.size >= batch_layout::header_size) {
    auto decoded = decode_batch(rest, "fetch from " + to_string(tp));
    if (!decoded) {
      spdlog::error("consumer: {}", decoded.error().to_string());
      break; // a corrupt batch: stop here; the next fetch retries from the position
    }
    auto& h = decoded->header;
    bool skipped = aborted ? aborted->skip(h, rest.sub(0, h.size_in_bytes())) : h.is_control();
    if (!skipped) {
      for (auto& r : decoded->records) {
        if (r.offset < position)
          continue;
        consumer_record cr;
        cr.topic = tp.topic;
        cr.partition = tp.partition;
        cr.offset = r.offset;
        cr.timestamp = r.timestamp;
        if (r.key)
          cr.key.emplace(r.key->as_string());
        if (r.value)
          cr.value.emplace(r.value->as_string());
        for (auto& hd : r.headers)
          cr.headers.emplace_back(std::string(hd.key),
                                  hd.value ? std::string(hd.value->as_string()) : std::string());
        st.buffer.push_back(std::move(cr));
        ++buffered;
      }
    }
    position = std::max(position, h.next_offset());
    auto n = h.size_in_bytes();
    rest = rest.sub(n, rest.size - n);
  }
  return position;
}

void retry_later(self_ptr self, const topic_partition& tp) {
  self->delayed_send(self, std::chrono::milliseconds(self->state.cfg.retry_backoff_ms),
                     retry_atom::value, tp);
}

/// Marks `pf` as having a request in flight to `leader` and returns the
/// request's id: only the answer to that id counts (see `is_current`), and
/// the leader's connection dropping fails it at once (the down handler).
uint64_t start_request(self_ptr self, consumer_state::partition_fetch& pf,
                       const client_api& leader) {
  auto& st = self->state;
  pf.in_flight = true;
  pf.request = st.next_fetch_request++;
  pf.broker = leader->address();
  if (st.monitored.insert(pf.broker).second)
    self->monitor(leader);
  return pf.request;
}

/// The partition's request in flight, if `rid` is still it: a reply to a
/// request the down handler gave up on, or to one before a seek that sent
/// another, is stale.
consumer_state::partition_fetch* is_current(self_ptr self, const topic_partition& tp,
                                            uint64_t rid) {
  auto i = self->state.parts.find(tp);
  if (i == self->state.parts.end() || i->second.request != rid)
    return nullptr;
  i->second.in_flight = false;
  i->second.request = 0;
  return &i->second;
}

/// Sets the position from auto.offset.reset (or an explicit earliest/latest).
/// Monitored and answered like a fetch: a ListOffsets to a dead broker's
/// handle would otherwise wait request.timeout.ms (CAF gives no early
/// error), and a late answer would move a partition that moved on back.
void reset_position(self_ptr self, const topic_partition& tp, int64_t which) {
  auto& st = self->state;
  auto leader = st.view.leader_handle(tp);
  if (!leader) {
    refresh_metadata(self, st.view, [self, tp](const status&) { retry_later(self, tp); });
    return;
  }
  auto& pf = st.parts[tp];
  auto epoch = pf.epoch;
  auto rid = start_request(self, pf, *leader);
  self->request(*leader, std::chrono::milliseconds(st.cfg.request_timeout_ms),
                list_offsets_atom::value,
                list_offsets_request{tp.topic, tp.partition, which,
                                     read_committed(st) ? fetch_isolation::read_committed
                                                        : fetch_isolation::high_watermark})
    .then(
      [self, tp, epoch, rid](const list_offsets_response& r) {
        auto* p = is_current(self, tp, rid);
        if (!p)
          return; // unassigned, or given up on meanwhile
        if (p->epoch == epoch && p->position < 0) {
          p->position = std::max<int64_t>(r.offset, 0);
          p->consumed = p->position;
          p->reset_to = 0;
        }
        fetch_partition(self, tp); // a seek meanwhile: from its position
      },
      [self, tp, rid](caf::error& err) {
        if (!is_current(self, tp, rid))
          return;
        spdlog::debug("consumer: list offsets {}: {}", to_string(tp), describe_error(err));
        self->state.view.topics.erase(tp.topic);
        retry_later(self, tp);
      });
}

int64_t reset_spec(const consumer_state& st) {
  return st.cfg.auto_offset_reset == "earliest" ? earliest_timestamp : latest_timestamp;
}

void on_fetched(self_ptr self, const topic_partition& tp, consumer_state::partition_fetch& p,
                uint64_t epoch, const fetch_response& resp) {
  if (p.epoch != epoch || p.revoking) {
    fetch_partition(self, tp); // seek happened: start over from the new position
    return;
  }
  p.high_watermark = resp.high_watermark;
  p.position = buffer_records(self->state, tp, resp, p.position, p.buffered);
  settle_consumed(p);
  deliver_poll(self);
  fetch_partition(self, tp);
}

void on_fetch_failed(self_ptr self, const topic_partition& tp,
                     consumer_state::partition_fetch& p, uint64_t epoch, const caf::error& err) {
  auto code = error_code_of(err);
  if (code == errc::offset_out_of_range && p.epoch == epoch) {
    // What is buffered ran up to the refused position: dropped, so the
    // records handed out after the reset follow on from the new position.
    spdlog::warn("consumer {}: {} offset {} out of range ({}); resetting ({}), {} buffered "
                 "record(s) dropped", self->state.cfg.client_id, to_string(tp), p.position,
                 describe_error(err), self->state.cfg.auto_offset_reset, p.buffered);
    drop_buffered(self, tp);
    p.position = -1;
    p.consumed = -1;
    fetch_partition(self, tp);
    return;
  }
  self->state.view.topics.erase(tp.topic); // leader may have moved
  retry_later(self, tp);
}

void seek(self_ptr self, const topic_partition& tp, int64_t offset) {
  auto& st = self->state;
  auto i = st.parts.find(tp);
  if (i == st.parts.end())
    return;
  ++i->second.epoch;
  i->second.awaiting_committed = false; // an explicit position wins over the committed one
  drop_buffered(self, tp);
  if (offset == earliest_timestamp || offset == latest_timestamp) {
    // Being reset: no fetch until the offset is known. A request in flight
    // answers first; its epoch is stale, so its answer resets from here.
    i->second.position = -2;
    i->second.reset_to = offset;
    i->second.consumed = -1;
  } else {
    i->second.position = offset;
    i->second.consumed = offset;
    i->second.reset_to = 0;
  }
  fetch_partition(self, tp);
}

consumer_metrics metrics_of(const consumer_state& st) {
  consumer_metrics m;
  for (auto& [tp, pf] : st.parts) {
    if (pf.high_watermark < 0 || pf.consumed < 0)
      continue;
    auto lag = std::max<int64_t>(pf.high_watermark - pf.consumed, 0);
    m.records_lag[tp] = lag;
    m.records_lag_max = std::max(m.records_lag_max, lag);
  }
  auto now = consumer_now_ms();
  int64_t recent = 0;
  for (auto& [at, n] : st.consumed_samples)
    if (at >= now - rate_window_ms)
      recent += n;
  m.records_consumed_rate = double(recent) * 1000.0 / double(rate_window_ms);
  m.records_consumed_total = st.records_consumed;
  auto& g = *st.group.machine;
  m.member_id = g.member_id();
  m.generation_id = g.generation();
  for (auto& [tp, pf] : st.parts)
    m.assignment.push_back(tp);
  m.commits_total = g.commits_total();
  m.commits_failed = g.commits_failed();
  m.rebalances_total = g.rebalances_total();
  return m;
}

} // namespace

int64_t consumer_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

void deliver_poll(self_ptr self) {
  auto& st = self->state;
  auto& g = st.group;
  if (!st.poll_waiter.pending())
    return;
  if (st.buffer.empty() && g.events.empty() && g.fatal.is_ok())
    return; // finished commits ride along with the next reply; they wake nobody
  poll_result out;
  out.commits = std::move(g.commits_done);
  g.commits_done.clear();
  out.group_error = g.fatal;
  g.fatal = status::ok();
  if (!g.events.empty()) {
    // Listener callbacks first; records only in a later reply (a callback may seek).
    out.events = std::move(g.events);
    g.events.clear();
    st.poll_waiter.deliver(std::move(out));
    return;
  }
  auto n = std::min<size_t>(st.buffer.size(), size_t(st.cfg.max_poll_records));
  out.records.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto& r = st.buffer.front();
    if (auto p = st.parts.find(topic_partition{r.topic, r.partition}); p != st.parts.end()) {
      p->second.consumed = r.offset + 1;
      --p->second.buffered;
      settle_consumed(p->second);
    }
    out.records.push_back(std::move(r));
    st.buffer.pop_front();
  }
  note_consumed(st, int64_t(n));
  st.poll_waiter.deliver(std::move(out));
  // Buffer drained below the limit: fetch again where we stopped.
  for (auto& [tp, pf] : st.parts)
    if (!pf.in_flight)
      fetch_partition(self, tp);
}

void drop_buffered(self_ptr self, const topic_partition& tp) {
  auto& st = self->state;
  std::deque<consumer_record> kept;
  for (auto& r : st.buffer)
    if (!(r.topic == tp.topic && r.partition == tp.partition))
      kept.push_back(std::move(r));
  st.buffer = std::move(kept);
  if (auto p = st.parts.find(tp); p != st.parts.end())
    p->second.buffered = 0;
}

offset_commit_map consumed_positions(const consumer_state& st,
                                     const std::vector<topic_partition>& only) {
  offset_commit_map out;
  for (auto& [tp, pf] : st.parts) {
    if (pf.consumed < 0 || pf.awaiting_committed)
      continue;
    if (!only.empty() && std::find(only.begin(), only.end(), tp) == only.end())
      continue;
    out[tp] = offset_and_metadata{pf.consumed, "", -1};
  }
  return out;
}

void fetch_partition(self_ptr self, const topic_partition& tp) {
  auto& st = self->state;
  auto it = st.parts.find(tp);
  if (it == st.parts.end())
    return;
  auto& pf = it->second;
  if (pf.in_flight || pf.paused || pf.awaiting_committed || pf.revoking ||
      st.buffer.size() >= size_t(st.cfg.max_poll_records) * 2)
    return;
  if (pf.position < 0) {
    if (st.cfg.auto_offset_reset == "none") {
      spdlog::error("consumer: no committed offset for {} and auto.offset.reset=none",
                    to_string(tp));
      return;
    }
    reset_position(self, tp, pf.position == -2 && pf.reset_to != 0 ? pf.reset_to : reset_spec(st));
    return;
  }
  auto leader = st.view.leader_handle(tp);
  if (!leader) {
    refresh_metadata(self, st.view, [self, tp](const status& s) {
      if (s && self->state.view.leader_handle(tp))
        fetch_partition(self, tp);
      else
        retry_later(self, tp);
    });
    return;
  }
  fetch_request req;
  req.topic = tp.topic;
  req.partition = tp.partition;
  req.offset = pf.position;
  req.max_bytes = st.cfg.max_partition_fetch_bytes;
  req.min_bytes = st.cfg.fetch_min_bytes;
  req.max_wait_ms = st.cfg.fetch_max_wait_ms;
  if (read_committed(st))
    req.isolation = fetch_isolation::read_committed;
  auto epoch = pf.epoch;
  auto rid = start_request(self, pf, *leader);
  auto timeout = std::chrono::milliseconds(st.cfg.request_timeout_ms + st.cfg.fetch_max_wait_ms);
  self->request(*leader, timeout, fetch_atom::value, std::move(req))
    .then(
      [self, tp, epoch, rid](const fetch_response& resp) {
        if (auto* p = is_current(self, tp, rid))
          on_fetched(self, tp, *p, epoch, resp);
      },
      [self, tp, epoch, rid](caf::error& err) {
        if (auto* p = is_current(self, tp, rid))
          on_fetch_failed(self, tp, *p, epoch, err);
      });
}

void set_fetched_partitions(self_ptr self, const std::vector<topic_partition>& tps) {
  auto& st = self->state;
  std::set<topic_partition> wanted(tps.begin(), tps.end());
  for (auto i = st.parts.begin(); i != st.parts.end();)
    i = wanted.count(i->first) ? std::next(i) : st.parts.erase(i);
  std::deque<consumer_record> kept;
  for (auto& r : st.buffer)
    if (wanted.count(topic_partition{r.topic, r.partition}))
      kept.push_back(std::move(r));
  st.buffer = std::move(kept);
  std::vector<topic_partition> added;
  for (auto& tp : wanted)
    if (st.parts.emplace(tp, consumer_state::partition_fetch{}).second)
      added.push_back(tp);
  if (!st.cfg.group_id.empty() && !added.empty())
    fetch_committed_positions(self, added); // the group's committed offsets first
  for (auto& tp : wanted)
    fetch_partition(self, tp);
}

caf::behavior consumer_actor(self_ptr self, consumer_config cfg, caf::actor direct_broker) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.view.bootstrap_servers = st.cfg.bootstrap_servers;
  st.view.request_timeout = std::chrono::milliseconds(st.cfg.request_timeout_ms);
  if (direct_broker)
    st.view.bootstrap.push_back(caf::actor_cast<client_api>(direct_broker));
  // A broker's connection dropped: its fetches fail now (not after
  // request.timeout.ms) and go to the partitions' new leaders.
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& s = self->state;
    s.monitored.erase(dm.source);
    if (s.group.coordinator && s.group.coordinator->address() == dm.source)
      on_coordinator_connection_lost(self);
    s.view.forget(dm.source);
    if (s.group.finding && s.group.finding_from == dm.source)
      coordinator_lookup_failed(self, status{errc::network_exception,
                                             "connection lost during FindCoordinator"});
    std::vector<topic_partition> lost;
    for (auto& [tp, pf] : s.parts)
      if (pf.in_flight && pf.broker == dm.source) {
        pf.in_flight = false;
        pf.request = 0;
        s.view.topics.erase(tp.topic);
        lost.push_back(tp);
      }
    if (!lost.empty())
      spdlog::info("consumer {}: connection to a broker lost, refetching {} partition(s)",
                   s.cfg.client_id, lost.size());
    for (auto& tp : lost)
      retry_later(self, tp);
  });
  caf::message_handler fetcher{
    [=](assign_atom, const std::vector<topic_partition>& tps) {
      set_fetched_partitions(self, tps);
    },
    [=](seek_atom, const topic_partition& tp, int64_t offset) { seek(self, tp, offset); },
    [=](position_atom, const topic_partition& tp) -> caf::result<int64_t> {
      auto i = self->state.parts.find(tp);
      if (i == self->state.parts.end())
        return make_error(errc::invalid_request, to_string(tp) + " is not assigned");
      // The position the user sees: the next record poll() returns.
      if (i->second.awaiting_committed)
        return int64_t{-1};
      for (auto& r : self->state.buffer)
        if (r.topic == tp.topic && r.partition == tp.partition)
          return r.offset;
      return i->second.consumed >= 0 ? i->second.consumed : i->second.position;
    },
    [=](pause_atom, const std::vector<topic_partition>& tps) {
      for (auto& tp : tps)
        if (auto i = self->state.parts.find(tp); i != self->state.parts.end())
          i->second.paused = true;
    },
    [=](resume_atom, const std::vector<topic_partition>& tps) {
      for (auto& tp : tps)
        if (auto i = self->state.parts.find(tp); i != self->state.parts.end()) {
          i->second.paused = false;
          fetch_partition(self, tp);
        }
    },
    [=](poll_atom, int64_t timeout_ms) -> caf::result<poll_result> {
      auto& s = self->state;
      if (s.poll_waiter.pending())
        s.poll_waiter.deliver(poll_result{});
      s.poll_waiter = self->make_response_promise();
      auto id = ++s.poll_id;
      on_poll_for_group(self);
      deliver_poll(self);
      if (s.poll_waiter.pending())
        self->delayed_send(self, std::chrono::milliseconds(timeout_ms), poll_atom::value, id);
      return caf::delegated<poll_result>{};
    },
    [=](poll_atom, uint64_t id) {
      auto& s = self->state;
      if (id == s.poll_id && s.poll_waiter.pending())
        s.poll_waiter.deliver(poll_result{});
    },
    [=](metrics_atom) { return metrics_of(self->state); },
    [=](retry_atom, const topic_partition& tp) { fetch_partition(self, tp); },
    [=](retry_atom) { retry_refresh(self, self->state.view); },
  };
  return fetcher.or_else(consumer_group_behavior(self));
}

} // namespace al
