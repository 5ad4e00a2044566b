#!/usr/bin/env bash
# Process-level test of the controller quorum: three nodes from
# configs/cluster-3 elect one active controller; a topic created through one
# node is visible on all; kill -9 of the active controller elects another
# one and metadata operations keep working; the killed node rejoins.
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"

P=("${PORT[1]}" "${PORT[2]}" "${PORT[3]}")
for i in 1 2 3; do start_cluster_node "$i"; done
for i in 1 2 3; do wait_ready "${P[$((i - 1))]}"; done

# The active controller as node 1 sees it (retry while the election runs).
active() {
  local port=$1
  for _ in $(seq 1 100); do
    local id
    id=$("$AL" cluster describe --bootstrap "127.0.0.1:$port" 2>/dev/null | awk '/^ControllerId:/ {print $2}')
    if [ -n "$id" ] && [ "$id" != "-1" ] && [ "$id" != "none" ]; then echo "$id"; return 0; fi
    sleep 0.2
  done
  return 1
}
LEADER=$(active "${P[0]}") || fail "no active controller elected"
echo "active controller: node $LEADER"
"$AL" cluster describe --bootstrap "127.0.0.1:${P[0]}"

retry "$AL" topics create --topic orders --partitions 3 --replication-factor 3 \
  --bootstrap "127.0.0.1:${P[1]}" || fail "create topic"
for i in 1 2 3; do
  retry bash -c "'$AL' topics list --bootstrap 127.0.0.1:${P[$((i - 1))]} | grep -qx orders" \
    || fail "node $i does not see topic orders"
done

kill -9 "${PID[$LEADER]}"
OTHER=$(( LEADER % 3 + 1 ))
NEW=""
for _ in $(seq 1 100); do
  NEW=$("$AL" cluster describe --bootstrap "127.0.0.1:${P[$((OTHER - 1))]}" 2>/dev/null | awk '/^ControllerId:/ {print $2}')
  if [ -n "$NEW" ] && [ "$NEW" != "-1" ] && [ "$NEW" != "none" ] && [ "$NEW" != "$LEADER" ]; then break; fi
  sleep 0.2
done
[ -n "$NEW" ] && [ "$NEW" != "$LEADER" ] && [ "$NEW" != "none" ] || fail "no new controller after killing node $LEADER"
echo "new active controller: node $NEW"
retry "$AL" topics create --topic payments --partitions 2 --replication-factor 2 \
  --bootstrap "127.0.0.1:${P[$((OTHER - 1))]}" || fail "create topic after failover"

start_cluster_node "$LEADER"
wait_ready "${P[$((LEADER - 1))]}"
retry bash -c "'$AL' topics list --bootstrap 127.0.0.1:${P[$((LEADER - 1))]} | grep -qx payments" \
  || fail "restarted node $LEADER did not catch up on the metadata log"
echo "PASS controller failover: node $LEADER -> node $NEW, metadata intact"
