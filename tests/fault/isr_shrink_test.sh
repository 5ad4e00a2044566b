#!/usr/bin/env bash
# Process-level test of ISR shrink and expand by replica lag: the link
# between the leader of orders-0 and one follower is cut (both ways) while
# the follower keeps its controller session (broker.session.timeout.ms far
# above replica.lag.time.max.ms), so only lag can remove it. The leader
# shrinks the ISR through AlterPartition after replica.lag.time.max.ms;
# acks=all writes go on with the two left (min.insync.replicas=2); after
# healing the follower catches up and the leader adds it back. (A leader
# cut off from the active controller cannot change its ISR, as in Kafka.)
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"

OVR=(--override broker.session.timeout.ms=60000 --override broker.heartbeat.interval.ms=300
     --override replica.lag.time.max.ms=1500)
for i in 1 2 3; do start_cluster_node "$i" "${OVR[@]}"; done
for i in 1 2 3; do wait_ready "${PORT[$i]}"; done
retry "$AL" topics create --topic orders --partitions 1 --replication-factor 3 --bootstrap "$(bs 1)" \
  >/dev/null 2>&1 || fail "create topic"
isr_of() { "$AL" topics describe --topic orders --bootstrap "$(bs "$1")" 2>/dev/null |
  awk '/Partition: 0\t/ { for (i = 1; i <= NF; i++) if ($i == "Isr:") print $(i + 1) }'; }
leader_of() { "$AL" topics describe --topic orders --bootstrap "$(bs "$1")" 2>/dev/null |
  awk '/Partition: 0\t/ { for (i = 1; i <= NF; i++) if ($i == "Leader:") print $(i + 1) }'; }
isr_size() { [ "$(isr_of "$1" | tr ',' '\n' | grep -c .)" = "$2" ]; }
retry isr_size 1 3 || fail "ISR never filled"

L=$(leader_of 1)
# The follower to cut off is not the active controller: the leader must
# still reach the controller to shrink the ISR (as in Kafka).
C=$("$AL" cluster describe --bootstrap "$(bs 1)" | awk '/^ControllerId:/ {print $2}')
F=$(( L % 3 + 1 ))
[ "$F" != "$C" ] || F=$(( F % 3 + 1 ))
"$AL" cluster cut --bootstrap "$(bs "$L")" --peer "$F" >/dev/null || fail "cut"
"$AL" cluster cut --bootstrap "$(bs "$F")" --peer "$L" >/dev/null || fail "cut"
echo "link between leader $L and follower $F cut"
seq 1 500 | awk '{print "a-" $1}' | "$AL" produce --topic orders --acks all --bootstrap "$(bs "$L")" \
  || fail "acks=all produce while a follower lags"
no_f() { ! isr_of "$L" | tr ',' '\n' | grep -qx "$F" && isr_size "$L" 2; }
retry no_f || fail "leader $L did not drop lagging follower $F from the ISR ($(isr_of "$L"))"
echo "ISR shrank to $(isr_of "$L") (leader $L still leads: $(leader_of "$L"))"
[ "$(leader_of "$L")" = "$L" ] || fail "leadership moved; only the ISR should have changed"

"$AL" cluster cut --bootstrap "$(bs "$L")" --peer "$F" --heal >/dev/null || fail "heal"
"$AL" cluster cut --bootstrap "$(bs "$F")" --peer "$L" --heal >/dev/null || fail "heal"
retry isr_size "$L" 3 || fail "follower $F not added back after healing ($(isr_of "$L"))"
echo "healed: ISR $(isr_of "$L")"
"$AL" consume --topic orders --from-beginning --max-messages 500 --timeout-ms 10000 \
  --bootstrap "$(bs "$L")" >"$WORK/out.txt" 2>/dev/null
[ "$(sort -u "$WORK/out.txt" | wc -l)" = 500 ] || fail "read back $(wc -l <"$WORK/out.txt") of 500"
echo "PASS ISR shrink by lag and expand after catch-up"
