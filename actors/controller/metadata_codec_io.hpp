#pragma once
// The byte writer and bounds-checked reader shared by the metadata command
// codec (metadata_codec.cpp) and the metadata image snapshot codec
// (metadata_snapshot.cpp). Integers big-endian; strings and lists carry a
// u32 length.
#include <string>
#include <vector>

#include "actors/protocol/admin_messages.hpp"
#include "storage/bytes.hpp"

namespace al::codec {

class writer {
public:
  explicit writer(bytes& out) : out_(out) {}
  template <class T>
  void fixed(T v) {
    size_t at = out_.size();
    out_.resize(at + sizeof(T));
    store_be<T>(out_.data() + at, v);
  }
  void str(const std::string& s) {
    fixed<uint32_t>(static_cast<uint32_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
  }
  void ids(const std::vector<int32_t>& v) {
    fixed<uint32_t>(static_cast<uint32_t>(v.size()));
    for (auto x : v)
      fixed<int32_t>(x);
  }
  void strs(const std::vector<std::string>& v) {
    fixed<uint32_t>(static_cast<uint32_t>(v.size()));
    for (auto& x : v)
      str(x);
  }
  void configs(const config_map& m) {
    fixed<uint32_t>(static_cast<uint32_t>(m.size()));
    for (auto& [k, v] : m) {
      str(k);
      str(v);
    }
  }
  void assignment(const std::vector<std::vector<int32_t>>& a) {
    fixed<uint32_t>(static_cast<uint32_t>(a.size()));
    for (auto& r : a)
      ids(r);
  }

private:
  bytes& out_;
};

/// Bounds-checked reader: after any overrun, ok() is false and reads return zeros.
class reader {
public:
  explicit reader(byte_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size; }
  template <class T>
  T fixed() {
    if (!need(sizeof(T)))
      return T{};
    T v = load_be<T>(in_.data + pos_);
    pos_ += sizeof(T);
    return v;
  }
  std::string str() {
    auto n = fixed<uint32_t>();
    if (!need(n))
      return {};
    std::string s(reinterpret_cast<const char*>(in_.data + pos_), n);
    pos_ += n;
    return s;
  }
  std::vector<int32_t> ids() {
    std::vector<int32_t> v(count(4));
    for (auto& x : v)
      x = fixed<int32_t>();
    return v;
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v(count(4));
    for (auto& x : v)
      x = str();
    return v;
  }
  config_map configs() {
    config_map m;
    auto n = count(8);
    for (size_t i = 0; i < n && ok_; ++i) {
      auto k = str();
      m[k] = str();
    }
    return m;
  }
  std::vector<std::vector<int32_t>> assignment() {
    std::vector<std::vector<int32_t>> a(count(4));
    for (auto& r : a)
      r = ids();
    return a;
  }

  /// A list length, refused when the remaining bytes cannot hold it.
  size_t count(size_t min_element_size) {
    auto n = fixed<uint32_t>();
    if (!ok_ || n > (in_.size - pos_) / min_element_size) {
      ok_ = false;
      return 0;
    }
    return n;
  }

private:
  bool need(size_t n) {
    if (!ok_ || in_.size - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  byte_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

} // namespace al::codec
