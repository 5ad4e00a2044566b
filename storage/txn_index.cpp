#include "storage/txn_index.hpp"

#include "storage/open_file_cache.hpp" // file_slot, for file's members

namespace al {

namespace {

constexpr int16_t entry_version = 0;

void encode(const aborted_txn& a, uint8_t* out) {
  store_be<int16_t>(out, entry_version);
  store_be<int64_t>(out + 2, a.producer_id);
  store_be<int64_t>(out + 10, a.first_offset);
  store_be<int64_t>(out + 18, a.last_offset);
  store_be<int64_t>(out + 26, a.last_stable_offset);
}

/// Entries come in marker order: an entry's range is sane and its marker
/// is not before the last one's.
bool fits_after(const std::vector<aborted_txn>& entries, const aborted_txn& a) {
  return a.first_offset <= a.last_offset &&
         (entries.empty() || a.last_offset >= entries.back().last_offset);
}

} // namespace

txn_index::txn_index() = default;
txn_index::~txn_index() = default;
txn_index::txn_index(txn_index&&) noexcept = default;
txn_index& txn_index::operator=(txn_index&&) noexcept = default;

result<txn_index> txn_index::open(const std::string& path, size_t* cut_bytes,
                                  open_file_cache* cache) {
  auto f = cache ? file::open(path, open_mode::create, *cache)
                 : file::open(path, open_mode::create);
  if (!f)
    return f.error();
  txn_index ix;
  ix.file_ = std::move(*f);
  auto size = ix.file_.size();
  auto whole = size - size % entry_size;
  if (cut_bytes)
    *cut_bytes = size_t(size - whole);
  if (whole != size)
    if (auto st = ix.file_.truncate(whole); !st)
      return st;
  bytes data;
  if (auto st = ix.file_.pread_exact(data, size_t(whole), 0); !st)
    return st;
  for (size_t at = 0; at < data.size(); at += entry_size) {
    const uint8_t* p = data.data() + at;
    auto where = [&] { return path + ": entry " + std::to_string(at / entry_size); };
    if (auto v = load_be<int16_t>(p); v != entry_version)
      return status{errc::corrupt_message, where() + " has version " + std::to_string(v)};
    aborted_txn a;
    a.producer_id = load_be<int64_t>(p + 2);
    a.first_offset = load_be<int64_t>(p + 10);
    a.last_offset = load_be<int64_t>(p + 18);
    a.last_stable_offset = load_be<int64_t>(p + 26);
    if (!fits_after(ix.entries_, a))
      return status{errc::corrupt_message,
                    where() + ": offsets out of order (first " + std::to_string(a.first_offset) +
                      ", last " + std::to_string(a.last_offset) + ")"};
    ix.entries_.push_back(a);
  }
  return ix;
}

status txn_index::append(const aborted_txn& a) {
  if (!fits_after(entries_, a))
    return status{errc::invalid_request,
                  path() + ": aborted transaction ending at " + std::to_string(a.last_offset) +
                    " appended after one ending at " +
                    std::to_string(entries_.empty() ? -1 : entries_.back().last_offset)};
  uint8_t buf[entry_size];
  encode(a, buf);
  if (auto st = file_.append(byte_view{buf, entry_size}); !st)
    return st;
  entries_.push_back(a);
  return status::ok();
}

bytes txn_index::encode_entries(const std::vector<aborted_txn>& entries) {
  bytes out(entries.size() * entry_size);
  for (size_t i = 0; i < entries.size(); ++i)
    encode(entries[i], out.data() + i * entry_size);
  return out;
}

std::vector<aborted_txn> overlapping(const std::vector<aborted_txn>& all, int64_t from,
                                     int64_t upto) {
  std::vector<aborted_txn> out;
  for (const auto& a : all)
    if (overlaps(a, from, upto))
      out.push_back(a);
  return out;
}

std::vector<aborted_txn> txn_index::overlapping(int64_t from, int64_t upto) const {
  return al::overlapping(entries_, from, upto);
}

status txn_index::truncate_to(int64_t offset) {
  size_t keep = 0;
  while (keep < entries_.size() && entries_[keep].last_offset < offset)
    ++keep;
  if (keep == entries_.size())
    return status::ok();
  if (auto st = file_.truncate(uint64_t(keep * entry_size)); !st)
    return st;
  entries_.resize(keep);
  return status::ok();
}

} // namespace al
