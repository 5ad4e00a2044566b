// Kafka listener: the classic consumer group protocol. JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups,
// ListGroups, DeleteGroups go to the group's coordinator through the
// gateway (NOT_COORDINATOR when another node has it, as in Kafka). Kafka
// members join with client_assigns: their leader computes the assignment,
// the coordinator relays the opaque bytes (docs/groups.md, relay mode).
#include <memory>
#include <type_traits>

#include "actors/kafka/kafka_server.hpp"
#include "actors/protocol/errors.hpp"
#include "kafka/protocol/generated/delete_groups.hpp"
#include "kafka/protocol/generated/describe_groups.hpp"
#include "kafka/protocol/generated/heartbeat.hpp"
#include "kafka/protocol/generated/join_group.hpp"
#include "kafka/protocol/generated/leave_group.hpp"
#include "kafka/protocol/generated/list_groups.hpp"
#include "kafka/protocol/generated/offset_commit.hpp"
#include "kafka/protocol/generated/offset_fetch.hpp"
#include "kafka/protocol/generated/sync_group.hpp"

namespace al::kafka_server {

namespace {

/// A coordinator that cannot be reached is, for the client, one to find again.
int16_t group_error(const caf::error& err) {
  auto code = error_code_of(err);
  if (code == errc::request_timed_out || code == errc::network_exception)
    code = errc::coordinator_not_available;
  return kafka_code(code);
}

void send_join(conn_ptr self, const request_ctx& ctx, std::string group, join_group_request jr,
               int attempts) {
  self->request(self->state.setup.gateway, gateway_timeout(self, jr.rebalance_timeout_ms),
                join_group_atom::value, group, jr)
    .then(
      [self, ctx, group, jr, attempts](join_group_response& r) mutable {
        // JoinGroup v0-3 clients do not know MEMBER_ID_REQUIRED (KIP-394):
        // join again for them with the id the coordinator handed out.
        if (r.error == errc::member_id_required && ctx.version < 4 && attempts < 2) {
          jr.member_id = r.member_id;
          return send_join(self, ctx, group, jr, attempts + 1);
        }
        kafka::JoinGroupResponse out;
        out.error_code = kafka_code(r.error);
        out.generation_id = r.generation_id;
        out.protocol_type = r.protocol_type.empty() ? std::nullopt
                                                    : std::optional<std::string>(r.protocol_type);
        if (ctx.version < 7)
          out.protocol_type = std::nullopt;
        out.protocol_name = r.protocol_name;
        out.leader = r.leader_id;
        out.member_id = r.member_id;
        for (auto& m : r.member_metadata)
          out.members.push_back({m.member_id, std::nullopt, m.metadata});
        reply(self, ctx, out);
      },
      [self, ctx](const caf::error& err) {
        kafka::JoinGroupResponse out;
        out.error_code = group_error(err);
        reply(self, ctx, out);
      });
}

} // namespace

void handle_join_group(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::JoinGroupRequest req;
  if (!decode(self, ctx, body, req))
    return;
  join_group_request jr;
  jr.member_id = req.member_id;
  jr.client_id = ctx.client_id;
  jr.client_host = "/" + self->remote_addr(self->state.hdl);
  jr.session_timeout_ms = req.session_timeout_ms;
  jr.rebalance_timeout_ms = ctx.version >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms;
  jr.protocol_type = req.protocol_type;
  for (auto& p : req.protocols)
    jr.protocols.push_back(group_protocol{p.name, {}, p.metadata});
  jr.client_assigns = true;
  send_join(self, ctx, req.group_id, std::move(jr), 0);
}

void handle_sync_group(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::SyncGroupRequest req;
  if (!decode(self, ctx, body, req))
    return;
  sync_group_request sr;
  sr.member_id = req.member_id;
  sr.generation_id = req.generation_id;
  sr.protocol_type = req.protocol_type.value_or("");
  sr.protocol_name = req.protocol_name.value_or("");
  for (auto& a : req.assignments)
    sr.assignments.emplace_back(a.member_id, a.assignment);
  self->request(self->state.setup.gateway, gateway_timeout(self), sync_group_atom::value,
                req.group_id, sr)
    .then(
      [self, ctx](sync_group_response& r) {
        kafka::SyncGroupResponse out;
        out.error_code = kafka_code(r.error);
        if (ctx.version >= 5) {
          out.protocol_type = r.protocol_type;
          out.protocol_name = r.protocol_name;
        }
        out.assignment = std::move(r.assignment_bytes);
        reply(self, ctx, out);
      },
      [self, ctx](const caf::error& err) {
        kafka::SyncGroupResponse out;
        out.error_code = group_error(err);
        reply(self, ctx, out);
      });
}

void handle_heartbeat(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::HeartbeatRequest req;
  if (!decode(self, ctx, body, req))
    return;
  self->request(self->state.setup.gateway, gateway_timeout(self), group_heartbeat_atom::value,
                req.group_id, heartbeat_request{0, req.member_id, req.generation_id})
    .then(
      [self, ctx](const heartbeat_response& r) {
        kafka::HeartbeatResponse out;
        out.error_code = kafka_code(r.error);
        reply(self, ctx, out);
      },
      [self, ctx](const caf::error& err) {
        kafka::HeartbeatResponse out;
        out.error_code = group_error(err);
        reply(self, ctx, out);
      });
}

void handle_leave_group(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::LeaveGroupRequest req;
  if (!decode(self, ctx, body, req))
    return;
  std::vector<std::string> ids;
  if (ctx.version < 3)
    ids.push_back(req.member_id);
  for (auto& m : req.members)
    ids.push_back(m.member_id);
  auto out = std::make_shared<kafka::LeaveGroupResponse>();
  if (ids.empty())
    return reply(self, ctx, *out);
  auto finish = countdown(self, ctx, out, ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ctx.version >= 3)
      out->members.push_back({ids[i], std::nullopt, 0});
    auto done = [out, i, finish, v = ctx.version](int16_t code) {
      if (v >= 3)
        out->members[i].error_code = code;
      else
        out->error_code = code;
      finish();
    };
    self->request(self->state.setup.gateway, gateway_timeout(self), leave_group_atom::value,
                  req.group_id, leave_group_request{0, ids[i]})
      .then([done](const leave_group_response& r) { done(kafka_code(r.error)); },
            [done](const caf::error& err) { done(group_error(err)); });
  }
}

