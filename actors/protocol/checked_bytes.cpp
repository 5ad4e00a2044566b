#include "actors/protocol/checked_bytes.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/deserializer.hpp>
#include <caf/error.hpp>
#include <caf/sec.hpp>

namespace al {

namespace {
/// For a deserializer that cannot say how much is left (none on the
/// middleman's path today): the largest frame the node's listeners accept.
constexpr size_t unknown_source_max = size_t{1} << 30;
} // namespace

caf::error load_checked_bytes(caf::deserializer& source, bytes& out) {
  size_t size = 0;
  if (auto err = source.begin_sequence(size))
    return err;
  auto* binary = dynamic_cast<caf::binary_deserializer*>(&source);
  size_t left = binary != nullptr ? binary->remaining() : unknown_source_max;
  if (size > left)
    return caf::make_error(caf::sec::end_of_stream);
  out.resize(size);
  if (size > 0)
    if (auto err = source.apply_raw(size, out.data()))
      return err;
  return source.end_sequence();
}

} // namespace al
