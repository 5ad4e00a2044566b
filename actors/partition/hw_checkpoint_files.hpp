#pragma once
// Kafka's replication-offset-checkpoint: the high watermark of every
// partition replica of a node in one text file in the data folder,
// rewritten every few seconds (hw_checkpoint_interval_ms) by the broker
// through an I/O worker. Partition actors only set their entry in memory.
// Before this there was a file per partition, created and renamed every
// 5 s: with 10 000 partitions that inode churn (ext4 searching recently
// deleted inodes on every create) was 44 % of a producing node's CPU
// (issue 15). CAF-free.
//
//   replication-offset-checkpoint   "0\n<n>\n<topic> <partition> <hw>\n..."
//                                   (Kafka's format)
//
// The file is a lower bound of each HW, so the periodic write needs no
// fsync: an OS crash leaves the old file, or a new one cut short, whose
// cut numbers are smaller and whose cut lines are skipped on load. A flush
// request and the end of the node (the table's last owner lets go) write
// it durably.
#include <atomic>
#include <cstdint>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "actors/protocol/messages.hpp"
#include "storage/status.hpp"

namespace al {

constexpr const char* hw_table_name = "replication-offset-checkpoint";
/// The same format and rules for Kafka's recovery points: per partition,
/// the offset below which its log is known fsynced (partition_log's
/// flushed_offset). On open, segments that end above it are scanned batch
/// by batch; a lower (stale, cut) value only means more scanning.
constexpr const char* recovery_table_name = "recovery-point-offset-checkpoint";
/// How often the broker writes the table (Kafka's
/// replica.high.watermark.checkpoint.interval.ms).
constexpr int64_t hw_checkpoint_interval_ms = 5000;

class hw_checkpoint_table {
public:
  using cell = std::shared_ptr<std::atomic<int64_t>>;

  /// The table of `dir` (a node's data folder) in file `name`, empty
  /// until load().
  explicit hw_checkpoint_table(std::string dir, std::string name = hw_table_name)
    : dir_(std::move(dir)), name_(std::move(name)) {}
  /// Writes the file durably if it changed since its last durable write.
  ~hw_checkpoint_table();
  hw_checkpoint_table(const hw_checkpoint_table&) = delete;
  hw_checkpoint_table& operator=(const hw_checkpoint_table&) = delete;

  /// Reads the file (none: an empty table). Lines that do not parse (a
  /// torn tail) are skipped; `note` says how many and where.
  status load(std::string* note = nullptr);

  /// The HW of `tp`: its partition's current one once attached, else
  /// what the file had.
  std::optional<int64_t> get(const topic_partition& tp) const;
  /// A partition replica's HW from now on: the partition stores into the
  /// cell whenever its HW moves (a relaxed atomic store, no lock, no
  /// timer), and every write of the table reads it.
  cell attach(const topic_partition& tp, int64_t high_watermark);
  /// The partition was deleted: its entry goes (a re-created topic must
  /// not start from the old log's HW).
  void erase(const topic_partition& tp);

  /// Writes the file if an entry changed since the last write (`durable`:
  /// since the last durable write, with fsyncs). Writers take turns.
  status write(bool durable);

  std::string path() const;

private:
  std::map<topic_partition, int64_t> snapshot() const;

  std::string dir_;
  std::string name_;
  mutable std::mutex mtx_;
  std::map<topic_partition, int64_t> loaded_; // from the file, not attached yet
  std::map<topic_partition, cell> live_;
  std::mutex write_mtx_; // held while writing; guards the two below
  std::map<topic_partition, int64_t> written_;
  std::map<topic_partition, int64_t> written_durably_;
};

/// The file's text, and its parser (skips bad lines, counts them).
std::string format_hw_table(const std::map<topic_partition, int64_t>& hw);
std::map<topic_partition, int64_t> parse_hw_table(std::string_view text, size_t* bad_lines);

} // namespace al