void handle_offset_commit(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::OffsetCommitRequest req;
  if (!decode(self, ctx, body, req))
    return;
  offset_commit_request cr;
  cr.member_id = req.member_id;
  cr.generation_id = req.generation_id_or_member_epoch;
  for (auto& t : req.topics)
    for (auto& p : t.partitions)
      cr.offsets[{t.name, p.partition_index}] =
        offset_and_metadata{p.committed_offset, p.committed_metadata.value_or(""),
                            p.committed_leader_epoch};
  auto answer = [self, ctx, topics = req.topics](errc group_error_code,
                                                 const std::map<topic_partition, errc>& per) {
    kafka::OffsetCommitResponse out;
    for (auto& t : topics) {
      kafka::OffsetCommitResponse::OffsetCommitResponseTopic tr;
      tr.name = t.name;
      for (auto& p : t.partitions) {
        auto i = per.find({t.name, p.partition_index});
        errc e = i != per.end() ? i->second : group_error_code;
        tr.partitions.push_back({p.partition_index, kafka_code(e)});
      }
      out.topics.push_back(std::move(tr));
    }
    reply(self, ctx, out);
  };
  self->request(self->state.setup.gateway, gateway_timeout(self), offset_commit_atom::value,
                req.group_id, cr)
    .then(
      [answer](const offset_commit_response& r) {
        // A group-level error fails every partition; partition errors alone
        // name their partitions (the others were committed).
        answer(r.partition_errors.empty() ? r.error : errc::none, r.partition_errors);
      },
      [answer](const caf::error& err) {
        auto code = error_code_of(err);
        answer(code == errc::request_timed_out || code == errc::network_exception
                 ? errc::coordinator_not_available
                 : code,
               {});
      });
}

