#pragma once
// The aborted-transaction indexes of one partition log (issue 16): the
// `<base>.txnindex` of every segment that has one, open, and all their
// entries in one list ordered by marker offset (aborted transactions are
// rare, so every entry stays in memory). partition_log says which segment
// an entry goes to and when a segment leaves; the segment deletes or
// renames the file itself (segment::remove_files, rename_for_delete) once
// forget() has closed it.
//
// Durability: entries go to the page cache. A file written since its last
// fsync here, or loaded at open (it may be only in the page cache after a
// process crash), is dirty until sync(); a file created since the folder's
// last fsync here keeps folder_unsynced() true until then. Sync jobs run
// elsewhere fsync these files too, but clear nothing (they may fail).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "storage/recovery_report.hpp"
#include "storage/status.hpp"
#include "storage/txn_index.hpp"

namespace al {

class txn_index_files {
public:
  explicit txn_index_files(std::string dir);
  ~txn_index_files();
  txn_index_files(const txn_index_files&) = delete;
  txn_index_files& operator=(const txn_index_files&) = delete;

  /// Opens segment `base`'s existing file at recovery. A torn last entry is
  /// cut (event cut_txn_index_tail); a damaged file is emptied (event
  /// emptied_txn_index), never an error: its entries come back when the
  /// owner rescans the log.
  status load(int64_t base, recovery_report& report);
  /// Appends `a` to segment `base`'s file, created when missing (`*created`).
  status add(int64_t base, const aborted_txn& a, bool* created);
  /// Whether an entry with this marker offset is held.
  bool contains(int64_t last_offset) const;
  /// Closes segment `base`'s file and drops its entries; the file stays
  /// for the segment to delete or rename.
  void forget(int64_t base);
  /// Drops segment `base`'s entries whose marker offset is in `markers`
  /// (compaction removed those markers): the file is replaced durably
  /// (written aside, fsynced, renamed), so a crash leaves the old or the
  /// new entries, never a part.
  status remove_markers(int64_t base, const std::vector<int64_t>& markers);
  /// Drops the entries whose marker is at or past `offset`, from memory
  /// and from the files, which are fsynced when cut (`sync`; else they
  /// are left dirty, and the caller's job or the next sync() fsyncs them).
  status truncate_to(int64_t offset, bool sync = true);
  /// fsyncs the dirty files, and the folder when a file is new.
  status sync();
  /// sync(), then closes the files; the entries stay readable.
  status close();
  /// Closes the files without an fsync (the log is about to be deleted).
  void discard() { files_.clear(); }

  bool has_file(int64_t base) const { return files_.count(base) > 0; }
  bool folder_unsynced() const { return folder_unsynced_; }
  std::string path(int64_t base) const;
  /// Entries overlapping [from, upto), by marker offset.
  std::vector<aborted_txn> between(int64_t from, int64_t upto) const;
  /// Every entry, by marker offset.
  const std::vector<aborted_txn>& all() const { return all_; }

private:
  struct open_index {
    txn_index index;
    bool dirty = false;
  };
  /// all_ from the files, after a file left or lost entries.
  void rebuild_all();

  std::string dir_;
  std::map<int64_t, open_index> files_; // by segment base offset
  std::vector<aborted_txn> all_;
  bool folder_unsynced_ = false;
};

} // namespace al
