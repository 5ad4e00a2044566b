#include "runtime/cli/output_format.hpp"

#include <algorithm>
#include <vector>

#include "actors/group/group_lag.hpp"
#include "runtime/cli/text_table.hpp"

namespace al::cli {

namespace {

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string out;
  for (auto id : ids) {
    if (!out.empty())
      out += ',';
    out += std::to_string(id);
  }
  return out;
}

std::string offset_text(int64_t x) { return x < 0 ? "-" : std::to_string(x); }

} // namespace

std::string format_topic_description(const topic_description& topic) {
  auto parts = topic.partitions;
  std::sort(parts.begin(), parts.end(),
            [](const auto& a, const auto& b) { return a.partition < b.partition; });
  std::string configs;
  for (const auto& [key, value] : topic.configs) {
    if (!configs.empty())
      configs += ',';
    configs += key + "=" + value;
  }
  auto replication_factor = parts.empty() ? size_t{0} : parts.front().replicas.size();
  std::string out = "Topic: " + topic.name + "\tTopicId: " + topic.topic_id
                    + "\tPartitionCount: " + std::to_string(parts.size())
                    + "\tReplicationFactor: " + std::to_string(replication_factor)
                    + "\tConfigs: " + configs + "\n";
  for (const auto& p : parts) {
    out += "\tTopic: " + topic.name + "\tPartition: " + std::to_string(p.partition)
           + "\tLeader: " + (p.leader < 0 ? std::string{"none"} : std::to_string(p.leader))
           + "\tReplicas: " + join_ids(p.replicas) + "\tIsr: " + join_ids(p.isr)
           + "\tLogStartOffset: " + offset_text(p.log_start_offset)
           + "\tLogEndOffset: " + offset_text(p.log_end_offset) + "\n";
  }
  return out;
}

std::string format_cluster_description(const cluster_description& cluster) {
  std::string out = "ClusterId: " + cluster.cluster_id + "\n";
  out += "ControllerId: "
         + (cluster.controller_id < 0 ? std::string{"none"} : std::to_string(cluster.controller_id))
         + "\n";
  out += "MetadataOffset: " + offset_text(cluster.metadata_offset) + "\n";
  auto brokers = cluster.brokers;
  std::sort(brokers.begin(), brokers.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  text_table bt{{"ID", "HOST", "PORT", "STATUS"}};
  for (const auto& b : brokers)
    bt.add_row({std::to_string(b.id), b.host, std::to_string(b.port), b.fenced ? "fenced" : "alive"});
  out += "\nBrokers:\n" + bt.render();
  auto quorum = cluster.quorum;
  std::sort(quorum.begin(), quorum.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  text_table qt{{"ID", "ROLE", "TERM", "COMMIT-INDEX"}};
  for (const auto& q : quorum)
    qt.add_row({std::to_string(q.id), q.role, std::to_string(q.term), std::to_string(q.commit_index)});
  out += "\nQuorum:\n" + qt.render();
  return out;
}

void append_record_line(std::string& out, const record_print_options& opts, int32_t partition,
                        int64_t offset, std::optional<std::string_view> key,
                        std::optional<std::string_view> value) {
  if (opts.print_partition) {
    out += "Partition:";
    out += std::to_string(partition);
    out += opts.separator;
  }
  if (opts.print_offset) {
    out += "Offset:";
    out += std::to_string(offset);
    out += opts.separator;
  }
  if (opts.print_key) {
    out += key ? *key : std::string_view{"null"};
    out += opts.separator;
  }
  out += value ? *value : std::string_view{"null"};
  out += '\n';
}

std::string format_group_offsets(const group_description& group,
                                 const std::map<topic_partition, int64_t>& log_end_offsets) {
  text_table t{{"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
                "CONSUMER-ID", "HOST", "CLIENT-ID"}};
  for (const auto& row : group_lag(group, log_end_offsets)) {
    const auto* m = row.owner;
    t.add_row({group.group_id, row.tp.topic, std::to_string(row.tp.partition),
               offset_text(row.committed_offset), offset_text(row.end_offset),
               offset_text(row.lag), m ? m->member_id : "-", m ? m->client_host : "-",
               m ? m->client_id : "-"});
  }
  for (const auto& m : group.members)
    if (m.assignment.empty())
      t.add_row({group.group_id, "-", "-", "-", "-", "-", m.member_id, m.client_host,
                 m.client_id});
  return t.render();
}

std::string format_group_state(const group_description& group, const std::string& coordinator) {
  text_table t{{"GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"}};
  t.add_row({group.group_id, coordinator, group.protocol_name.empty() ? "-" : group.protocol_name,
             std::string(to_string(group.state)), std::to_string(group.members.size())});
  return t.render();
}

std::string format_group_listing(const std::vector<group_listing>& groups) {
  auto sorted = groups;
  std::sort(sorted.begin(), sorted.end());
  text_table t{{"GROUP", "STATE"}};
  for (const auto& g : sorted)
    t.add_row({g.group_id, std::string(to_string(g.state))});
  return t.render();
}

std::string format_offset_plan(const std::string& group,
                               const std::map<topic_partition, int64_t>& plan) {
  text_table t{{"GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"}};
  for (const auto& [tp, offset] : plan)
    t.add_row({group, tp.topic, std::to_string(tp.partition), offset_text(offset)});
  return t.render();
}

} // namespace al::cli