namespace {

/// One group's committed offsets in Kafka's shape (v0-7 and v8+ differ only
/// in type names): topics sorted by name, partitions in request order, or
/// every committed one when `all`; -1 for a partition never committed.
/// `partition_error`: every partition carries it, at offset -1.
template <class Topic>
std::vector<Topic> offset_topics(const group_offsets& got, const std::vector<topic_partition>& tps,
                                 bool all, errc partition_error = errc::none) {
  std::map<std::string, Topic> by_topic;
  auto add = [&](const topic_partition& tp, const group_offset* o) {
    auto& tr = by_topic[tp.topic];
    tr.name = tp.topic;
    typename std::decay_t<decltype(tr.partitions)>::value_type p;
    p.partition_index = tp.partition;
    p.committed_offset = o ? o->offset : -1;
    p.committed_leader_epoch = o ? o->leader_epoch : -1;
    p.metadata = o ? o->metadata : "";
    p.error_code = int16_t(partition_error);
    tr.partitions.push_back(std::move(p));
  };
  if (all)
    for (auto& [tp, o] : got)
      add(tp, &o);
  else
    for (auto& tp : tps) {
      auto i = got.find(tp);
      add(tp, i != got.end() ? &i->second : nullptr);
    }
  std::vector<Topic> out;
  for (auto& [name, tr] : by_topic)
    out.push_back(std::move(tr));
  return out;
}

/// The partitions a request names (null topics: every committed one).
template <class Topics>
std::vector<topic_partition> requested(const std::optional<Topics>& topics) {
  std::vector<topic_partition> tps;
  if (topics)
    for (auto& t : *topics)
      for (auto p : t.partition_indexes)
        tps.push_back({t.name, p});
  return tps;
}

/// OffsetFetch through the gateway; require_stable (v7+, KIP-447) asks the
/// coordinator for stable offsets.
auto ask_offsets(conn_ptr self, const std::string& group, std::vector<topic_partition> tps,
                 bool require_stable) {
  auto& gw = self->state.setup.gateway;
  if (require_stable)
    return self->request(gw, gateway_timeout(self), offset_fetch_atom::value, group,
                         std::move(tps), require_stable_atom::value);
  return self->request(gw, gateway_timeout(self), offset_fetch_atom::value, group, std::move(tps));
}

/// UNSTABLE_OFFSET_COMMIT is a partition error in Kafka's answer (the client
/// asks again); the other errors are the group's.
bool unstable(const caf::error& err) {
  return error_code_of(err) == errc::unstable_offset_commit;
}

/// OffsetFetch v8+ (KIP-709): several groups, each asked of its coordinator
/// and answered with its own error code (NOT_COORDINATOR for a group another
/// node has), as Kafka does. v9's member id/epoch are KIP-848's; Kafka does
/// not check them for a classic group (ClassicGroup.validateOffsetFetch only
/// refuses a dead one), and every group here is classic: ignored.
void offset_fetch_groups(conn_ptr self, const request_ctx& ctx, kafka::OffsetFetchRequest& req) {
  using response = kafka::OffsetFetchResponse;
  auto out = std::make_shared<response>();
  if (req.groups.empty())
    return reply(self, ctx, *out);
  auto done = countdown(self, ctx, out, req.groups.size());
  for (size_t i = 0; i < req.groups.size(); ++i) {
    auto& g = req.groups[i];
    out->groups.push_back({g.group_id, {}, 0});
    auto tps = requested(g.topics);
    ask_offsets(self, g.group_id, tps, req.require_stable)
      .then(
        [out, i, done, tps, all = !g.topics](const group_offsets& got) {
          out->groups[i].topics =
            offset_topics<response::OffsetFetchResponseTopics>(got, tps, all);
          done();
        },
        [out, i, done, tps](const caf::error& err) {
          if (unstable(err))
            out->groups[i].topics = offset_topics<response::OffsetFetchResponseTopics>(
              {}, tps, false, errc::unstable_offset_commit);
          else
            out->groups[i].error_code = group_error(err);
          done();
        });
  }
}

} // namespace

