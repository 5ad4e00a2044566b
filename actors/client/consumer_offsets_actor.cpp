// The consumer's conversations with its group coordinator outside the
// membership loop: finding the coordinator (FindCoordinator, then the broker
// with that node id), commits (retried while the coordinator moves or
// loads, until request.timeout.ms), committed offsets, and the starting
// positions of newly assigned partitions (OffsetFetch).
#include <algorithm>

#include <spdlog/spdlog.h>

#include "actors/client/consumer_actor.hpp"

namespace al {

namespace {

using self_ptr = consumer_actor_ptr;
using std::chrono::milliseconds;

void finish_finding(self_ptr self, const status& s) {
  auto& g = self->state.group;
  g.finding = false;
  auto waiting = std::move(g.awaiting_coordinator);
  g.awaiting_coordinator.clear();
  for (auto& w : waiting)
    w(s);
}

void use_coordinator(self_ptr self, const coordinator_info& info, bool refreshed) {
  auto& st = self->state;
  auto known = st.view.brokers.find(info.node_id);
  if (known != st.view.brokers.end()) {
    st.group.coordinator = known->second;
    st.group.coordinator_id = info.node_id;
    if (st.monitored.insert(known->second.address()).second)
      self->monitor(known->second);
    finish_finding(self, status::ok());
    return;
  }
  if (!refreshed) { // maybe a broker we reach already, under its metadata id
    refresh_metadata(self, st.view,
                     [self, info](const status&) { use_coordinator(self, info, true); });
    return;
  }
  connect_broker(self, info.host, info.port, [self, info](result<client_api> h) {
    if (!h) {
      finish_finding(self, h.error());
      return;
    }
    self->state.view.brokers[info.node_id] = *h;
    self->state.group.coordinator = *h;
    self->state.group.coordinator_id = info.node_id;
    if (self->state.monitored.insert(h->address()).second)
      self->monitor(*h);
    finish_finding(self, status::ok());
  });
}

void find_coordinator(self_ptr self, bool refreshed) {
  auto& st = self->state;
  auto b = st.view.any_broker();
  if (!b) {
    if (refreshed) {
      finish_finding(self, status{errc::network_exception, "no broker reachable"});
      return;
    }
    refresh_metadata(self, st.view, [self](const status& s) {
      if (!s)
        finish_finding(self, s);
      else
        find_coordinator(self, true);
    });
    return;
  }
  self->request(*b, request_timeout(self), find_coordinator_atom::value, st.cfg.group_id)
    .then([self](const coordinator_info& info) { use_coordinator(self, info, false); },
          [self](caf::error& err) {
            finish_finding(self, status{error_code_of(err), describe_error(err)});
          });
}

void commit_offsets(self_ptr self, offset_commit_map offsets, int64_t deadline_ms,
                    std::function<void(const status&)> done) {
  if (offsets.empty()) {
    done(status::ok());
    return;
  }
  auto retry_or_fail = [self, offsets, deadline_ms, done](const status& s) {
    if (is_coordinator_error(s.code()) &&
        consumer_now_ms() + self->state.cfg.retry_backoff_ms < deadline_ms) {
      defer(self, self->state.cfg.retry_backoff_ms,
            [self, offsets, deadline_ms, done]() { commit_offsets(self, offsets, deadline_ms, done); });
      return;
    }
    ++self->state.group.commits_failed;
    done(s);
  };
  with_coordinator(self, [self, offsets, retry_or_fail, done](const status& found) {
    if (!found) {
      retry_or_fail(found);
      return;
    }
    auto& s = self->state;
    auto& g = s.group;
    // Subscribed: as a member of our generation (a zombie gets fenced);
    // assign(): as nobody, accepted only while the group has no members.
    offset_commit_request req{0, g.topics.empty() ? "" : g.member_id,
                              g.topics.empty() ? -1 : g.generation, offsets};
    self->request(*g.coordinator, request_timeout(self), offset_commit_atom::value,
                  s.cfg.group_id, req)
      .then(
        [self, retry_or_fail, done](const offset_commit_response& r) {
          if (r.error == errc::none) {
            ++self->state.group.commits_total;
            done(status::ok());
            return;
          }
          if (is_coordinator_error(r.error))
            coordinator_lost(self, std::string(to_string(r.error)));
          retry_or_fail(status{r.error, "commit to group " + self->state.cfg.group_id});
        },
        [self, retry_or_fail](caf::error& err) {
          on_request_failure(self, err);
          retry_or_fail(status{error_code_of(err), describe_error(err)});
        });
  });
}

} // namespace

bool is_coordinator_error(errc e) {
  return e == errc::not_coordinator || e == errc::coordinator_not_available ||
         e == errc::coordinator_load_in_progress || e == errc::request_timed_out ||
         e == errc::network_exception;
}

void defer(self_ptr self, int64_t ms, std::function<void()> fn) {
  auto id = ++self->state.group.next_deferred;
  self->state.group.deferred.emplace(id, std::move(fn));
  self->delayed_send(self, milliseconds(ms), retry_atom::value, id);
}

void coordinator_lost(self_ptr self, const std::string& why) {
  auto& g = self->state.group;
  if (g.coordinator)
    spdlog::info("consumer {}: group coordinator (node {}) lost: {}", self->state.cfg.client_id,
                 g.coordinator_id, why);
  g.coordinator.reset();
  g.coordinator_id = -1;
}

void on_request_failure(self_ptr self, const caf::error& err) {
  if (is_coordinator_error(error_code_of(err)))
    coordinator_lost(self, describe_error(err));
}

void with_coordinator(self_ptr self, std::function<void(const status&)> then) {
  auto& g = self->state.group;
  if (g.coordinator) {
    then(status::ok());
    return;
  }
  g.awaiting_coordinator.push_back(std::move(then));
  if (g.finding)
    return;
  g.finding = true;
  find_coordinator(self, false);
}

// ---- commits ------------------------------------------------------------------

void commit_async(self_ptr self, offset_commit_map offsets, uint64_t id) {
  auto deadline = consumer_now_ms() + self->state.cfg.request_timeout_ms;
  commit_offsets(self, offsets, deadline, [self, offsets, id](const status& s) {
    if (!s)
      spdlog::warn("consumer {}: commit failed: {}", self->state.cfg.client_id, s.to_string());
    if (id != 0)
      self->state.group.commits_done.push_back(commit_outcome{id, offsets, s});
  });
}

caf::result<offset_commit_map> commit_sync(self_ptr self, offset_commit_map offsets) {
  if (self->state.cfg.group_id.empty())
    return make_error(errc::invalid_group_id, "commit needs group.id");
  auto rp = self->make_response_promise<offset_commit_map>();
  auto deadline = consumer_now_ms() + self->state.cfg.request_timeout_ms;
  commit_offsets(self, offsets, deadline, [rp, offsets](const status& s) mutable {
    if (s)
      rp.deliver(offsets);
    else
      rp.deliver(to_caf_error(s));
  });
  return rp;
}

caf::result<group_offsets> committed(self_ptr self, std::vector<topic_partition> tps) {
  if (self->state.cfg.group_id.empty())
    return make_error(errc::invalid_group_id, "committed() needs group.id");
  auto rp = self->make_response_promise<group_offsets>();
  with_coordinator(self, [self, rp, tps](const status& found) mutable {
    if (!found) {
      rp.deliver(to_caf_error(found));
      return;
    }
    self->request(*self->state.group.coordinator, request_timeout(self), offset_fetch_atom::value,
                  self->state.cfg.group_id, tps)
      .then([rp](group_offsets& offsets) mutable { rp.deliver(std::move(offsets)); },
            [self, rp](caf::error& err) mutable {
              on_request_failure(self, err);
              rp.deliver(std::move(err));
            });
  });
  return rp;
}

void fetch_committed_positions(self_ptr self, const std::vector<topic_partition>& tps) {
  for (auto& tp : tps)
    if (auto i = self->state.parts.find(tp); i != self->state.parts.end())
      i->second.awaiting_committed = true;
  auto retry = [self, tps]() {
    std::vector<topic_partition> still;
    for (auto& tp : tps)
      if (auto i = self->state.parts.find(tp);
          i != self->state.parts.end() && i->second.awaiting_committed)
        still.push_back(tp);
    if (!still.empty())
      defer(self, self->state.cfg.retry_backoff_ms,
            [self, still]() { fetch_committed_positions(self, still); });
  };
  with_coordinator(self, [self, tps, retry](const status& found) {
    if (!found) {
      retry();
      return;
    }
    self->request(*self->state.group.coordinator, request_timeout(self), offset_fetch_atom::value,
                  self->state.cfg.group_id, tps)
      .then(
        [self, tps](group_offsets& offsets) {
          for (auto& tp : tps) {
            auto i = self->state.parts.find(tp);
            if (i == self->state.parts.end() || !i->second.awaiting_committed)
              continue; // unassigned, or the user sought meanwhile
            auto& pf = i->second;
            pf.awaiting_committed = false;
            auto c = offsets.find(tp);
            pf.position = c != offsets.end() && c->second.offset >= 0 ? c->second.offset : -1;
            pf.consumed = pf.position; // -1: auto.offset.reset decides
            fetch_partition(self, tp);
          }
        },
        [self, retry](caf::error& err) {
          on_request_failure(self, err);
          retry();
        });
  });
}

} // namespace al
