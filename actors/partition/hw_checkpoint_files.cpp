#include "actors/partition/hw_checkpoint_files.hpp"

#include <algorithm>
#include <charconv>

#include "storage/file.hpp"

namespace al {

namespace {

bool parse_int(std::string_view s, int64_t& out) {
  if (s.empty())
    return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

std::string_view next_line(std::string_view& text, bool& complete) {
  auto nl = text.find('\n');
  complete = nl != std::string_view::npos;
  auto line = text.substr(0, complete ? nl : text.size());
  text.remove_prefix(complete ? nl + 1 : text.size());
  return line;
}

} // namespace

std::string format_hw_table(const std::map<topic_partition, int64_t>& hw) {
  std::string out = "0\n" + std::to_string(hw.size()) + "\n";
  out.reserve(out.size() + hw.size() * 32);
  for (auto& [tp, v] : hw) {
    out += tp.topic;
    out += ' ';
    out += std::to_string(tp.partition);
    out += ' ';
    out += std::to_string(v);
    out += '\n';
  }
  return out;
}

std::map<topic_partition, int64_t> parse_hw_table(std::string_view text, size_t* bad_lines) {
  std::map<topic_partition, int64_t> out;
  size_t bad = 0;
  bool complete = false;
  int64_t version = -1;
  int64_t count = -1;
  if (!parse_int(next_line(text, complete), version) || !complete || version != 0 ||
      !parse_int(next_line(text, complete), count) || !complete || count < 0) {
    if (bad_lines)
      *bad_lines = text.empty() ? 1 : 1 + size_t(std::count(text.begin(), text.end(), '\n'));
    return out;
  }
  while (!text.empty()) {
    auto line = next_line(text, complete);
    // "<topic> <partition> <hw>": topic names hold no spaces (validated).
    auto a = line.find(' ');
    auto b = a == std::string_view::npos ? a : line.find(' ', a + 1);
    int64_t partition = 0;
    int64_t hw = 0;
    // A line without its newline may be cut (an OS crash during an
    // unsynced write): its number could be cut too, which only lowers it,
    // so it counts; a line that does not parse is skipped.
    if (a == 0 || b == std::string_view::npos || line.find(' ', b + 1) != std::string_view::npos ||
        !parse_int(line.substr(a + 1, b - a - 1), partition) || partition < 0 ||
        partition > INT32_MAX || !parse_int(line.substr(b + 1), hw) || hw < 0) {
      ++bad;
      continue;
    }
    out[topic_partition{std::string{line.substr(0, a)}, int32_t(partition)}] = hw;
  }
  if (bad_lines)
    *bad_lines = bad;
  return out;
}

hw_checkpoint_table::~hw_checkpoint_table() {
  (void)write(true);
}

std::string hw_checkpoint_table::path() const { return join_path(dir_, name_); }

status hw_checkpoint_table::load(std::string* note) {
  auto p = path();
  if (!path_exists(p))
    return status::ok();
  auto data = read_whole_file(p);
  if (!data)
    return data.error();
  size_t bad = 0;
  auto parsed = parse_hw_table(
    std::string_view{reinterpret_cast<const char*>(data->data()), data->size()}, &bad);
  if (note && bad > 0)
    *note = p + ": " + std::to_string(bad) + " line(s) skipped (cut or malformed)";
  std::lock_guard<std::mutex> turn{write_mtx_};
  std::lock_guard<std::mutex> guard{mtx_};
  loaded_ = parsed;
  written_ = parsed;
  written_durably_ = std::move(parsed);
  return status::ok();
}

std::optional<int64_t> hw_checkpoint_table::get(const topic_partition& tp) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = live_.find(tp); i != live_.end())
    return i->second->load(std::memory_order_relaxed);
  if (auto i = loaded_.find(tp); i != loaded_.end())
    return i->second;
  return std::nullopt;
}

hw_checkpoint_table::cell hw_checkpoint_table::attach(const topic_partition& tp,
                                                      int64_t high_watermark) {
  auto c = std::make_shared<std::atomic<int64_t>>(high_watermark);
  std::lock_guard<std::mutex> guard{mtx_};
  loaded_.erase(tp);
  live_[tp] = c;
  return c;
}

void hw_checkpoint_table::erase(const topic_partition& tp) {
  std::lock_guard<std::mutex> guard{mtx_};
  loaded_.erase(tp);
  live_.erase(tp);
}

std::map<topic_partition, int64_t> hw_checkpoint_table::snapshot() const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto out = loaded_;
  for (auto& [tp, c] : live_)
    out[tp] = c->load(std::memory_order_relaxed);
  return out;
}

status hw_checkpoint_table::write(bool durable) {
  std::lock_guard<std::mutex> turn{write_mtx_};
  auto now = snapshot();
  // written_ is what the file holds (the last write of either kind), so a
  // durable write is skipped only when the file holds `now` and that was
  // written durably: comparing with the last durable write alone skipped
  // the final write of a clean stop whenever the values had come back to
  // what the start wrote durably, while a periodic write in between had
  // left lower ones in the file (every recovery point 0 after a second
  // clean stop, seen in clean_shutdown_test).
  if (now == written_ && (!durable || written_durably_ == written_))
    return status::ok();
  auto text = format_hw_table(now);
  byte_view contents{reinterpret_cast<const uint8_t*>(text.data()), text.size()};
  auto st = durable ? replace_file_durably(dir_, name_, contents)
                    : replace_file(dir_, name_, contents);
  if (!st)
    return st;
  if (durable)
    written_durably_ = now;
  written_ = std::move(now);
  return status::ok();
}

} // namespace al
