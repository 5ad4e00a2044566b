#include "runtime/cli/output_format.hpp"

#include <algorithm>
#include <vector>

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

} // namespace al::cli