void handle_offset_fetch(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::OffsetFetchRequest req;
  if (!decode(self, ctx, body, req))
    return;
  if (ctx.version >= 8)
    return offset_fetch_groups(self, ctx, req);
  auto tps = requested(req.topics);
  ask_offsets(self, req.group_id, tps, req.require_stable)
    .then(
      [self, ctx, tps, all = !req.topics](const group_offsets& got) {
        kafka::OffsetFetchResponse out;
        out.topics =
          offset_topics<kafka::OffsetFetchResponse::OffsetFetchResponseTopic>(got, tps, all);
        reply(self, ctx, out);
      },
      [self, ctx, tps](const caf::error& err) {
        kafka::OffsetFetchResponse out;
        if (unstable(err)) {
          out.topics = offset_topics<kafka::OffsetFetchResponse::OffsetFetchResponseTopic>(
            {}, tps, false, errc::unstable_offset_commit);
          return reply(self, ctx, out);
        }
        out.error_code = group_error(err);
        if (ctx.version < 2) // no top-level error before v2: answer nothing committed
          out.error_code = 0;
        reply(self, ctx, out);
      });
}

void handle_describe_groups(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::DescribeGroupsRequest req;
  if (!decode(self, ctx, body, req))
    return;
  auto out = std::make_shared<kafka::DescribeGroupsResponse>();
  if (req.groups.empty())
    return reply(self, ctx, *out);
  auto done = countdown(self, ctx, out, req.groups.size());
  for (size_t i = 0; i < req.groups.size(); ++i) {
    kafka::DescribeGroupsResponse::DescribedGroup g;
    g.group_id = req.groups[i];
    out->groups.push_back(g);
    self->request(self->state.setup.gateway, gateway_timeout(self), describe_group_atom::value,
                  req.groups[i])
      .then(
        [out, i, done](const group_description& d) {
          auto& described = out->groups[i];
          described.group_state = std::string(to_string(d.state));
          described.protocol_type = d.protocol_type;
          described.protocol_data = d.protocol_name;
          for (auto& m : d.members)
            described.members.push_back({m.member_id, std::nullopt, m.client_id, m.client_host,
                                 m.metadata, m.assignment_bytes});
          done();
        },
        [out, i, done](const caf::error& err) {
          auto code = error_code_of(err);
          if (code == errc::group_id_not_found) { // Kafka: an unknown group is Dead, no error
            out->groups[i].group_state = "Dead";
          } else {
            out->groups[i].error_code = group_error(err);
          }
          done();
        });
  }
}

void handle_list_groups(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::ListGroupsRequest req;
  if (!decode(self, ctx, body, req))
    return;
  self->request(self->state.setup.gateway, gateway_timeout(self), list_groups_atom::value)
    .then(
      [self, ctx, req](const std::vector<group_listing>& groups) {
        kafka::ListGroupsResponse out;
        for (auto& g : groups) {
          std::string state{to_string(g.state)};
          if (!req.states_filter.empty() &&
              std::find(req.states_filter.begin(), req.states_filter.end(), state) ==
                req.states_filter.end())
            continue;
          kafka::ListGroupsResponse::ListedGroup lg;
          lg.group_id = g.group_id;
          lg.protocol_type = g.protocol_type;
          if (ctx.version >= 4)
            lg.group_state = state;
          if (ctx.version >= 5)
            lg.group_type = "classic";
          out.groups.push_back(std::move(lg));
        }
        reply(self, ctx, out);
      },
      [self, ctx](const caf::error& err) {
        kafka::ListGroupsResponse out;
        out.error_code = group_error(err);
        reply(self, ctx, out);
      });
}

void handle_delete_groups(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::DeleteGroupsRequest req;
  if (!decode(self, ctx, body, req))
    return;
  auto out = std::make_shared<kafka::DeleteGroupsResponse>();
  if (req.groups_names.empty())
    return reply(self, ctx, *out);
  auto finish = countdown(self, ctx, out, req.groups_names.size());
  for (size_t i = 0; i < req.groups_names.size(); ++i) {
    out->results.push_back({req.groups_names[i], 0});
    auto done = [out, i, finish](int16_t code) {
      out->results[i].error_code = code;
      finish();
    };
    self->request(self->state.setup.gateway, gateway_timeout(self), delete_group_atom::value,
                  req.groups_names[i])
      .then([done](bool) { done(0); }, [done](const caf::error& err) { done(group_error(err)); });
  }
}

} // namespace al::kafka_server
