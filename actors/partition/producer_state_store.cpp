#include "actors/partition/producer_state_store.hpp"

#include <cstdio>
#include <fstream>
#include <iterator>

#include <fcntl.h>
#include <unistd.h>

#include "storage/log_scan.hpp"

namespace al {

namespace {

std::string snapshot_path(const partition_log& log) { return log.dir() + "/producer.snapshot"; }

} // namespace

result<producer_state_table> load_producer_state(const partition_log& log, std::string* note,
                                                 int64_t now_ms) {
  producer_state_table table;
  int64_t from = log.log_start_offset();
  std::ifstream in(snapshot_path(log), std::ios::binary);
  if (in) {
    bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto covers = table.restore(data, snapshot_path(log));
    if (covers && *covers <= log.log_end_offset()) {
      from = *covers;
      if (note)
        *note = "snapshot at offset " + std::to_string(*covers);
    } else {
      table = producer_state_table{};
      if (note)
        *note = covers ? "snapshot past the log end, rebuilt from the log"
                       : covers.error().to_string() + "; rebuilt from the log";
    }
  } else if (note) {
    *note = "no snapshot, rebuilt from the log";
  }
  auto scanned =
    for_each_batch_header(log, from, [&](const batch_header& h) { table.on_append(h, now_ms); });
  if (!scanned)
    return scanned;
  return table;
}

status save_producer_state(const producer_state_table& table, const partition_log& log) {
  auto path = snapshot_path(log);
  auto tmp = path + ".tmp";
  auto data = table.snapshot(log.log_end_offset());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return {errc::kafka_storage_error, "cannot write " + tmp};
  bool ok = ::write(fd, data.data(), data.size()) == ssize_t(data.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0)
    return {errc::kafka_storage_error, "cannot write " + path};
  return status::ok();
}

} // namespace al
