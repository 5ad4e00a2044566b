#include "actors/controller/raft_store.hpp"

#include <limits>

#include "actors/controller/raft_state_files.hpp"
#include "storage/file.hpp"
#include "storage/record_batch.hpp"

namespace al {

namespace {

constexpr std::string_view marker_key = "raft-marker";
constexpr std::string_view marker_value = "snapshot";

bytes encode_entry(const raft_entry& e, int64_t now_ms, bool marker) {
  AL_ASSERT(e.index >= 1 && e.term >= 1 && e.term <= std::numeric_limits<int32_t>::max(),
            e.index, e.term);
  batch_options opts;
  opts.partition_leader_epoch = int32_t(e.term); // Kafka's leader epoch is the Raft term
  opts.base_offset = raft_storage::offset_of(e.index);
  batch_builder builder{opts};
  std::vector<record_header> headers;
  if (marker)
    headers.push_back({marker_key, byte_view{marker_value}});
  builder.append(now_ms, std::nullopt, byte_view{e.data}, headers);
  return builder.build();
}

status corrupt(const std::string& where, const std::string& what) {
  return status{errc::corrupt_message, where + ": " + what};
}

} // namespace

result<std::unique_ptr<raft_storage>> raft_storage::open(const std::string& dir, int64_t now_ms) {
  log_config cfg;
  cfg.retention_ms = -1;       // never deleted by age: snapshots bound the log instead
  cfg.segment_bytes = 64 << 20;
  cfg.flush_messages = log_config::never; // save() fsyncs when the ready says so
  auto log = partition_log::open(dir, cfg, now_ms);
  if (!log)
    return log.error();
  return std::unique_ptr<raft_storage>(new raft_storage(dir, std::move(*log)));
}

result<std::vector<raft_entry>> raft_storage::read_entries(int64_t from_index) const {
  std::vector<raft_entry> out;
  int64_t offset = std::max(offset_of(from_index), log_->log_start_offset());
  while (offset < log_->log_end_offset()) {
    auto chunk = log_->read(offset, 1 << 20);
    if (!chunk)
      return chunk.error();
    AL_ASSERT(!chunk->empty(), offset, log_->log_end_offset());
    byte_view rest{*chunk};
    while (rest.size >= batch_layout::header_size) {
      std::string where = dir_ + " offset " + std::to_string(offset);
      auto batch = decode_batch(rest, where);
      if (!batch)
        return batch.error();
      if (batch->records.size() != 1 || !batch->records[0].value)
        return corrupt(where, "a Raft entry is one batch with one non-null record");
      const record_view& r = batch->records[0];
      raft_entry e{index_of(r.offset), batch->header.partition_leader_epoch, {}};
      e.data.assign(r.value->begin(), r.value->end());
      if (e.term < 1)
        return corrupt(where, "leader epoch " + std::to_string(e.term) + " is not a Raft term");
      out.push_back(std::move(e));
      offset = batch->header.next_offset();
      size_t size = batch->header.size_in_bytes();
      rest = rest.sub(size, rest.size - size);
    }
  }
  return out;
}

result<raft_persisted> raft_storage::recover_from_snapshots(int64_t now_ms,
                                                           std::vector<std::string>* warnings,
                                                           const snapshot_check& check) {
  auto metas = list_snapshots(dir_);
  if (!metas)
    return metas.error();
  raft_persisted p;
  for (size_t i = 0; i < metas->size(); ++i) {
    const raft_snapshot_meta meta = (*metas)[i];
    std::string path = join_path(dir_, snapshot_file_name(meta));
    auto snap = read_snapshot(dir_, meta);
    status usable = snap ? (check ? check(*snap) : status::ok()) : snap.error();
    if (!usable) {
      // Kept for inspection under another name, out of every later listing.
      if (auto st = rename_file(path, path + ".corrupt"); !st)
        return st;
      if (warnings)
        warnings->push_back("skipping snapshot " + path + " (renamed to .corrupt): " +
                            usable.message() + "; trying an older one");
      continue;
    }
    auto entries = read_entries(meta.index);
    if (!entries)
      return entries.error();
    // The entry at the snapshot index anchors what follows (Log Matching).
    bool anchored = !entries->empty() && entries->front().index == meta.index &&
                    entries->front().term == meta.term;
    if (anchored) {
      entries->erase(entries->begin());
    } else if (i == 0) {
      // The newest snapshot without its anchor: a crash cut an install short
      // between the snapshot file and the log reset. The tail is stale.
      if (auto st = reset_to(meta, now_ms); !st)
        return st;
      if (auto st = remove_snapshots_except(meta); !st)
        return st;
      entries->clear();
    } else {
      return corrupt(path, "fallback snapshot is not followed by the metadata log (first entry " +
                             (entries->empty() ? std::string("none")
                                               : std::to_string(entries->front().index)) +
                             "); cannot recover without the newer snapshot");
    }
    p.snapshot = std::make_shared<const raft_snapshot>(std::move(*snap));
    p.entries = std::move(*entries);
    return p;
  }
  auto entries = read_entries(1); // no snapshot: the log must start at index 1
  if (!entries)
    return entries.error();
  p.entries = std::move(*entries);
  return p;
}

result<raft_persisted> raft_storage::recover(int64_t now_ms, std::vector<std::string>* warnings,
                                             const snapshot_check& check) {
  auto hs = read_hard_state(dir_);
  if (!hs)
    return hs.error();
  auto p = recover_from_snapshots(now_ms, warnings, check);
  if (!p)
    return p.error();
  p->hard_state = hs->value_or(raft_hard_state{});
  raft_snapshot_meta base = p->snapshot ? p->snapshot->meta : raft_snapshot_meta{};
  for (size_t i = 0; i < p->entries.size(); ++i) {
    const raft_entry& e = p->entries[i];
    if (e.index != base.index + 1 + int64_t(i) || e.term > p->hard_state.term)
      return corrupt(dir_, "entry " + std::to_string(e.index) + " (term " +
                             std::to_string(e.term) + ") breaks the log after index " +
                             std::to_string(base.index) + " or is beyond term " +
                             std::to_string(p->hard_state.term));
  }
  // quorum-state is written before the entries of the same ready: after a
  // crash between the two its commit index may be ahead of the log. Commit
  // is only knowledge, so knowing less is safe.
  int64_t last = base.index + int64_t(p->entries.size());
  p->hard_state.commit = std::min(p->hard_state.commit, last);
  p->applied = base.index;
  return p;
}

status raft_storage::remove_snapshots_except(raft_snapshot_meta keep) {
  auto metas = list_snapshots(dir_);
  if (!metas)
    return metas.error();
  bool removed = false;
  for (const raft_snapshot_meta& m : *metas)
    if (m.index != keep.index || m.term != keep.term) {
      if (auto st = remove_snapshot(dir_, m); !st)
        return st;
      removed = true;
    }
  return removed ? fsync_directory(dir_) : status::ok();
}

status raft_storage::reset_to(raft_snapshot_meta meta, int64_t now_ms) {
  AL_ASSERT(meta.index >= 1, meta.index);
  if (auto st = log_->truncate_to(log_->log_start_offset()); !st)
    return st;
  AL_ASSERT(log_->log_end_offset() <= offset_of(meta.index), log_->log_end_offset(), meta.index);
  auto marker = encode_entry(raft_entry{meta.index, meta.term, {}}, now_ms, true);
  if (auto info = log_->append_as_follower(marker, now_ms); !info)
    return info.error();
  return log_->flush();
}

status raft_storage::append_entries(const std::vector<raft_entry>& entries, int64_t now_ms) {
  if (entries.empty())
    return status::ok();
  AL_ASSERT(entries.front().index == index_of(log_->log_end_offset()), "entries must continue the log",
            entries.front().index, log_->log_end_offset());
  bytes batches;
  for (const raft_entry& e : entries) {
    auto b = encode_entry(e, now_ms, false);
    batches.insert(batches.end(), b.begin(), b.end());
  }
  auto info = log_->append_as_follower(batches, now_ms);
  if (!info)
    return info.error();
  AL_ASSERT(info->last_offset == offset_of(entries.back().index), info->last_offset);
  return status::ok();
}

status raft_storage::save(const raft_ready& rd, int64_t now_ms) {
  if (rd.snapshot) {
    // Snapshot file first: a crash before the log reset leaves a tail that
    // recover() recognises as unanchored and drops.
    if (auto st = write_snapshot(dir_, *rd.snapshot); !st)
      return st;
    if (auto st = reset_to(rd.snapshot->meta, now_ms); !st)
      return st;
    // Older local snapshots no longer anchor the (now empty) log.
    if (auto st = remove_snapshots_except(rd.snapshot->meta); !st)
      return st;
  }
  // Term and vote before the entries: the log never holds a term the
  // voter has not durably entered (recover() checks it).
  if (rd.hard_state && rd.must_sync)
    if (auto st = write_hard_state(dir_, *rd.hard_state); !st)
      return st;
  if (rd.truncate_from > 0) {
    AL_ASSERT(!rd.snapshot, rd.truncate_from);
    if (auto st = log_->truncate_to(offset_of(rd.truncate_from)); !st) // durable on return
      return st;
    AL_ASSERT(log_->log_end_offset() == offset_of(rd.truncate_from), log_->log_end_offset(),
              rd.truncate_from);
  }
  if (auto st = append_entries(rd.entries, now_ms); !st)
    return st;
  return rd.must_sync ? log_->flush() : status::ok();
}

status raft_storage::save_snapshot(const raft_snapshot& snap, int64_t now_ms) {
  AL_ASSERT(snap.meta.index < index_of(log_->log_end_offset()), snap.meta.index,
            log_->log_end_offset());
  if (auto st = write_snapshot(dir_, snap); !st)
    return st;
  auto metas = list_snapshots(dir_);
  if (!metas)
    return metas.error();
  AL_ASSERT(!metas->empty() && metas->front().index == snap.meta.index, dir_, snap.meta.index);
  if (metas->size() > snapshots_kept) {
    for (size_t i = snapshots_kept; i < metas->size(); ++i)
      if (auto st = remove_snapshot(dir_, (*metas)[i]); !st)
        return st;
    if (auto st = fsync_directory(dir_); !st)
      return st;
  }
  // Keep the log from the older kept snapshot on, so that recovery can fall
  // back to it; roll so that the next snapshot can drop what is here now.
  if (metas->size() >= snapshots_kept) {
    auto deleted = log_->delete_segments_before(offset_of((*metas)[snapshots_kept - 1].index));
    if (!deleted)
      return deleted.error();
  }
  auto rolled = log_->roll_now(now_ms);
  return rolled ? status::ok() : rolled.error();
}

} // namespace al
