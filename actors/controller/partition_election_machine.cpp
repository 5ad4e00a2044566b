#include "actors/controller/partition_election_machine.hpp"

#include <algorithm>

#include "storage/assert.hpp"

namespace al {

namespace {

bool contains(const std::vector<int32_t>& v, int32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::vector<int32_t> without(std::vector<int32_t> v, int32_t x) {
  v.erase(std::remove(v.begin(), v.end(), x), v.end());
  return v;
}

bool is_live(const metadata_image& image, int32_t broker) {
  auto b = image.brokers.find(broker);
  return b != image.brokers.end() && !b->second.fenced;
}

/// A change of `p`, compare-and-set on its partition epoch, carrying the
/// incarnation of every ISR member as the image has it now (apply checks
/// the members it adds against them: KIP-903 at apply time).
change_partition_cmd change(const metadata_image& image, const topic_description& t,
                            const partition_description& p, int32_t leader,
                            std::vector<int32_t> isr) {
  AL_ASSERT(!isr.empty(), t.name, p.partition, "would have an empty ISR");
  AL_ASSERT(leader < 0 || contains(isr, leader), t.name, p.partition, "leader", leader,
            "outside ISR", describe_ids(isr));
  change_partition_cmd c;
  c.topic = t.name;
  c.partition = p.partition;
  c.leader = leader;
  c.isr = std::move(isr);
  c.expected_partition_epoch = p.partition_epoch;
  for (auto id : c.isr)
    if (auto inc = image.broker_incarnations.find(id); inc != image.broker_incarnations.end())
      c.broker_epochs[id] = inc->second;
  return c;
}

/// New leadership of a partition whose leader `gone` was fenced.
change_partition_cmd elect_without(const metadata_image& image, const topic_description& t,
                                   const partition_description& p, int32_t gone, bool unclean) {
  auto isr = without(p.isr, gone);
  for (auto id : p.replicas)
    if (id != gone && contains(isr, id) && is_live(image, id))
      return change(image, t, p, id, isr);
  if (unclean) {
    // Unclean: a replica that was not in sync leads. Records committed while
    // it lagged are gone for good; followers truncate to its log.
    for (auto id : p.replicas)
      if (id != gone && is_live(image, id))
        return change(image, t, p, id, {id});
  }
  // Offline. Keep the last ISR member: it has every committed record and
  // leads again when it comes back (KRaft keeps it the same way).
  return change(image, t, p, -1, isr.empty() ? std::vector<int32_t>{gone} : isr);
}

} // namespace

int32_t partition_epoch_table::get(const std::string& topic, int32_t partition) const {
  auto i = epochs_.find({topic, partition});
  return i == epochs_.end() ? 0 : i->second;
}

void partition_epoch_table::bump(const std::string& topic, int32_t partition) {
  ++epochs_[{topic, partition}];
}

void partition_epoch_table::forget(const std::string& topic) {
  for (auto i = epochs_.begin(); i != epochs_.end();)
    i = i->first.first == topic ? epochs_.erase(i) : std::next(i);
}

bool unclean_election_enabled(const topic_description& topic, const election_options& options) {
  auto i = topic.configs.find("unclean.leader.election.enable");
  if (i == topic.configs.end())
    return options.unclean_leader_election;
  return i->second == "true";
}

std::vector<change_partition_cmd> plan_broker_fenced(const metadata_image& image, int32_t broker,
                                                     const election_options& options) {
  std::vector<change_partition_cmd> out;
  for (auto& [name, t] : image.topics) {
    bool unclean = unclean_election_enabled(t, options);
    for (auto& p : t.partitions) {
      if (p.leader == broker)
        out.push_back(elect_without(image, t, p, broker, unclean));
      else if (p.leader >= 0 && contains(p.isr, broker))
        out.push_back(change(image, t, p, p.leader, without(p.isr, broker)));
      // Offline with B as the last ISR member: unchanged, B may come back.
    }
  }
  return out;
}

std::vector<change_partition_cmd>
plan_broker_unfenced(const metadata_image& image, int32_t broker, const election_options& options) {
  std::vector<change_partition_cmd> out;
  for (auto& [name, t] : image.topics) {
    bool unclean = unclean_election_enabled(t, options);
    for (auto& p : t.partitions) {
      if (p.leader >= 0 || !contains(p.replicas, broker))
        continue;
      if (contains(p.isr, broker)) {
        std::vector<int32_t> isr;
        for (auto id : p.isr)
          if (id == broker || is_live(image, id))
            isr.push_back(id);
        out.push_back(change(image, t, p, broker, isr));
      } else if (unclean) {
        out.push_back(change(image, t, p, broker, {broker}));
      }
    }
  }
  return out;
}

alter_isr_decision plan_alter_isr(const metadata_image& image, int32_t partition_epoch,
                                  const alter_isr_request& req) {
  alter_isr_decision d;
  auto name = to_string(req.tp);
  auto fail = [&](alter_isr_error e, std::string why) {
    d.error = e;
    d.message = name + ": " + std::move(why);
    return d;
  };
  auto t = image.topics.find(req.tp.topic);
  if (t == image.topics.end() || req.tp.partition < 0 ||
      req.tp.partition >= int32_t(t->second.partitions.size()))
    return fail(alter_isr_error::unknown_topic_or_partition, "no such partition");
  auto& p = t->second.partitions[size_t(req.tp.partition)];
  if (req.leader_epoch != p.leader_epoch || req.leader_id != p.leader)
    return fail(alter_isr_error::fenced_leader_epoch,
                "leader " + std::to_string(req.leader_id) + " epoch " +
                  std::to_string(req.leader_epoch) + ", current leader " +
                  std::to_string(p.leader) + " epoch " + std::to_string(p.leader_epoch));
  if (req.partition_epoch != partition_epoch)
    return fail(alter_isr_error::invalid_update_version,
                "partition epoch " + std::to_string(req.partition_epoch) + ", current " +
                  std::to_string(partition_epoch));
  if (!contains(req.new_isr, p.leader))
    return fail(alter_isr_error::invalid_request,
                "ISR " + describe_ids(req.new_isr) + " lacks the leader");
  for (size_t i = 0; i < req.new_isr.size(); ++i) {
    auto id = req.new_isr[i];
    if (!contains(p.replicas, id) || std::count(req.new_isr.begin(), req.new_isr.end(), id) > 1)
      return fail(alter_isr_error::invalid_request,
                  "ISR " + describe_ids(req.new_isr) + " is not a subset of the replicas " +
                    describe_ids(p.replicas));
    if (contains(p.isr, id))
      continue;
    auto seen = req.broker_epochs.find(id);
    auto inc = image.broker_incarnations.find(id);
    if (!is_live(image, id) || seen == req.broker_epochs.end() ||
        inc == image.broker_incarnations.end() || seen->second != inc->second)
      return fail(alter_isr_error::ineligible_replica,
                  "broker " + std::to_string(id) + " is fenced or restarted since it fetched");
  }
  d.cmd = change(image, t->second, p, p.leader, req.new_isr);
  return d;
}

partition_leadership leadership_of(const partition_description& p, int32_t partition_epoch) {
  partition_leadership m;
  m.leader = p.leader;
  m.leader_epoch = p.leader_epoch;
  m.partition_epoch = partition_epoch;
  m.replicas = p.replicas;
  m.isr = p.isr;
  return m;
}

} // namespace al
