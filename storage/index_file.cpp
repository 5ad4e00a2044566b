#include "storage/index_file.hpp"

#include "storage/file.hpp"

namespace al {

result<std::optional<bytes>> read_index_file(const std::string& path) {
  if (!path_exists(path))
    return std::optional<bytes>{};
  auto f = file::open(path, open_mode::read_only);
  if (!f)
    return f.error();
  bytes data;
  if (auto st = f->pread_exact(data, f->size(), 0); !st)
    return st;
  return std::optional<bytes>{std::move(data)};
}

status broken_index(const std::string& path, const std::string& why) {
  return status{errc::corrupt_message, path + ": " + why};
}

status remove_index_file(const std::string& path, index_sync& sync) {
  sync.invalidate();
  return remove_file(path);
}

} // namespace al
