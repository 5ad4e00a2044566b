#include "runtime/node/metrics_text.hpp"

#include <map>

#include "actors/group/group_lag.hpp"

namespace al {

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

/// One metric family: its header once, then its samples.
class family {
public:
  family(std::string& out, const char* name, const char* type, const char* help)
    : out_(out), name_(name) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  /// labels: {name, value} pairs, in order.
  void sample(std::initializer_list<std::pair<const char*, std::string>> labels, int64_t value) {
    out_ += name_;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first)
          out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        out_ += escape_label_value(v);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += std::to_string(value);
    out_ += '\n';
  }

private:
  std::string& out_;
  const char* name_;
};

void render_node(std::string& out, const metrics_snapshot& s) {
  family info{out, "actorlog_node_info", "gauge", "This node's id and cluster id (always 1)."};
  info.sample({{"node_id", std::to_string(s.node_id)}, {"cluster_id", s.cluster_id}}, 1);
  int64_t alive = 0, fenced = 0;
  for (const auto& b : s.brokers)
    (b.fenced ? fenced : alive) += 1;
  family brokers{out, "actorlog_cluster_brokers", "gauge",
                 "Brokers registered in the cluster metadata seen by this node, by state."};
  brokers.sample({{"state", "alive"}}, alive);
  brokers.sample({{"state", "fenced"}}, fenced);
  family count{out, "actorlog_node_partition_replicas", "gauge",
               "Partition replicas hosted on this node."};
  count.sample({}, int64_t(s.replicas.size()));
  struct single {
    const char* name;
    const char* type;
    const char* help;
    int64_t value;
  };
  const single files[] = {
    {"actorlog_node_open_segment_files", "gauge",
     "Segment .log files with an open descriptor now.", s.files.open},
    {"actorlog_node_open_segment_files_max", "gauge",
     "max.open.segment.files in effect (0: no bound).", s.files.max},
    {"actorlog_node_segment_file_evictions_total", "counter",
     "Segment descriptors closed to stay within max.open.segment.files.", s.files.evictions},
    {"actorlog_node_segment_file_reopens_total", "counter",
     "Segment files reopened by a read or write after such a close.", s.files.reopens},
  };
  for (const auto& f : files)
    family{out, f.name, f.type, f.help}.sample({}, f.value);
}

void render_replicas(std::string& out, const metrics_snapshot& s) {
  struct column {
    const char* name;
    const char* help;
    int64_t metrics_snapshot::replica::*field;
  };
  const column columns[] = {
    {"actorlog_partition_log_start_offset", "First offset of the replica's log.",
     &metrics_snapshot::replica::log_start_offset},
    {"actorlog_partition_log_end_offset", "Offset the replica's next record will get.",
     &metrics_snapshot::replica::log_end_offset},
    {"actorlog_partition_high_watermark",
     "Offset up to which records are committed (readable by consumers).",
     &metrics_snapshot::replica::high_watermark},
  };
  for (const auto& c : columns) {
    family f{out, c.name, "gauge", c.help};
    for (const auto& r : s.replicas)
      f.sample({{"topic", r.tp.topic}, {"partition", std::to_string(r.tp.partition)}},
               r.*c.field);
  }
  family leader{out, "actorlog_partition_leader", "gauge",
                "1 if this node leads the partition, 0 if it is a follower."};
  for (const auto& r : s.replicas)
    leader.sample({{"topic", r.tp.topic}, {"partition", std::to_string(r.tp.partition)}},
                  r.leader ? 1 : 0);
}

void render_groups(std::string& out, const metrics_snapshot& s) {
  std::map<topic_partition, int64_t> end_offsets;
  for (const auto& r : s.replicas)
    end_offsets[r.tp] = r.high_watermark;
  std::vector<std::vector<partition_lag>> lags;
  for (const auto& g : s.groups)
    lags.push_back(group_lag(g, end_offsets));
  family members{out, "actorlog_consumer_group_members", "gauge",
                 "Members of a group coordinated by this node."};
  for (const auto& g : s.groups)
    members.sample({{"group", g.group_id}, {"state", std::string(to_string(g.state))}},
                   int64_t(g.members.size()));
  family committed{out, "actorlog_consumer_group_committed_offset", "gauge",
                   "Offset committed by a group coordinated by this node."};
  for (size_t i = 0; i < s.groups.size(); ++i)
    for (const auto& row : lags[i])
      if (row.committed_offset >= 0)
        committed.sample({{"group", s.groups[i].group_id},
                          {"topic", row.tp.topic},
                          {"partition", std::to_string(row.tp.partition)}},
                         row.committed_offset);
  family lag{out, "actorlog_consumer_group_lag", "gauge",
             "High watermark minus committed offset (partitions with a replica on this node)."};
  for (size_t i = 0; i < s.groups.size(); ++i)
    for (const auto& row : lags[i])
      if (row.lag >= 0)
        lag.sample({{"group", s.groups[i].group_id},
                    {"topic", row.tp.topic},
                    {"partition", std::to_string(row.tp.partition)}},
                   row.lag);
}

} // namespace

std::string render_prometheus(const metrics_snapshot& s) {
  std::string out;
  render_node(out, s);
  render_replicas(out, s);
  render_groups(out, s);
  return out;
}

} // namespace al
