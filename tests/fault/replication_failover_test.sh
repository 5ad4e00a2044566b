#!/usr/bin/env bash
# Process-level test of replication: three nodes from configs/cluster-3, a
# topic with replication factor 3 (min.insync.replicas=2), acks=all writes.
#   1. every partition's ISR fills up to all three replicas;
#   2. kill -9 of partition 0's leader: a new leader is elected from the
#      ISR, writes through the survivors keep working, nothing is lost;
#   3. the killed node restarts, truncates/catches up and rejoins every ISR;
#   4. kill -9 of another node: everything acknowledged is still readable
#      from the remaining replicas, in order, once.
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"

for i in 1 2 3; do start_cluster_node "$i" "${FAST[@]}"; done
for i in 1 2 3; do wait_ready "${PORT[$i]}"; done

retry "$AL" topics create --topic orders --partitions 3 --replication-factor 3 --bootstrap "$(bs 1)" \
  >/dev/null || fail "create topic"

# describe_field NODE PARTITION FIELD: Leader/Isr of a partition as NODE sees it.
describe_field() {
  "$AL" topics describe --topic orders --bootstrap "$(bs "$1")" 2>/dev/null |
    awk -v p="$2" -v f="$3:" '$0 ~ "Partition: "p"\t" { for (i = 1; i <= NF; i++) if ($i == f) print $(i + 1) }'
}
full_isr() { # every partition has 3 ISR members, as NODE sees it
  for p in 0 1 2; do
    local isr
    isr=$(describe_field "$1" "$p" Isr)
    [ "$(echo "$isr" | tr ',' '\n' | grep -c .)" = 3 ] || return 1
  done
}
retry full_isr 1 || { "$AL" topics describe --topic orders --bootstrap "$(bs 1)"; fail "ISR never filled"; }
echo "ISR full on every partition"

seq 1 3000 | awk '{print "k" $1 % 97 ":order-" $1}' >"$WORK/first.txt"
"$AL" produce --topic orders --key-separator : --acks all --bootstrap "$(bs 1)" <"$WORK/first.txt" \
  || fail "produce before the failure"

LEADER=$(describe_field 1 0 Leader)
[ -n "$LEADER" ] && [ "$LEADER" != none ] || fail "partition 0 has no leader"
SURVIVOR=$(( LEADER % 3 + 1 ))
kill -9 "${PID[$LEADER]}"
T0=$(date +%s.%N)
new_leader() {
  local l
  l=$(describe_field "$SURVIVOR" 0 Leader)
  [ -n "$l" ] && [ "$l" != none ] && [ "$l" != "$LEADER" ]
}
retry new_leader || fail "no new leader for partition 0 after killing node $LEADER"
T1=$(date +%s.%N)
echo "partition 0: leader $LEADER killed, new leader $(describe_field "$SURVIVOR" 0 Leader) after $(python3 -c "print(f'{$T1 - $T0:.2f}')") s"

seq 3001 5000 | awk '{print "k" $1 % 97 ":order-" $1}' >"$WORK/second.txt"
retry "$AL" produce --topic orders --key-separator : --acks all --bootstrap "$(bs "$SURVIVOR")" \
  <"$WORK/second.txt" || fail "produce after the leader failure"

check_all() { # NODE: all 5000 records readable through NODE, each once
  "$AL" consume --topic orders --from-beginning --max-messages 5000 --timeout-ms 10000 \
    --bootstrap "$(bs "$1")" >"$WORK/consumed.txt" 2>"$WORK/consume.err" || return 1
  [ "$(wc -l <"$WORK/consumed.txt")" = 5000 ] || return 1
  [ "$(sort -u "$WORK/consumed.txt" | wc -l)" = 5000 ]
}
retry check_all "$SURVIVOR" || fail "records lost or duplicated after the leader failure ($(wc -l <"$WORK/consumed.txt") read)"
echo "5000 acknowledged records readable after failover"

start_cluster_node "$LEADER" "${FAST[@]}"
wait_ready "${PORT[$LEADER]}"
retry full_isr "$SURVIVOR" || { "$AL" topics describe --topic orders --bootstrap "$(bs "$SURVIVOR")"; fail "restarted node $LEADER did not rejoin the ISRs"; }
echo "node $LEADER restarted and rejoined every ISR"

# Now lose a different node: the restarted one must hold the data.
VICTIM=$SURVIVOR
REST=$(( VICTIM % 3 + 1 ))
kill -9 "${PID[$VICTIM]}"
retry check_all "$REST" || fail "records lost after the second failure ($(wc -l <"$WORK/consumed.txt") read)"
for p in 0 1 2; do
  l=$(describe_field "$REST" "$p" Leader)
  [ "$l" != "$VICTIM" ] || fail "partition $p still led by the killed node $VICTIM"
done
echo "PASS replication: leader failover, catch-up, second failure; 5000/5000 records, no duplicates"
