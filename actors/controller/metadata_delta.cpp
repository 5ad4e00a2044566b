// The broker's metadata push as a delta (metadata_machine::take_delta,
// issue 15 item 3): what the commands applied since the last push changed.
#include <type_traits>
#include <variant>

#include "actors/controller/image_lookup.hpp"
#include "actors/controller/metadata_machine.hpp"

namespace al {

namespace {
/// The topic a command creates, alters or deletes, if any (a rejected one
/// too: a superset of the changes is a correct delta).
const std::string* topic_of(const metadata_command& cmd) {
  return std::visit(
    [](const auto& c) -> const std::string* {
      using T = std::decay_t<decltype(c)>;
      if constexpr (std::is_same_v<T, create_topic_cmd> ||
                    std::is_same_v<T, create_partitions_cmd> ||
                    std::is_same_v<T, alter_configs_cmd> || std::is_same_v<T, delete_topic_cmd>)
        return &c.name;
      else
        return nullptr;
    },
    cmd);
}
} // namespace

metadata_delta metadata_machine::take_delta() {
  metadata_delta d;
  d.full = full_;
  if (full_) {
    d.topics = image_.topics;
  } else {
    for (auto& name : changed_) {
      if (auto t = image_.topics.find(name); t != image_.topics.end())
        d.topics.emplace(name, t->second);
      else
        d.deleted.push_back(name);
    }
    for (auto& [name, index] : changed_partitions_) {
      if (changed_.count(name))
        continue; // the topic comes whole
      if (auto* p = find_partition(image_, name, index))
        d.partitions[name].push_back(*p);
      // else: a rejected change of something that does not exist
    }
  }
  d.brokers = image_.brokers;
  d.broker_incarnations = image_.broker_incarnations;
  d.last_offset = image_.last_offset;
  d.next_producer_id = image_.next_producer_id;
  changed_.clear();
  changed_partitions_.clear();
  full_ = false;
  return d;
}

void metadata_machine::note_change(const metadata_command& cmd) {
  if (full_)
    return; // the next delta is whole anyway
  if (auto* topic = topic_of(cmd))
    changed_.insert(*topic);
  else if (auto* c = std::get_if<change_partition_cmd>(&cmd))
    changed_partitions_.emplace(c->topic, c->partition);
}

} // namespace al
