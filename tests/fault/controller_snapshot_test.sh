#!/usr/bin/env bash
# Process-level test of metadata snapshots in the controller quorum: three
# nodes from configs/cluster-3 with metadata.snapshot.interval.entries=10.
# A follower is killed (-9), many topics are created while it is down (the
# leader takes several snapshots and drops the log prefix), and the
# restarted follower catches up through a snapshot install from the leader.
# Then every node is killed and restarted: each restores its newest
# snapshot (the leader, whose newest file is damaged, the one before it),
# replays the log after it, and still knows every topic.
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"

INTERVAL=10
TOPICS=45
# The three nodes of lib.sh's start_cluster_node, snapshotting every $INTERVAL entries.
start_snapshot_node() { start_cluster_node "$1" --override "metadata.snapshot.interval.entries=$INTERVAL"; }
retry() { # retry a command for up to 20 s (elections, NOT_CONTROLLER)
  for _ in $(seq 1 100); do "$@" && return 0; sleep 0.2; done
  return 1
}
controller_of() { # the active controller as the node on port $1 sees it
  "$AL" cluster describe --bootstrap "127.0.0.1:$1" 2>/dev/null | awk '/^ControllerId:/ {print $2}'
}
active() {
  for _ in $(seq 1 100); do
    local id
    id=$(controller_of "$1")
    if [ -n "$id" ] && [ "$id" != "-1" ] && [ "$id" != "none" ]; then echo "$id"; return 0; fi
    sleep 0.2
  done
  return 1
}
# all_topics_on I: node I lists orders and t0..t(TOPICS-1).
all_topics_on() {
  local list
  list=$("$AL" topics list --bootstrap "127.0.0.1:${PORT[$1]}" 2>/dev/null) || return 1
  for t in orders $(seq -f "t%g" 0 $((TOPICS - 1))); do
    grep -qx "$t" <<<"$list" || return 1
  done
}
snapshot_files() { ls "$WORK/n$1/__cluster_metadata-0" | grep -c '\.snapshot$' || true; }

for i in 1 2 3; do start_snapshot_node "$i"; done
for i in 1 2 3; do wait_ready "${PORT[$i]}"; done
LEADER=$(active "${PORT[1]}") || fail "no active controller elected"
FOLLOWER=$(( LEADER % 3 + 1 ))
echo "active controller: node $LEADER; killing follower node $FOLLOWER"
retry "$AL" topics create --topic orders --partitions 1 --replication-factor 3 \
  --bootstrap "127.0.0.1:${PORT[$LEADER]}" >/dev/null || fail "create topic orders"
retry bash -c "'$AL' topics list --bootstrap 127.0.0.1:${PORT[$FOLLOWER]} | grep -qx orders" \
  || fail "node $FOLLOWER does not see orders"

kill -9 "${PID[$FOLLOWER]}"
for n in $(seq 0 $((TOPICS - 1))); do
  retry "$AL" topics create --topic "t$n" --partitions 1 --replication-factor 1 \
    --bootstrap "127.0.0.1:${PORT[$LEADER]}" >/dev/null || fail "create topic t$n"
done
grep -q "took snapshot" "$WORK/n$LEADER.log" || fail "the leader took no snapshot"
[ "$(snapshot_files "$LEADER")" -le 2 ] || fail "the leader keeps more than 2 snapshots"
[ ! -e "$WORK/n$LEADER/__cluster_metadata-0/00000000000000000000.log" ] \
  || fail "the leader's metadata log still starts at offset 0"
echo "leader: $(grep -c 'took snapshot' "$WORK/n$LEADER.log") snapshots taken;" \
  "files: $(ls "$WORK/n$LEADER/__cluster_metadata-0" | tr '\n' ' ')"

start_snapshot_node "$FOLLOWER"
wait_ready "${PORT[$FOLLOWER]}"
retry all_topics_on "$FOLLOWER" || fail "restarted node $FOLLOWER does not list every topic"
grep -q "installed snapshot at index" "$WORK/n$FOLLOWER.log" \
  || fail "node $FOLLOWER caught up without a snapshot install"
echo "node $FOLLOWER: $(grep 'installed snapshot at index' "$WORK/n$FOLLOWER.log" | tail -1)"

# Every node down at once, then up again: snapshot + log replay on each.
# The leader's newest snapshot is damaged meanwhile: it must fall back to
# the older one (and the log after it), naming the damaged file.
for i in 1 2 3; do kill -9 "${PID[$i]}"; done
for i in 1 2 3; do wait "${PID[$i]}" 2>/dev/null || true; done
NEWEST=$(ls "$WORK/n$LEADER/__cluster_metadata-0" | grep '\.snapshot$' | sort | tail -1)
python3 - "$WORK/n$LEADER/__cluster_metadata-0/$NEWEST" <<'PY'
import sys
path = sys.argv[1]
data = bytearray(open(path, 'rb').read())
data[len(data) // 2] ^= 0x01
open(path, 'wb').write(data)
PY
for i in 1 2 3; do start_snapshot_node "$i"; done
for i in 1 2 3; do wait_ready "${PORT[$i]}"; done
active "${PORT[1]}" >/dev/null || fail "no active controller after restarting every node"
for i in 1 2 3; do
  retry all_topics_on "$i" || fail "node $i lost metadata over a full restart"
  [ "$(grep -c 'restored snapshot' "$WORK/n$i.log")" -ge 1 ] \
    || fail "node $i did not restore a snapshot on restart"
done
grep -q "skipping snapshot .*$NEWEST" "$WORK/n$LEADER.log" \
  || fail "node $LEADER did not report its damaged snapshot $NEWEST"
retry "$AL" topics create --topic after-restart --partitions 1 --replication-factor 3 \
  --bootstrap "127.0.0.1:${PORT[1]}" >/dev/null || fail "create topic after full restart"
echo "PASS controller snapshots: install on node $FOLLOWER, full restart keeps $((TOPICS + 1)) topics"
