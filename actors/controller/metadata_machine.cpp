#include "actors/controller/metadata_machine.hpp"

#include <algorithm>
#include <map>

#include "storage/topic_config.hpp"

namespace al {

namespace {

status unknown_topic(const std::string& name) {
  return {errc::unknown_topic_or_partition, "topic \"" + name + "\" does not exist"};
}

uint32_t name_hash(const std::string& s) { // FNV-1a: stable across runs and platforms
  uint32_t h = 2166136261u;
  for (unsigned char c : s)
    h = (h ^ c) * 16777619u;
  return h;
}

} // namespace

status validate_topic_name(const std::string& name) {
  if (name.empty())
    return {errc::invalid_topic_exception, "topic name is empty"};
  if (name == "." || name == "..")
    return {errc::invalid_topic_exception, "topic name cannot be \".\" or \"..\""};
  if (name.size() > 249)
    return {errc::invalid_topic_exception,
            "topic name is " + std::to_string(name.size()) + " characters, the limit is 249"};
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok)
      return {errc::invalid_topic_exception,
              "topic name \"" + name + "\" has an illegal character '" + std::string(1, c) +
                "' (allowed: a-z A-Z 0-9 . _ -)"};
  }
  return status::ok();
}

namespace {

status too_many_per_request(int32_t count, const topic_defaults& limits) {
  return {errc::policy_violation,
          "excessively large number of partitions per request: " + std::to_string(count) +
            " (at most " + std::to_string(limits.max_partitions_per_request) + ")"};
}

/// Kafka refuses names that differ only in '.' versus '_' (their metric
/// names collide).
std::string collision_key(std::string name) {
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

} // namespace

status check_partition_limits(const metadata_image& image, int32_t count,
                              const std::vector<std::vector<int32_t>>& placed,
                              const topic_defaults& limits) {
  if (count > limits.max_partitions_per_request)
    return too_many_per_request(count, limits);
  std::map<int32_t, int64_t> hosted;
  for (auto& [name, t] : image.topics)
    for (auto& p : t.partitions)
      for (auto r : p.replicas)
        ++hosted[r];
  std::map<int32_t, int64_t> added;
  for (auto& replicas : placed)
    for (auto r : replicas)
      ++added[r];
  for (auto& [broker, n] : added)
    if (hosted[broker] + n > limits.max_broker_partitions)
      return {errc::policy_violation,
              "node " + std::to_string(broker) + " would host " + std::to_string(hosted[broker] + n) +
                " partition replicas (" + std::to_string(hosted[broker]) + " now, " +
                std::to_string(n) + " new); max.broker.partitions is " +
                std::to_string(limits.max_broker_partitions)};
  return status::ok();
}

const topic_description* metadata_machine::find_topic(const std::string& name) const {
  auto i = image_.topics.find(name);
  return i == image_.topics.end() ? nullptr : &i->second;
}

std::vector<int32_t> metadata_machine::live_brokers() const {
  std::vector<int32_t> out;
  for (auto& [id, b] : image_.brokers)
    if (!b.fenced)
      out.push_back(id);
  return out;
}

std::vector<std::vector<int32_t>>
metadata_machine::assign_replicas(const std::string& name, int32_t first_partition,
                                  int32_t count, int32_t replication_factor) const {
  // Kafka's idea: a start broker per topic, then consecutive brokers, so
  // leaders (replica 0) spread evenly over the brokers.
  auto brokers = live_brokers();
  AL_ASSERT(!brokers.empty() && replication_factor <= int32_t(brokers.size()));
  auto n = brokers.size();
  size_t start = name_hash(name) % n;
  std::vector<std::vector<int32_t>> out;
  for (int32_t p = first_partition; p < first_partition + count; ++p) {
    std::vector<int32_t> replicas;
    for (int32_t r = 0; r < replication_factor; ++r)
      replicas.push_back(brokers[(start + size_t(p) + size_t(r)) % n]);
    out.push_back(std::move(replicas));
  }
  return out;
}

result<create_topic_cmd> metadata_machine::plan_create_topic(const create_topic_request& req,
                                                             const topic_defaults& defaults,
                                                             std::string topic_id) const {
  if (auto st = validate_topic_name(req.name); !st)
    return st;
  if (find_topic(req.name))
    return status{errc::topic_already_exists, "topic \"" + req.name + "\" already exists"};
  int32_t partitions = req.partitions == -1 ? defaults.num_partitions : req.partitions;
  if (partitions <= 0)
    return status{errc::invalid_partitions,
                  "number of partitions must be at least 1, got " + std::to_string(partitions)};
  if (partitions > defaults.max_partitions_per_request)
    return too_many_per_request(partitions, defaults);
  for (auto& [existing, t] : image_.topics)
    if (collision_key(existing) == collision_key(req.name))
      return status{errc::invalid_topic_exception,
                    "topic \"" + req.name + "\" collides with existing topic \"" + existing +
                      "\" ('.' and '_' are the same in metric names)"};
  int32_t rf = req.replication_factor == -1 ? defaults.replication_factor
                                            : req.replication_factor;
  auto live = int32_t(live_brokers().size());
  if (rf <= 0)
    return status{errc::invalid_replication_factor,
                  "replication factor must be at least 1, got " + std::to_string(rf)};
  if (rf > live)
    return status{errc::invalid_replication_factor,
                  "replication factor " + std::to_string(rf) + " is larger than the " +
                    std::to_string(live) + " available broker(s)"};
  if (auto st = validate_topic_configs(req.configs); !st)
    return st;
  create_topic_cmd cmd;
  cmd.name = req.name;
  cmd.topic_id = std::move(topic_id);
  cmd.configs = req.configs;
  cmd.assignment = assign_replicas(req.name, 0, partitions, rf);
  if (auto st = check_partition_limits(image_, partitions, cmd.assignment, defaults); !st)
    return st;
  return cmd;
}

result<create_partitions_cmd> metadata_machine::plan_create_partitions(
  const std::string& name, int32_t new_total, const topic_defaults& limits) const {
  auto t = find_topic(name);
  if (!t)
    return unknown_topic(name);
  auto current = int32_t(t->partitions.size());
  if (new_total < current)
    return status{errc::invalid_partitions,
                  "topic \"" + name + "\" has " + std::to_string(current) +
                    " partitions; the count can only grow (asked for " +
                    std::to_string(new_total) + ")"};
  if (new_total == current)
    return status{errc::invalid_partitions,
                  "topic \"" + name + "\" already has " + std::to_string(current) + " partitions"};
  auto rf = int32_t(t->partitions.empty() ? 1 : t->partitions.front().replicas.size());
  if (rf > int32_t(live_brokers().size()))
    return status{errc::invalid_replication_factor,
                  "not enough live brokers for replication factor " + std::to_string(rf)};
  if (int64_t(new_total) - current > limits.max_partitions_per_request)
    return too_many_per_request(new_total - current, limits);
  create_partitions_cmd cmd;
  cmd.name = name;
  cmd.new_assignment = assign_replicas(name, current, new_total - current, rf);
  if (auto st = check_partition_limits(image_, new_total - current, cmd.new_assignment, limits); !st)
    return st;
  return cmd;
}

result<alter_configs_cmd> metadata_machine::plan_alter_configs(const alter_topic_request& req) const {
  if (!find_topic(req.name))
    return unknown_topic(req.name);
  if (auto st = validate_topic_configs(req.set_configs); !st)
    return st;
  for (auto& key : req.delete_configs) {
    bool known = false;
    for (auto& k : topic_config_keys())
      known = known || key == k.name;
    if (!known)
      return status{errc::invalid_config,
                    "cannot delete unknown topic config \"" + key.substr(0, 64) + "\""};
  }
  alter_configs_cmd cmd;
  cmd.name = req.name;
  cmd.set = req.set_configs;
  cmd.remove = req.delete_configs;
  return cmd;
}

result<delete_topic_cmd> metadata_machine::plan_delete_topic(const std::string& name) const {
  if (!find_topic(name))
    return unknown_topic(name);
  return delete_topic_cmd{name};
}

status metadata_machine::apply(const metadata_command& cmd, int64_t offset) {
  if (offset <= image_.last_offset)
    return status::ok(); // already applied (replay)
  note_change(cmd);
  auto st = std::visit([this](const auto& c) { return apply_one(c); }, cmd);
  // A rejected command still consumes its offset: every node rejects it the
  // same way, so images stay identical.
  image_.last_offset = offset;
  return st;
}

status metadata_machine::apply_one(const register_broker_cmd& c) {
  // A registration planned for a process that has since restarted (and
  // registered anew) must not take its place back: incarnations only grow.
  if (auto inc = image_.broker_incarnations.find(c.broker_id);
      inc != image_.broker_incarnations.end() && c.incarnation < inc->second)
    return {errc::stale_broker_epoch, "broker " + std::to_string(c.broker_id) + " incarnation " +
                                        std::to_string(c.incarnation) + " is older than the " +
                                        "registered " + std::to_string(inc->second)};
  auto& b = image_.brokers[c.broker_id];
  b.id = c.broker_id;
  b.host = c.host;
  b.port = c.port;
  b.peer_port = c.peer_port != 0 ? c.peer_port : c.port;
  b.kafka_host = c.kafka_host;
  b.kafka_port = c.kafka_port;
  b.fenced = false;
  image_.broker_incarnations[c.broker_id] = c.incarnation;
  return status::ok();
}

status metadata_machine::apply_one(const fence_broker_cmd& c) {
  auto i = image_.brokers.find(c.broker_id);
  if (i == image_.brokers.end())
    return {errc::broker_not_available, "broker " + std::to_string(c.broker_id) + " is unknown"};
  i->second.fenced = c.fenced;
  return status::ok();
}

namespace {
partition_description new_partition(int32_t index, const std::vector<int32_t>& replicas) {
  partition_description p;
  p.partition = index;
  p.replicas = replicas;
  p.isr = replicas;
  p.leader = replicas.empty() ? -1 : replicas.front();
  p.leader_epoch = 0;
  return p;
}
} // namespace

status metadata_machine::apply_one(const create_topic_cmd& c) {
  if (auto st = validate_topic_name(c.name); !st)
    return st;
  if (find_topic(c.name))
    return {errc::topic_already_exists, "topic \"" + c.name + "\" already exists"};
  if (c.assignment.empty())
    return {errc::invalid_partitions, "topic \"" + c.name + "\" has no partitions"};
  topic_description t;
  t.name = c.name;
  t.topic_id = c.topic_id;
  t.configs = c.configs;
  for (size_t p = 0; p < c.assignment.size(); ++p)
    t.partitions.push_back(new_partition(int32_t(p), c.assignment[p]));
  image_.topics.emplace(c.name, std::move(t));
  return status::ok();
}

status metadata_machine::apply_one(const create_partitions_cmd& c) {
  auto i = image_.topics.find(c.name);
  if (i == image_.topics.end())
    return unknown_topic(c.name);
  auto& parts = i->second.partitions;
  for (auto& replicas : c.new_assignment)
    parts.push_back(new_partition(int32_t(parts.size()), replicas));
  return status::ok();
}

status metadata_machine::apply_one(const alter_configs_cmd& c) {
  auto i = image_.topics.find(c.name);
  if (i == image_.topics.end())
    return unknown_topic(c.name);
  for (auto& [k, v] : c.set)
    i->second.configs[k] = v;
  for (auto& k : c.remove)
    i->second.configs.erase(k);
  return status::ok();
}

status metadata_machine::apply_one(const delete_topic_cmd& c) {
  if (image_.topics.erase(c.name) == 0)
    return unknown_topic(c.name);
  return status::ok();
}

status metadata_machine::apply_one(const allocate_producer_ids_cmd& c) {
  if (c.first != image_.next_producer_id || c.count <= 0)
    return {errc::invalid_request, "producer id block " + std::to_string(c.first) +
                                     " does not start at the next free id " +
                                     std::to_string(image_.next_producer_id)};
  image_.next_producer_id += c.count;
  return status::ok();
}

/// KIP-903 at apply time: the planner checked each new ISR member against
/// the image it planned on, but commands logged since (a fence, a
/// re-registration with a new incarnation) may have made that stale. Type 7
/// commands predate the check and apply as they did then.
status metadata_machine::check_added_members(const change_partition_cmd& c,
                                             const partition_description& p) const {
  if (c.legacy)
    return status::ok();
  auto shown = [](const std::map<int32_t, int64_t>& m, int32_t id) {
    auto i = m.find(id);
    return i == m.end() ? std::string("none") : std::to_string(i->second);
  };
  for (auto id : c.isr) {
    if (std::find(p.isr.begin(), p.isr.end(), id) != p.isr.end())
      continue; // already a member: nothing new to verify
    auto b = image_.brokers.find(id);
    auto now = image_.broker_incarnations.find(id);
    auto planned = c.broker_epochs.find(id);
    bool live = b != image_.brokers.end() && !b->second.fenced;
    if (live && now != image_.broker_incarnations.end() && planned != c.broker_epochs.end() &&
        now->second == planned->second)
      continue;
    auto why = live ? " is at incarnation " + shown(image_.broker_incarnations, id) +
                        ", planned at " + shown(c.broker_epochs, id)
                    : std::string(" is fenced or unknown");
    return {errc::ineligible_replica, c.topic + "-" + std::to_string(c.partition) + ": broker " +
                                        std::to_string(id) + why + "; not added to the ISR"};
  }
  return status::ok();
}

status metadata_machine::apply_one(const change_partition_cmd& c) {
  auto i = image_.topics.find(c.topic);
  if (i == image_.topics.end())
    return unknown_topic(c.topic);
  auto& parts = i->second.partitions;
  if (c.partition < 0 || c.partition >= int32_t(parts.size()))
    return {errc::unknown_topic_or_partition,
            c.topic + "-" + std::to_string(c.partition) + " does not exist"};
  auto& p = parts[size_t(c.partition)];
  if (c.expected_partition_epoch >= 0 && c.expected_partition_epoch != p.partition_epoch)
    return {errc::invalid_update_version,
            c.topic + "-" + std::to_string(c.partition) + ": planned at partition epoch " +
              std::to_string(c.expected_partition_epoch) + ", now " +
              std::to_string(p.partition_epoch)};
  if (auto st = check_added_members(c, p); !st)
    return st;
  if (c.leader != p.leader || c.bump_leader_epoch)
    ++p.leader_epoch;
  ++p.partition_epoch;
  p.leader = c.leader;
  p.isr = c.isr;
  return status::ok();
}

} // namespace al
