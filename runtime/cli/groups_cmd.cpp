// `actorlog groups list|describe|reset-offsets|delete` (kafka-consumer-groups).
// FindCoordinator (through the bootstrap broker, which creates
// __consumer_offsets if it does not exist yet) names the group's coordinator;
// group requests go to that broker, offsets requests to partition leaders,
// ListGroups to every broker. A coordinator still loading is waited for.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "actors/group/group_messages.hpp"
#include "runtime/cli/broker_command.hpp"
#include "runtime/cli/command_line.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/output_format.hpp"

namespace al::cli {

namespace {

using clock_type = std::chrono::steady_clock;

void add_group_option(cxxopts::Options& options) {
  options.add_options()("group", "the consumer group (or give it as the first argument)",
                        cxxopts::value<std::string>());
  options.parse_positional({"group"});
  options.positional_help("GROUP");
}

/// A group request to broker `to`, retried while the coordinator is being
/// created or loads.
template <class Response, class... Ts>
caf::expected<Response> group_request(broker_connection& conn, const client_api& to, Ts... xs) {
  return request_while_loading<Response>(conn, to, xs...);
}

struct coordinator {
  coordinator_info info;
  client_api broker;
};

/// The broker that coordinates `group` (FindCoordinator through the
/// bootstrap broker, which creates __consumer_offsets on first use).
caf::expected<coordinator> find_coordinator(broker_connection& conn, const std::string& group) {
  auto info = group_request<coordinator_info>(conn, conn.broker(), find_coordinator_atom::value,
                                              group);
  if (!info)
    return info.error();
  if (auto md = conn.learn_brokers({}); !md)
    return md.error();
  auto b = conn.broker_for(info->node_id);
  if (!b)
    return b.error();
  return coordinator{*info, *b};
}

/// Connects and finds `group`'s coordinator; nullopt after reporting why not.
std::optional<coordinator> connect_to_coordinator(broker_command& cmd,
                                                  const cxxopts::ParseResult& args,
                                                  const std::string& group) {
  auto conn = cmd.connect(args);
  if (!conn)
    return std::nullopt;
  auto c = find_coordinator(*conn, group);
  if (!c) {
    cmd.failure(c.error());
    return std::nullopt;
  }
  return std::move(*c);
}

/// The leader of tp, or why there is none.
caf::expected<client_api> leader_of(broker_connection& conn, const topic_partition& tp,
                                    std::map<std::string, leader_map>& leaders) {
  auto t = leaders.find(tp.topic);
  if (t == leaders.end()) {
    auto l = conn.partition_leaders(tp.topic);
    if (!l)
      return l.error();
    t = leaders.emplace(tp.topic, std::move(*l)).first;
  }
  auto p = t->second.find(tp.partition);
  if (p == t->second.end())
    return make_error(errc::unknown_topic_or_partition, to_string(tp) + " does not exist");
  return conn.broker_for(p->second);
}

/// ListOffsets for tp at its leader.
caf::expected<list_offsets_response> list_offsets(broker_connection& conn,
                                                  const topic_partition& tp, int64_t timestamp,
                                                  std::map<std::string, leader_map>& leaders) {
  auto leader = leader_of(conn, tp, leaders);
  if (!leader)
    return leader.error();
  return conn.request_to<list_offsets_response>(
    *leader, conn.request_timeout(), list_offsets_atom::value,
    list_offsets_request{tp.topic, tp.partition, timestamp});
}

/// The latest offset (high watermark) of each partition; unknown ones are left out.
std::map<topic_partition, int64_t> log_end_offsets(broker_connection& conn,
                                                   const std::vector<topic_partition>& tps) {
  std::map<topic_partition, int64_t> out;
  std::map<std::string, leader_map> leaders;
  for (const auto& tp : tps) {
    auto r = list_offsets(conn, tp, latest_timestamp, leaders);
    if (r && r->offset >= 0)
      out[tp] = r->offset;
  }
  return out;
}

/// ListGroups on every broker (each lists the groups it coordinates).
caf::expected<std::vector<group_listing>> list_all_groups(broker_connection& conn) {
  auto md = conn.learn_brokers({});
  if (!md)
    return md.error();
  std::map<std::string, group_listing> merged;
  for (const auto& b : md->brokers) {
    if (b.fenced)
      continue; // coordinates nothing
    auto h = conn.broker_for(b.id);
    if (!h)
      return h.error();
    auto part = group_request<std::vector<group_listing>>(conn, *h, list_groups_atom::value);
    if (!part)
      return part.error();
    for (auto& g : *part)
      merged[g.group_id] = g;
  }
  std::vector<group_listing> out;
  for (auto& [id, g] : merged)
    out.push_back(g);
  return out;
}

int list(int argc, char** argv) {
  broker_command cmd{"groups list"};
  cxxopts::Options options("actorlog groups list",
                           "Prints the consumer groups, one per line (kafka-consumer-groups "
                           "--list).");
  options.add_options()("state", "print a GROUP STATE table instead");
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  auto conn = cmd.connect(*args);
  if (!conn)
    return cmd.exit_status();
  auto groups = list_all_groups(*conn);
  if (!groups)
    return cmd.failure(groups.error());
  std::sort(groups->begin(), groups->end());
  if (args->count("state")) {
    std::cout << format_group_listing(*groups);
  } else {
    for (const auto& g : *groups)
      std::cout << g.group_id << '\n';
  }
  std::cout.flush();
  return 0;
}

int describe(int argc, char** argv) {
  broker_command cmd{"groups describe"};
  cxxopts::Options options("actorlog groups describe",
                           "Describes a consumer group: per partition the committed offset, "
                           "the log end\noffset, the lag and the owning member "
                           "(kafka-consumer-groups --describe).");
  add_group_option(options);
  options.add_options()("state", "print the group's coordinator, strategy, state and size");
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  if (!args->count("group"))
    return cmd.usage_error("a group is required");
  auto group = (*args)["group"].as<std::string>();
  auto c = connect_to_coordinator(cmd, *args, group);
  if (!c)
    return cmd.exit_status();
  auto conn = cmd.connect(*args); // connected by connect_to_coordinator
  auto desc = group_request<group_description>(*conn, c->broker, describe_group_atom::value, group);
  if (!desc) {
    if (error_code_of(desc.error()) == errc::group_id_not_found)
      return cmd.failure("consumer group '" + group + "' does not exist");
    return cmd.failure(desc.error());
  }
  if (args->count("state")) {
    std::cout << format_group_state(*desc, c->info.host + ":" + std::to_string(c->info.port) +
                                             " (" + std::to_string(c->info.node_id) + ")");
    return 0;
  }
  std::vector<topic_partition> tps;
  for (const auto& [tp, o] : desc->offsets)
    tps.push_back(tp);
  for (const auto& m : desc->members)
    tps.insert(tps.end(), m.assignment.begin(), m.assignment.end());
  if (desc->members.empty())
    std::cout << "\nConsumer group '" << group << "' has no active members.\n";
  std::cout << '\n' << format_group_offsets(*desc, log_end_offsets(*conn, tps)) << std::flush;
  return 0;
}

struct reset_target {
  enum kind_t { earliest, latest, offset, datetime } kind = earliest;
  int64_t value = 0;
};

/// The new offset of every partition of `topic` (Kafka clamps --to-offset
/// into [log start, log end] and a datetime past the last record to the end).
caf::expected<std::map<topic_partition, int64_t>>
plan_reset(broker_connection& conn, const std::string& topic, const reset_target& target) {
  auto md = conn.request<metadata_response>(metadata_atom::value, metadata_request{{topic}});
  if (!md)
    return md.error();
  auto t = std::find_if(md->topics.begin(), md->topics.end(),
                        [&](const auto& x) { return x.name == topic; });
  if (t == md->topics.end() || t->partitions.empty())
    return make_error(errc::unknown_topic_or_partition, "topic \"" + topic + "\" does not exist");
  std::map<topic_partition, int64_t> plan;
  std::map<std::string, leader_map> leaders;
  for (const auto& p : t->partitions) {
    auto ask = [&](int64_t ts) {
      return list_offsets(conn, topic_partition{topic, p.partition}, ts, leaders);
    };
    auto earliest = ask(earliest_timestamp);
    auto latest = earliest ? ask(latest_timestamp) : earliest;
    if (!latest)
      return latest.error();
    int64_t lo = std::max<int64_t>(earliest->offset, 0), hi = std::max<int64_t>(latest->offset, 0);
    int64_t v = lo;
    switch (target.kind) {
      case reset_target::earliest: v = lo; break;
      case reset_target::latest: v = hi; break;
      case reset_target::offset: v = std::clamp(target.value, lo, hi); break;
      case reset_target::datetime: {
        auto at = ask(target.value);
        if (!at)
          return at.error();
        v = at->offset >= 0 ? at->offset : hi;
        break;
      }
    }
    plan[topic_partition{topic, p.partition}] = v;
  }
  return plan;
}

int reset_offsets(int argc, char** argv) {
  broker_command cmd{"groups reset-offsets"};
  cxxopts::Options options(
    "actorlog groups reset-offsets",
    "Sets a group's committed offsets for a topic (kafka-consumer-groups --reset-offsets).\n"
    "Prints the plan; --execute applies it. Only while the group has no members\n"
    "(NON_EMPTY_GROUP otherwise): stop its consumers first.");
  add_group_option(options);
  options.add_options()                                                                  //
    ("topic", "the topic whose offsets to reset (required)", cxxopts::value<std::string>()) //
    ("to-earliest", "each partition's log start offset")                               //
    ("to-latest", "each partition's log end offset")                                   //
    ("to-offset", "this offset (clamped to each partition's range)",
     cxxopts::value<int64_t>())                                                          //
    ("to-datetime", "the first record at or after YYYY-MM-DDTHH:mm:SS.sss[zone]",
     cxxopts::value<std::string>())                                                      //
    ("execute", "apply the plan (without it: a dry run)");
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  if (!args->count("group"))
    return cmd.usage_error("--group is required");
  if (!args->count("topic"))
    return cmd.usage_error("--topic is required");
  auto group = (*args)["group"].as<std::string>();
  auto topic = (*args)["topic"].as<std::string>();
  int targets = int(args->count("to-earliest") + args->count("to-latest") +
                    args->count("to-offset") + args->count("to-datetime"));
  if (targets != 1)
    return cmd.usage_error("give exactly one of --to-earliest, --to-latest, "
                           "--to-offset, --to-datetime");
  reset_target target;
  if (args->count("to-latest"))
    target.kind = reset_target::latest;
  if (args->count("to-offset")) {
    target = {reset_target::offset, (*args)["to-offset"].as<int64_t>()};
    if (target.value < 0)
      return cmd.usage_error("--to-offset must be >= 0");
  }
  if (args->count("to-datetime")) {
    auto ms = parse_datetime_ms((*args)["to-datetime"].as<std::string>());
    if (!ms)
      return cmd.usage_error("--to-datetime: " + ms.error().message());
    target = {reset_target::datetime, *ms};
  }
  auto c = connect_to_coordinator(cmd, *args, group);
  if (!c)
    return cmd.exit_status();
  auto conn = cmd.connect(*args); // connected by connect_to_coordinator
  auto desc = group_request<group_description>(*conn, c->broker, describe_group_atom::value, group);
  if (desc && !desc->members.empty())
    return cmd.failure("NON_EMPTY_GROUP: group '" + group + "' has " +
                       std::to_string(desc->members.size()) + " active member(s) (" +
                       std::string(to_string(desc->state)) +
                       "); offsets can only be reset while it has none");
  if (!desc && error_code_of(desc.error()) != errc::group_id_not_found)
    return cmd.failure(desc.error());
  auto plan = plan_reset(*conn, topic, target);
  if (!plan)
    return cmd.failure(plan.error());
  if (!args->count("execute")) {
    std::cout << '\n' << format_offset_plan(group, *plan) << std::flush;
    std::cerr << "(dry run: nothing was changed; add --execute to apply)" << std::endl;
    return 0;
  }
  offset_commit_map offsets;
  for (const auto& [tp, v] : *plan)
    offsets[tp] = offset_and_metadata{v, "", -1};
  auto done = group_request<offset_commit_response>(*conn, c->broker, alter_offsets_atom::value,
                                                    group, offsets);
  if (!done)
    return cmd.failure(done.error());
  if (done->error != errc::none)
    return cmd.failure(std::string(to_string(done->error)) + ": group '" + group + "'");
  std::cout << '\n' << format_offset_plan(group, *plan) << std::flush;
  return 0;
}

int remove(int argc, char** argv) {
  broker_command cmd{"groups delete"};
  cxxopts::Options options("actorlog groups delete",
                           "Deletes a consumer group and its committed offsets "
                           "(kafka-consumer-groups --delete).\nOnly a group without members.");
  add_group_option(options);
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  if (!args->count("group"))
    return cmd.usage_error("a group is required");
  auto group = (*args)["group"].as<std::string>();
  auto c = connect_to_coordinator(cmd, *args, group);
  if (!c)
    return cmd.exit_status();
  auto conn = cmd.connect(*args); // connected by connect_to_coordinator
  auto done = group_request<bool>(*conn, c->broker, delete_group_atom::value, group);
  if (!done)
    return cmd.failure(done.error());
  std::cout << "Deletion of requested consumer groups ('" << group << "') was successful."
            << std::endl;
  return 0;
}

} // namespace

int groups_command(int argc, char** argv) {
  static const std::vector<subcommand> table = {
    {"list", "list consumer groups", list},
    {"describe", "committed offsets, log end offsets, lag and members of a group", describe},
    {"reset-offsets", "set a group's committed offsets (while it has no members)",
     reset_offsets},
    {"delete", "delete a group and its committed offsets (while it has no members)", remove},
  };
  return run_subcommand("groups", table, argc, argv, std::cout, std::cerr);
}

} // namespace al::cli
