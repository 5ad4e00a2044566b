#pragma once
// The three servers of kafka-io-bench, all on 127.0.0.1 and an ephemeral port.
#include <cstdint>
#include <memory>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "common.hpp"

namespace iobench {

/// No actors: one thread, epoll, reads whatever is there (64 KiB at a
/// time), answers every complete frame with a response frame. The
/// machine's own limit for this load.
std::unique_ptr<server> start_raw_server(size_t response_size);

/// CAF io::broker, shaped like actors/kafka/: an acceptor broker, one
/// connection broker forked per client, all on the middleman's multiplexer
/// thread; a frame is read with receive_policy::exactly(4) then
/// exactly(size), copied once into a std::vector<char> (the real listener
/// copies a produce batch once into its produce_request) and sent with
/// request(handler, timeout, ...); answers are written in request order.
/// request_timeout_ms <= 0: caf::infinite. inline_response > 0 (diagnosis
/// only): the broker answers each frame itself with a body of that size, no
/// handler, no hand-off between threads.
std::unique_ptr<server> start_caf_server(caf::actor_system& sys,
                                         std::vector<caf::actor> handlers,
                                         int64_t request_timeout_ms, size_t inline_response);

/// Standalone Asio: one io_context run by `threads` threads, a strand per
/// connection, async_read of the 4-byte size then of the body into a
/// buffer the connection keeps, one copy into the message (as (a));
/// anon_send to the handler actor, which posts the answer back to the
/// connection's strand; answers in request order, async_write of everything
/// ready. move_buffer: read each body into a fresh vector that becomes the
/// message (no copy, one allocation per frame). inline_response: as above.
std::unique_ptr<server> start_asio_server(std::vector<caf::actor> handlers, int threads,
                                          bool move_buffer, size_t inline_response);

} // namespace iobench
