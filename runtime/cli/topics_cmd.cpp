// `actorlog topics create|list|describe|alter|delete` (kafka-topics.sh).
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "runtime/cli/broker_command.hpp"
#include "runtime/cli/command_line.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/output_format.hpp"

namespace al::cli {

namespace {

using strings = std::vector<std::string>;

void add_topic_option(cxxopts::Options& options, const char* what) {
  options.add_options()("topic", what, cxxopts::value<std::string>());
}

/// The --config entries, or a usage error.
result<config_map> read_configs(const cxxopts::ParseResult& args) {
  if (!args.count("config"))
    return config_map{};
  return parse_config_entries(args["config"].as<strings>());
}

int create(int argc, char** argv) {
  broker_command cmd{"topics create"};
  cxxopts::Options options("actorlog topics create",
                           "Creates a topic (kafka-topics --create).");
  add_topic_option(options, "name of the topic to create (required)");
  options.add_options()                                                                  //
    ("partitions", "number of partitions (default: the cluster's num.partitions)",
     cxxopts::value<int32_t>())                                                          //
    ("replication-factor", "replicas of each partition (default: the cluster's "
                           "default.replication.factor)",
     cxxopts::value<int32_t>())                                                          //
    ("config", "topic config override key=value, e.g. retention.ms=86400000 "
               "(repeat the option, or separate with commas)",
     cxxopts::value<strings>());
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  if (!args->count("topic"))
    return cmd.usage_error("--topic is required");
  create_topic_request req;
  req.name = (*args)["topic"].as<std::string>();
  if (args->count("partitions")) {
    req.partitions = (*args)["partitions"].as<int32_t>();
    if (req.partitions < 1)
      return cmd.usage_error("--partitions must be at least 1");
  }
  if (args->count("replication-factor")) {
    req.replication_factor = (*args)["replication-factor"].as<int32_t>();
    if (req.replication_factor < 1)
      return cmd.usage_error("--replication-factor must be at least 1");
  }
  auto configs = read_configs(*args);
  if (!configs)
    return cmd.usage_error("--config: " + configs.error().message());
  req.configs = std::move(*configs);
  auto res = cmd.ask<topic_description>(*args, create_topic_atom::value, req);
  if (!res)
    return cmd.exit_status();
  std::cout << "Created topic " << req.name << "." << std::endl;
  return 0;
}

int list(int argc, char** argv) {
  broker_command cmd{"topics list"};
  cxxopts::Options options("actorlog topics list",
                           "Prints the names of all topics, one per line, sorted "
                           "(kafka-topics --list).");
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  auto res = cmd.ask<metadata_response>(*args, metadata_atom::value, metadata_request{});
  if (!res)
    return cmd.exit_status();
  strings names;
  for (const auto& t : res->topics)
    names.push_back(t.name);
  std::sort(names.begin(), names.end());
  for (const auto& n : names)
    std::cout << n << '\n';
  std::cout.flush();
  return 0;
}

/// A broker knows the offsets of its own replicas only, so each partition's
/// offsets come from its leader (unknown, "-", when it cannot be asked).
void use_leader_offsets(broker_connection& conn, std::vector<topic_description>& topics) {
  strings names;
  for (const auto& t : topics)
    names.push_back(t.name);
  if (!conn.learn_brokers(names))
    return; // keep what the describe answer had
  for (auto& t : topics) {
    for (auto& p : t.partitions) {
      p.log_start_offset = p.log_end_offset = p.high_watermark = -1;
      auto to = conn.broker_for(p.leader);
      if (!to)
        continue;
      auto stats = conn.request_to<partition_description>(
        *to, conn.request_timeout(), stats_atom::value, topic_partition{t.name, p.partition});
      if (!stats)
        continue;
      p.log_start_offset = stats->log_start_offset;
      p.log_end_offset = stats->log_end_offset;
      p.high_watermark = stats->high_watermark;
    }
  }
}

int describe(int argc, char** argv) {
  broker_command cmd{"topics describe"};
  cxxopts::Options options("actorlog topics describe",
                           "Describes a topic, or every topic: partitions, leaders, "
                           "replicas, ISR,\nconfig overrides and each partition's log "
                           "start and end offsets as its leader\nreports them "
                           "(kafka-topics --describe).");
  add_topic_option(options, "the topic to describe (default: all topics)");
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  strings wanted;
  if (args->count("topic"))
    wanted.push_back((*args)["topic"].as<std::string>());
  auto conn = cmd.connect(*args);
  if (!conn)
    return cmd.exit_status();
  auto res = conn->request<std::vector<topic_description>>(describe_topics_atom::value, wanted);
  if (!res)
    return cmd.failure(res.error());
  auto topics = std::move(*res);
  if (!wanted.empty() && topics.empty())
    return cmd.failure("UNKNOWN_TOPIC_OR_PARTITION: topic \"" + wanted.front() +
                       "\" does not exist");
  use_leader_offsets(*conn, topics);
  std::sort(topics.begin(), topics.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& t : topics)
    std::cout << format_topic_description(t);
  std::cout.flush();
  return 0;
}

int alter(int argc, char** argv) {
  broker_command cmd{"topics alter"};
  cxxopts::Options options("actorlog topics alter",
                           "Adds partitions to a topic and changes its config overrides\n"
                           "(kafka-topics --alter, kafka-configs --alter).");
  add_topic_option(options, "the topic to change (required)");
  options.add_options()                                                                //
    ("partitions", "new total number of partitions (can only grow)",
     cxxopts::value<int32_t>())                                                        //
    ("config", "set a config override key=value (repeat, or separate with commas)",
     cxxopts::value<strings>())                                                        //
    ("delete-config", "remove a config override, back to the cluster default "
                      "(repeat, or separate with commas)",
     cxxopts::value<strings>());
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  if (!args->count("topic"))
    return cmd.usage_error("--topic is required");
  alter_topic_request req;
  req.name = (*args)["topic"].as<std::string>();
  if (args->count("partitions")) {
    req.partitions = (*args)["partitions"].as<int32_t>();
    if (req.partitions < 1)
      return cmd.usage_error("--partitions must be at least 1");
  }
  auto configs = read_configs(*args);
  if (!configs)
    return cmd.usage_error("--config: " + configs.error().message());
  req.set_configs = std::move(*configs);
  if (args->count("delete-config")) {
    auto names = parse_config_names((*args)["delete-config"].as<strings>());
    if (!names)
      return cmd.usage_error("--delete-config: " + names.error().message());
    req.delete_configs = std::move(*names);
  }
  for (const auto& key : req.delete_configs)
    if (req.set_configs.count(key))
      return cmd.usage_error("config \"" + key + "\" is both set and deleted");
  if (req.partitions < 0 && req.set_configs.empty() && req.delete_configs.empty())
    return cmd.usage_error("nothing to change: give --partitions, --config or --delete-config");
  auto res = cmd.ask<topic_description>(*args, alter_topic_atom::value, req);
  if (!res)
    return cmd.exit_status();
  std::cout << "Altered topic " << req.name << "." << std::endl;
  return 0;
}

int remove(int argc, char** argv) {
  broker_command cmd{"topics delete"};
  cxxopts::Options options("actorlog topics delete",
                           "Deletes a topic and all its data (kafka-topics --delete).");
  add_topic_option(options, "the topic to delete (required)");
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  if (!args->count("topic"))
    return cmd.usage_error("--topic is required");
  auto name = (*args)["topic"].as<std::string>();
  auto res = cmd.ask<bool>(*args, delete_topic_atom::value, name);
  if (!res)
    return cmd.exit_status();
  if (!*res)
    return cmd.failure("topic \"" + name + "\" was not deleted");
  std::cout << "Deleted topic " << name << "." << std::endl;
  return 0;
}

} // namespace

int topics_command(int argc, char** argv) {
  static const std::vector<subcommand> table = {
    {"create", "create a topic", create},
    {"list", "list topic names", list},
    {"describe", "describe topics: partitions, leaders, replicas, ISR, offsets", describe},
    {"alter", "add partitions, change config overrides", alter},
    {"delete", "delete a topic", remove},
  };
  return run_subcommand("topics", table, argc, argv, std::cout, std::cerr);
}

} // namespace al::cli
