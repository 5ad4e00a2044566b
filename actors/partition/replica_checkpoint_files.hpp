#pragma once
// What a partition replica keeps on disk next to its log for replication
// (Kafka's leader-epoch-checkpoint and replication-offset-checkpoint),
// one small text file each in the partition folder. CAF-free.
//
//   leader-epoch-checkpoint   "0\n<n>\n<epoch> <start offset>\n..." (Kafka's
//                             format), created empty with a new log and
//                             rewritten in place (overwrite_file: no new
//                             inode, no fsync; by the partition's I/O
//                             worker in a node) when a new epoch gets its first record,
//                             after truncation and on a role change; it may
//                             land after those records. A load cuts it to
//                             the log and checks
//                             it against the batches' epochs at every entry
//                             boundary; one that disagrees (an older version
//                             after an OS crash) is rebuilt from the log.
//                             Two fsyncs per new epoch were 16 % of a node
//                             producing to 10 000 partitions (issue 15).
//   high-watermark            "0\n<hw>\n": only read, from folders of
//                             versions before the node's table
//                             (hw_checkpoint_files.hpp) held every HW.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "actors/partition/leader_epoch_cache.hpp"
#include "storage/partition_log.hpp"

namespace al {

constexpr const char* epoch_checkpoint_name = "leader-epoch-checkpoint";
constexpr const char* hw_checkpoint_name = "high-watermark";

/// The checkpoint files' text (the encoders of save_*) and its parsers,
/// which name `where` and what is wrong in a CORRUPT_MESSAGE.
std::string format_epoch_checkpoint(const leader_epoch_cache& cache);
result<leader_epoch_cache> parse_epoch_checkpoint(std::string_view text, const std::string& where);
std::string format_hw_checkpoint(int64_t high_watermark);
result<int64_t> parse_hw_checkpoint(std::string_view text, const std::string& where);

status save_epoch_checkpoint(const std::string& dir, const leader_epoch_cache& cache);

/// The cache for `log`: from the checkpoint when it is valid, else rebuilt
/// from the partition leader epochs stamped in the batches (a header scan).
/// Either way cut to the log's range. `note` says which was used.
result<leader_epoch_cache> load_epoch_cache(const partition_log& log, std::string* note);

/// The HW to start from: `from_table` (the node's replication-offset-
/// checkpoint), else the partition's own high-watermark file (written by
/// versions before the node-wide table), else the log start; clamped to
/// the log.
int64_t load_hw_checkpoint(const partition_log& log, std::optional<int64_t> from_table);

} // namespace al
