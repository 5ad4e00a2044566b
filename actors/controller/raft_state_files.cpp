#include "actors/controller/raft_state_files.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "storage/crc32c.hpp"
#include "storage/file.hpp"

namespace al {

namespace {

constexpr uint32_t hard_state_magic = 0x414c5153; // "ALQS"
constexpr uint32_t snapshot_magic = 0x414c534e;   // "ALSN"
constexpr uint16_t format_version = 1;
constexpr size_t hard_state_size = 4 + 2 + 8 + 4 + 8 + 4;
constexpr size_t snapshot_overhead = 4 + 2 + 8 + 8 + 4 + 4;

template <class T>
void put(bytes& out, T v) {
  size_t at = out.size();
  out.resize(at + sizeof(T));
  store_be<T>(out.data() + at, v);
}

void seal(bytes& out) { put<uint32_t>(out, crc32c(out.data(), out.size())); }

status corrupt(const std::string& where, const std::string& what) {
  return status{errc::corrupt_message, where + ": " + what};
}

/// Checks size bounds, magic, version and CRC; returns the body after the
/// magic and version (without the CRC).
result<byte_view> unseal(byte_view in, uint32_t magic, size_t min_size, const std::string& where) {
  if (in.size < min_size)
    return corrupt(where, std::to_string(in.size) + " bytes, expected at least " +
                            std::to_string(min_size));
  if (load_be<uint32_t>(in.data) != magic)
    return corrupt(where, "bad magic");
  if (auto v = load_be<uint16_t>(in.data + 4); v != format_version)
    return corrupt(where, "unknown format version " + std::to_string(v));
  uint32_t stored = load_be<uint32_t>(in.data + in.size - 4);
  if (stored != crc32c(in.data, in.size - 4))
    return corrupt(where, "CRC mismatch");
  return in.sub(6, in.size - 10);
}


} // namespace

bytes encode_hard_state(const raft_hard_state& hs) {
  AL_ASSERT(hs.term >= 0 && hs.commit >= 0, hs.term, hs.commit);
  bytes out;
  put<uint32_t>(out, hard_state_magic);
  put<uint16_t>(out, format_version);
  put<int64_t>(out, hs.term);
  put<int32_t>(out, hs.voted_for);
  put<int64_t>(out, hs.commit);
  seal(out);
  AL_ASSERT(out.size() == hard_state_size, out.size());
  return out;
}

result<raft_hard_state> decode_hard_state(byte_view in, const std::string& where) {
  if (in.size != hard_state_size)
    return corrupt(where, std::to_string(in.size) + " bytes, expected " +
                            std::to_string(hard_state_size));
  auto body = unseal(in, hard_state_magic, hard_state_size, where);
  if (!body)
    return body.error();
  raft_hard_state hs;
  hs.term = load_be<int64_t>(body->data);
  hs.voted_for = load_be<int32_t>(body->data + 8);
  hs.commit = load_be<int64_t>(body->data + 12);
  if (hs.term < 0 || hs.commit < 0)
    return corrupt(where, "negative term or commit index");
  return hs;
}

bytes encode_snapshot(const raft_snapshot& snap) {
  AL_ASSERT(snap.meta.index > 0 && snap.meta.term > 0, snap.meta.index, snap.meta.term);
  AL_ASSERT(snap.data.size() <= UINT32_MAX, snap.data.size());
  bytes out;
  out.reserve(snapshot_overhead + snap.data.size());
  put<uint32_t>(out, snapshot_magic);
  put<uint16_t>(out, format_version);
  put<int64_t>(out, snap.meta.index);
  put<int64_t>(out, snap.meta.term);
  put<uint32_t>(out, uint32_t(snap.data.size()));
  out.insert(out.end(), snap.data.begin(), snap.data.end());
  seal(out);
  return out;
}

result<raft_snapshot> decode_snapshot(byte_view in, const std::string& where) {
  auto body = unseal(in, snapshot_magic, snapshot_overhead, where);
  if (!body)
    return body.error();
  raft_snapshot snap;
  snap.meta.index = load_be<int64_t>(body->data);
  snap.meta.term = load_be<int64_t>(body->data + 8);
  uint32_t size = load_be<uint32_t>(body->data + 16);
  if (size != in.size - snapshot_overhead)
    return corrupt(where, "data size " + std::to_string(size) + " does not match the file");
  if (snap.meta.index <= 0 || snap.meta.term <= 0)
    return corrupt(where, "snapshot index and term must be positive");
  snap.data.assign(body->data + 20, body->data + 20 + size);
  return snap;
}

status write_file_atomically(const std::string& dir, const std::string& name, byte_view contents) {
  return replace_file_durably(dir, name, contents);
}

status write_hard_state(const std::string& dir, const raft_hard_state& hs) {
  return write_file_atomically(dir, quorum_state_file_name, encode_hard_state(hs));
}

result<std::optional<raft_hard_state>> read_hard_state(const std::string& dir) {
  std::string path = join_path(dir, quorum_state_file_name);
  if (!path_exists(path))
    return std::optional<raft_hard_state>{};
  auto contents = read_whole_file(path);
  if (!contents)
    return contents.error();
  auto hs = decode_hard_state(*contents, path);
  if (!hs)
    return hs.error();
  return std::optional<raft_hard_state>{*hs};
}

std::string snapshot_file_name(raft_snapshot_meta meta) {
  AL_ASSERT(meta.index > 0 && meta.term > 0, meta.index, meta.term);
  char name[64];
  std::snprintf(name, sizeof name, "%020lld-%010lld%s", static_cast<long long>(meta.index),
                static_cast<long long>(meta.term), snapshot_file_suffix);
  return name;
}

std::optional<raft_snapshot_meta> parse_snapshot_file_name(const std::string& name) {
  const std::string suffix = snapshot_file_suffix;
  if (name.size() != 20 + 1 + 10 + suffix.size() || name[20] != '-' ||
      name.compare(31, suffix.size(), suffix) != 0)
    return std::nullopt;
  for (size_t i = 0; i < 31; ++i)
    if (i != 20 && (name[i] < '0' || name[i] > '9'))
      return std::nullopt;
  // Twenty digits can exceed int64 (std::stoll would throw): not our name.
  raft_snapshot_meta meta;
  const char* p = name.data();
  if (std::from_chars(p, p + 20, meta.index).ec != std::errc{} ||
      std::from_chars(p + 21, p + 31, meta.term).ec != std::errc{})
    return std::nullopt;
  if (meta.index <= 0 || meta.term <= 0)
    return std::nullopt;
  return meta;
}

status write_snapshot(const std::string& dir, const raft_snapshot& snap) {
  return write_file_atomically(dir, snapshot_file_name(snap.meta), encode_snapshot(snap));
}

result<std::vector<raft_snapshot_meta>> list_snapshots(const std::string& dir) {
  auto names = list_directory(dir);
  if (!names)
    return names.error();
  std::vector<raft_snapshot_meta> out;
  for (const std::string& name : *names)
    if (auto meta = parse_snapshot_file_name(name))
      out.push_back(*meta);
  std::sort(out.begin(), out.end(), [](const raft_snapshot_meta& a, const raft_snapshot_meta& b) {
    return a.index != b.index ? a.index > b.index : a.term > b.term;
  });
  return out;
}

result<raft_snapshot> read_snapshot(const std::string& dir, raft_snapshot_meta meta) {
  std::string path = join_path(dir, snapshot_file_name(meta));
  auto contents = read_whole_file(path);
  if (!contents)
    return contents.error();
  auto snap = decode_snapshot(*contents, path);
  if (!snap)
    return snap.error();
  if (snap->meta.index != meta.index || snap->meta.term != meta.term)
    return corrupt(path, "holds index " + std::to_string(snap->meta.index) + " term " +
                           std::to_string(snap->meta.term) + ", not what its name says");
  return snap;
}

status remove_snapshot(const std::string& dir, raft_snapshot_meta meta) {
  return remove_file(join_path(dir, snapshot_file_name(meta)));
}

} // namespace al
