#pragma once
// What a partition replica keeps on disk next to its log for replication
// (Kafka's leader-epoch-checkpoint and replication-offset-checkpoint),
// one small text file each in the partition folder. CAF-free.
//
//   leader-epoch-checkpoint   "0\n<n>\n<epoch> <start offset>\n..." (Kafka's
//                             format), rewritten durably before a record of
//                             a new epoch is appended; entries at or past the
//                             log end are dropped on load (torn tail).
//   high-watermark            "0\n<hw>\n", written on the housekeeping tick
//                             without fsync (durably on flush and exit);
//                             may be stale (lower): the leader's answers
//                             raise it again.
#include <cstdint>
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

/// `durable`: fsynced (a flush request, the partition's exit). The periodic
/// checkpoint is not: the file is a lower bound, and whatever an OS crash
/// leaves of a write without fsync (the old value, a cut or empty file)
/// loads as a lower one or none. Two fsyncs per partition every 5 s were
/// the largest cost of a node producing to 10 000 partitions (issue 15).
status save_hw_checkpoint(const std::string& dir, int64_t high_watermark, bool durable = true);
/// The checkpointed high watermark clamped to the log, or the log start
/// when there is none.
int64_t load_hw_checkpoint(const partition_log& log);

} // namespace al
