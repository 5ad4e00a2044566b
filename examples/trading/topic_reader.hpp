#pragma once
// Reads a range of a topic with a plain assigned consumer: what
// trading-demo checks `positions` with and what position-service restores
// its state from.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include <actorlog/client.hpp>

namespace trading {

/// Every record of partitions [0, partitions) of `topic` in [start, end)
/// per partition (start: 0 where absent), as `isolation` shows them
/// (read_committed skips aborted records and markers). Without `end`, the
/// end is where the partitions end now, as `isolation` sees it (the last
/// stable offset for read_committed). Gives up after 60 s.
al::result<std::vector<al::consumer_record>>
read_range(caf::actor_system& sys, const std::string& bootstrap, const std::string& client_id,
           const std::string& isolation, const std::string& topic, int32_t partitions,
           const std::map<int32_t, int64_t>& start,
           std::optional<std::map<int32_t, int64_t>> end = std::nullopt);

} // namespace trading
