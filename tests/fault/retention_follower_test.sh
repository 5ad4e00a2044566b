#!/usr/bin/env bash
# Process-level test of issue 12, item 6: retention on the leader deletes
# the segments a killed follower still needs (bounded by the HW, which
# moves on once the follower leaves the ISR), then the follower comes back
# behind the leader's log start. It must restart its log at the leader's log
# start (Kafka's truncateFullyAndStartAt) and rejoin the ISR; before the fix
# it asked for its old offset forever (OFFSET_OUT_OF_RANGE) and the
# partition stayed under-replicated (checked: with the leader's answer
# reverted, this fails with "follower F did not rejoin the ISR").
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"

OVR=(--override broker.session.timeout.ms=60000 --override broker.heartbeat.interval.ms=300
     --override replica.lag.time.max.ms=1500 --override log.retention.check.interval.ms=200)
for i in 1 2 3; do start_cluster_node "$i" "${OVR[@]}"; done
for i in 1 2 3; do wait_ready "${PORT[$i]}"; done
retry "$AL" topics create --topic events --partitions 1 --replication-factor 3 \
  --config segment.ms=200 --config retention.ms=2000 --bootstrap "$(bs 1)" >/dev/null 2>&1 ||
  fail "create topic"
field_of() { # field_of NODE FIELD: the value after "FIELD:" for events-0, as NODE reports it
  "$AL" topics describe --topic events --bootstrap "$(bs "$1")" 2>/dev/null |
    awk -v f="$2:" '/Partition: 0\t/ { for (i = 1; i <= NF; i++) if ($i == f) print $(i + 1) }'
}
isr_size() { [ "$(field_of "$1" Isr | tr ',' '\n' | grep -c .)" = "$2" ]; }
retry isr_size 1 3 || fail "ISR never filled"

L=$(field_of 1 Leader)
C=$("$AL" cluster describe --bootstrap "$(bs 1)" | awk '/^ControllerId:/ {print $2}')
F=$(( L % 3 + 1 ))
[ "$F" != "$C" ] || F=$(( F % 3 + 1 )) # keep the controller quorum and its leader
seq 1 50 | awk '{print "before-" $1}' | "$AL" produce --topic events --acks all --bootstrap "$(bs "$L")" \
  2>/dev/null || fail "produce before the kill"
kill -9 "${PID[$F]}"
echo "killed follower $F (leader $L)"
# Several segments (segment.ms=200), acks=all: the leader drops F from the
# ISR after replica.lag.time.max.ms, then the HW moves on without it.
for round in 1 2 3 4; do
  seq 1 50 | awk -v r="$round" '{print "r" r "-" $1}' |
    "$AL" produce --topic events --acks all --linger-ms 10 --bootstrap "$(bs "$L")" 2>/dev/null ||
    fail "produce round $round without follower $F"
  sleep 0.3
done
# Retention (2 s, checked every 200 ms) deletes what F had and more.
ahead() { # the leader's log start is past everything F has (50 records)
  local start
  start=$(field_of "$L" LogStartOffset)
  [ -n "$start" ] && [ "$start" != "-" ] && [ "$start" -gt 50 ]
}
retry ahead || fail "retention did not move the leader's log start past 50 ($(field_of "$L" LogStartOffset))"
START=$(field_of "$L" LogStartOffset)
echo "leader $L log start $START, ISR $(field_of "$L" Isr)"

start_cluster_node "$F" "${OVR[@]}"
wait_ready "${PORT[$F]}"
retry isr_size "$L" 3 || fail "follower $F did not rejoin the ISR ($(field_of "$L" Isr))"
grep -q "behind the leader's log start" "$WORK/n$F.log" ||
  fail "follower $F rejoined without restarting at the leader's log start"
echo "follower $F restarted its log at the leader's log start and rejoined: ISR $(field_of "$L" Isr)"
# Everything still retained is readable, once, from the leader.
END=$(field_of "$L" LogEndOffset)
[ "$END" = 250 ] || fail "leader log end $END, expected 250"
"$AL" consume --topic events --from-beginning --timeout-ms 5000 --bootstrap "$(bs "$L")" \
  >"$WORK/out.txt" 2>"$WORK/consume.err" || true
sort "$WORK/out.txt" | uniq -d | grep -q . && fail "a record read twice"
grep -q "^r4-50$" "$WORK/out.txt" || fail "the last record is not readable ($(wc -l <"$WORK/out.txt") read, last: $(tail -1 "$WORK/out.txt"); $(tail -3 "$WORK/consume.err"))"
echo "PASS follower behind the leader's log start restarts there and rejoins the ISR"
