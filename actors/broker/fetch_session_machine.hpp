#pragma once
// The follower side of the fetch sessions between nodes (issue 15; Kafka's
// replica fetcher per leader broker, KIP-227), as CAF-free bookkeeping.
//
// Every follower partition on this node still asks for its own fetch (its
// replica_machine decides what and when), but the node's broker does not
// send each one to the leader's node by itself: fetches queue per leader
// node and leave together in one message, and the leader node's broker
// answers them together as they complete. A fetch is waited on under an id
// the shell chose (it holds the response promise under it).
//
//   add(leader, fetch, id)   a partition's fetch; supersedes the same
//                            partition's earlier one (returned: fail it)
//   take_unsent(leader)      the fetches to send now, in arrival order
//   match(leader, answer)    the id an answer belongs to (stale: none)
//   drop_leader(leader)      the connection to that node is gone
//
// Each partition has at most one fetch here: a follower asks again only
// when it has given up on the previous fetch (answered, failed or timed
// out), so the older one is of no use and its answer, if it still comes,
// finds nothing (or, for the same offset and epoch, serves the newer ask).
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/protocol/messages.hpp"

namespace al {

class fetch_session_machine {
public:
  /// A local follower's fetch from its leader on node `leader`, waited on
  /// under `id`. Returns the id of the same partition's earlier fetch,
  /// which is dropped (the caller fails its waiter).
  std::optional<uint64_t> add(int32_t leader, fetch_request fetch, uint64_t id);

  /// Nodes with fetches queued and not sent yet, ascending.
  std::vector<int32_t> leaders_with_unsent() const;

  /// The fetches for `leader` not sent yet, in the order they came. They
  /// count as sent from now on (answers may match them).
  std::vector<fetch_request> take_unsent(int32_t leader);

  /// The id waiting for this answer from `leader`, removed; nullopt when
  /// nothing waits for it (stale: another offset or epoch, another leader,
  /// already answered, or not sent yet).
  std::optional<uint64_t> match(int32_t leader, const std::string& topic, int32_t partition,
                                int64_t fetch_offset, int32_t current_leader_epoch);

  /// Every fetch waiting on `leader`, sent or not, removed: its connection
  /// went away, or the fetches could not be sent.
  std::vector<uint64_t> drop_leader(int32_t leader);

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

private:
  struct entry {
    int32_t leader = -1;
    int64_t offset = 0;
    int32_t epoch = -1;
    uint64_t id = 0;
    bool sent = false;
  };
  struct queued {
    uint64_t id = 0;
    fetch_request fetch;
  };
  std::unordered_map<topic_partition, entry, topic_partition_hash> entries_;
  /// Unsent fetches per leader; an element whose id no longer matches its
  /// partition's entry was superseded and is skipped.
  std::map<int32_t, std::vector<queued>> unsent_;
};

} // namespace al
