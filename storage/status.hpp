#pragma once
// Errors are values: `status` is a code plus a message naming what was wrong
// (file, position, key...), `result<T>` is a value or a status.
#include <string>
#include <utility>
#include <variant>

#include "storage/assert.hpp"
#include "storage/errc.hpp"

namespace al {

class status {
public:
  status() = default;
  status(errc code, std::string message) : code_(code), message_(std::move(message)) {}

  static status ok() { return {}; }
  bool is_ok() const { return code_ == errc::none; }
  explicit operator bool() const { return is_ok(); }
  errc code() const { return code_; }
  const std::string& message() const { return message_; }
  /// "CORRUPT_MESSAGE: bad CRC in 000.log at position 4096"
  std::string to_string() const;

private:
  errc code_ = errc::none;
  std::string message_;
};

template <class T>
class result {
public:
  result(T value) : v_(std::move(value)) {}
  result(status s) : v_(std::move(s)) { AL_ASSERT(!std::get<status>(v_).is_ok()); }
  result(errc code, std::string message) : result(status{code, std::move(message)}) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { AL_ASSERT(has_value()); return std::get<0>(v_); }
  const T& value() const& { AL_ASSERT(has_value()); return std::get<0>(v_); }
  T&& value() && { AL_ASSERT(has_value()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const status& error() const { AL_ASSERT(!has_value()); return std::get<1>(v_); }

private:
  std::variant<T, status> v_;
};

} // namespace al
