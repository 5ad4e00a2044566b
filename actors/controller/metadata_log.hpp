#pragma once
// The metadata log on disk: one partition_log (`<data.dir>/__cluster_metadata-0`,
// Kafka's KRaft name) whose records are encoded metadata commands, one per
// record. Appends are fsynced before they count. CAF-free.
#include <functional>
#include <memory>
#include <string>

#include "actors/controller/metadata_commands.hpp"
#include "storage/partition_log.hpp"

namespace al {

class metadata_log {
public:
  static result<std::unique_ptr<metadata_log>> open(const std::string& data_dir, int64_t now_ms);

  /// Appends one command stamped with `term` as leader epoch; durable
  /// (fsynced) on success. Returns the command's offset.
  result<int64_t> append(const metadata_command& cmd, int32_t term, int64_t now_ms);

  /// Calls `fn(offset, command)` for every command from `from_offset` on, in
  /// order. A record that does not decode stops the replay with its error.
  status replay(int64_t from_offset,
                const std::function<void(int64_t, const metadata_command&)>& fn) const;

  int64_t end_offset() const { return log_->log_end_offset(); }
  partition_log& log() { return *log_; }

private:
  explicit metadata_log(std::unique_ptr<partition_log> log) : log_(std::move(log)) {}
  std::unique_ptr<partition_log> log_;
};

} // namespace al
