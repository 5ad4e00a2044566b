#include "cluster_admin.hpp"

#include <algorithm>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <actorlog/client.hpp>

namespace trading {

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// Admin requests during a controller election or a leader move: try again.
bool worth_retrying(al::errc code) {
  return al::is_retriable(code) || code == al::errc::not_controller ||
         code == al::errc::network_exception || code == al::errc::request_timed_out;
}

al::status to_status(const caf::error& err) {
  return al::status{al::error_code_of(err), al::describe_error(err)};
}

std::vector<al::topic_partition> partitions_of(const std::string& topic,
                                               const std::vector<int32_t>& partitions) {
  std::vector<al::topic_partition> out;
  for (auto p : partitions)
    out.push_back(al::topic_partition{topic, p});
  return out;
}

} // namespace

al::result<std::unique_ptr<cluster_admin>> cluster_admin::connect(caf::actor_system& sys,
                                                                   const std::string& bootstrap) {
  auto servers = al::parse_bootstrap_servers(bootstrap);
  if (!servers)
    return servers.error();
  std::string why = "no address in --bootstrap";
  for (auto& s : *servers) {
    auto b = sys.middleman().remote_actor<al::client_api>(s.host, s.port);
    if (b)
      return std::unique_ptr<cluster_admin>{new cluster_admin(sys, bootstrap, *b)};
    why = s.host + ":" + std::to_string(s.port) + ": " + sys.render(b.error());
  }
  return al::status{al::errc::network_exception, "cannot connect to a broker (" + why + ")"};
}

al::result<std::vector<int32_t>> cluster_admin::ensure_topic(const topic_spec& spec,
                                                             bool& created) {
  caf::scoped_actor self{sys_};
  auto deadline = clock_type::now() + 60s;
  created = false;
  for (;;) {
    al::create_topic_request req{spec.name, spec.partitions, spec.replication_factor, {}};
    al::status st;
    self->request(broker_, 30s, al::create_topic_atom::value, req)
      .receive([&](const al::topic_description&) { created = true; },
               [&](caf::error& err) { st = to_status(err); });
    if (st.is_ok() || st.code() == al::errc::topic_already_exists)
      break;
    if (!worth_retrying(st.code()) || clock_type::now() > deadline)
      return al::status{st.code(), "create topic " + spec.name + ": " + st.message()};
    std::this_thread::sleep_for(500ms);
  }
  // The metadata reaches every broker asynchronously: wait for the leaders.
  std::string last = "no metadata yet";
  while (clock_type::now() < deadline) {
    std::vector<int32_t> ids;
    bool led = true;
    self->request(broker_, 30s, al::describe_topics_atom::value,
                  std::vector<std::string>{spec.name})
      .receive(
        [&](const std::vector<al::topic_description>& ts) {
          for (auto& t : ts)
            for (auto& p : t.partitions) {
              ids.push_back(p.partition);
              led = led && p.leader >= 0;
            }
        },
        [&](caf::error& err) { last = al::describe_error(err); });
    if (!ids.empty() && led) {
      std::sort(ids.begin(), ids.end());
      return ids;
    }
    if (!ids.empty())
      last = "a partition has no leader";
    std::this_thread::sleep_for(200ms);
  }
  return al::status{al::errc::leader_not_available, "topic " + spec.name + ": " + last};
}

al::result<offset_map> cluster_admin::end_offsets(const std::string& topic,
                                                  const std::vector<int32_t>& partitions) {
  auto c = al::consumer::create(sys_, {{"bootstrap.servers", bootstrap_},
                                       {"client.id", "trading-admin"},
                                       {"auto.offset.reset", "latest"}});
  if (!c)
    return c.error();
  auto tps = partitions_of(topic, partitions);
  if (auto st = (*c)->assign(tps); !st)
    return st;
  offset_map out;
  auto deadline = clock_type::now() + 60s;
  for (auto& tp : tps) {
    for (;;) { // position() waits ~2 s for the leader's answer; leaders may be moving
      auto pos = (*c)->position(tp);
      if (pos && *pos >= 0) {
        out[tp.partition] = *pos;
        break;
      }
      if (clock_type::now() > deadline)
        return al::status{al::errc::request_timed_out,
                          "end offset of " + al::to_string(tp) + ": " +
                            (pos ? std::string{"unknown"} : pos.error().to_string())};
    }
  }
  return out;
}

al::result<offset_map> cluster_admin::committed(const std::string& group, const std::string& topic,
                                                const std::vector<int32_t>& partitions) {
  auto c = al::consumer::create(sys_, {{"bootstrap.servers", bootstrap_},
                                       {"client.id", "trading-admin"},
                                       {"group.id", group},
                                       {"enable.auto.commit", "false"}});
  if (!c)
    return c.error();
  auto deadline = clock_type::now() + 60s;
  for (;;) {
    auto got = (*c)->committed(partitions_of(topic, partitions));
    if (got) {
      offset_map out;
      for (auto p : partitions)
        out[p] = -1;
      for (auto& [tp, om] : *got)
        out[tp.partition] = om.offset;
      return out;
    }
    if (!worth_retrying(got.error().code()) || clock_type::now() > deadline)
      return got.error();
    std::this_thread::sleep_for(200ms);
  }
}

al::status cluster_admin::reset_group(const std::string& group, const std::string& topic,
                                      const offset_map& offsets) {
  auto c = al::consumer::create(sys_, {{"bootstrap.servers", bootstrap_},
                                       {"client.id", "trading-admin"},
                                       {"group.id", group},
                                       {"enable.auto.commit", "false"}});
  if (!c)
    return c.error();
  al::offset_commit_map m;
  for (auto& [p, off] : offsets)
    m[al::topic_partition{topic, p}].offset = off;
  auto deadline = clock_type::now() + 60s;
  for (;;) {
    auto st = (*c)->commit_sync(m);
    if (st)
      return st;
    // NON_EMPTY_GROUP: a member of an earlier run has not timed out yet.
    bool again = worth_retrying(st.code()) || st.code() == al::errc::non_empty_group;
    if (!again || clock_type::now() > deadline)
      return al::status{st.code(), "reset offsets of group " + group + ": " + st.message()};
    std::this_thread::sleep_for(500ms);
  }
}

} // namespace trading
