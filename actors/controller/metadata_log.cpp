#include "actors/controller/metadata_log.hpp"

#include "storage/record_batch.hpp"

namespace al {

result<std::unique_ptr<metadata_log>> metadata_log::open(const std::string& data_dir,
                                                         int64_t now_ms) {
  log_config cfg;
  cfg.retention_ms = -1; // metadata is never deleted by age (snapshots will trim it)
  cfg.flush_messages = 1;
  cfg.segment_bytes = 64 << 20;
  recovery_report report;
  auto log = partition_log::open(data_dir + "/__cluster_metadata-0", cfg, now_ms, &report);
  if (!log)
    return log.error();
  return std::unique_ptr<metadata_log>(new metadata_log(std::move(*log)));
}

result<int64_t> metadata_log::append(const metadata_command& cmd, int32_t term, int64_t now_ms) {
  auto value = encode_command(cmd);
  batch_options opts;
  opts.partition_leader_epoch = term;
  batch_builder builder{opts};
  builder.append(now_ms, std::nullopt, byte_view{value});
  auto batch = builder.build();
  auto info = log_->append(batch, now_ms);
  if (!info)
    return info.error();
  if (!info->flushed)
    if (auto st = log_->flush(); !st)
      return st;
  return info->base_offset;
}

status metadata_log::replay(int64_t from_offset,
                            const std::function<void(int64_t, const metadata_command&)>& fn) const {
  int64_t offset = std::max(from_offset, log_->log_start_offset());
  while (offset < log_->log_end_offset()) {
    auto chunk = log_->read(offset, 1 << 20);
    if (!chunk)
      return chunk.error();
    byte_view rest{*chunk};
    while (rest.size >= batch_layout::header_size) {
      auto decoded = decode_batch(rest, "metadata log offset " + std::to_string(offset));
      if (!decoded)
        return decoded.error();
      for (auto& r : decoded->records) {
        if (r.offset < offset)
          continue;
        if (!r.value)
          return status{errc::corrupt_message,
                        "metadata log offset " + std::to_string(r.offset) + ": empty record"};
        auto cmd = decode_command(*r.value);
        if (!cmd)
          return status{cmd.error().code(), "metadata log offset " + std::to_string(r.offset) +
                                              ": " + cmd.error().message()};
        fn(r.offset, *cmd);
      }
      offset = decoded->header.next_offset();
      auto size = decoded->header.size_in_bytes();
      rest = rest.sub(size, rest.size - size);
    }
  }
  return status::ok();
}

} // namespace al
