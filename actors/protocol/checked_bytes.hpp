#pragma once
// Byte fields of messages that cross nodes (record batches, Raft entries
// and snapshots), inspected with a length check. CAF 0.17 loads a byte
// vector by resizing it to the length the sender claims and only then
// checking that the bytes are there (caf/data_processor.hpp,
// apply_sequence for byte sequences): a 30-byte message claiming a 4 GiB
// batch made the receiver allocate and zero 4 GiB. `checked(x.batch)` in an
// inspect function keeps the wire format and refuses a length larger than
// what is left of the message. No CAF include: the pure machines share
// these message headers.
#include "storage/bytes.hpp"

namespace caf {
class deserializer;
class error;
} // namespace caf

namespace al {

struct checked_bytes {
  bytes& value;
};

inline checked_bytes checked(bytes& x) { return {x}; }

/// Loads a byte sequence saved by CAF's serializer, refusing a length
/// beyond the rest of the message (actors/protocol/checked_bytes.cpp).
caf::error load_checked_bytes(caf::deserializer& source, bytes& out);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, checked_bytes& x) {
  if constexpr (Inspector::reads_state)
    return f(x.value); // saving: CAF's own encoding
  else
    return load_checked_bytes(f, x.value);
}

} // namespace al
