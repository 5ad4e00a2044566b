#!/usr/bin/env bash
# Process-level test of the acks=all timeout: the leader of orders-0 is cut
# off from both followers, which stay in the ISR (replica.lag.time.max.ms and
# broker.session.timeout.ms far away). An acks=all write is appended by the
# leader but never confirmed: the broker must answer REQUEST_TIMED_OUT once
# the request's timeout has passed (swept by the partition's replica tick),
# not hang and not wait for the client to give up. After healing, the write
# is replicated like any other (a timed-out write is not an undone write).
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"

OVR=(--override broker.session.timeout.ms=60000 --override broker.heartbeat.interval.ms=300
     --override replica.lag.time.max.ms=60000)
for i in 1 2 3; do start_cluster_node "$i" "${OVR[@]}"; done
for i in 1 2 3; do wait_ready "${PORT[$i]}"; done
retry "$AL" topics create --topic orders --partitions 1 --replication-factor 3 --bootstrap "$(bs 1)" \
  >/dev/null 2>&1 || fail "create topic"
field_of() { "$AL" topics describe --topic orders --bootstrap "$(bs "$1")" 2>/dev/null |
  awk -v f="$2:" '/Partition: 0\t/ { for (i = 1; i <= NF; i++) if ($i == f) print $(i + 1) }'; }
isr3() { [ "$(field_of "$1" Isr | tr ',' '\n' | grep -c .)" = 3 ]; }
retry isr3 1 || fail "ISR never filled"
echo before | "$AL" produce --topic orders --acks all --bootstrap "$(bs 1)" >/dev/null \
  || fail "acks=all produce with the full ISR"

L=$(field_of 1 Leader)
cut_followers() { # [--heal]
  for f in 1 2 3; do
    [ "$f" = "$L" ] && continue
    "$AL" cluster cut --bootstrap "$(bs "$L")" --peer "$f" "$@" >/dev/null || fail "cut $L-$f $*"
    "$AL" cluster cut --bootstrap "$(bs "$f")" --peer "$L" "$@" >/dev/null || fail "cut $f-$L $*"
  done
}
cut_followers
echo "leader $L cut off from both followers (both still in the ISR: $(field_of "$L" Isr))"

T0=$(date +%s.%N)
if echo timed-out | "$AL" produce --topic orders --acks all --request-timeout-ms 1500 \
     --bootstrap "$(bs "$L")" >"$WORK/p.out" 2>"$WORK/p.err"; then
  fail "acks=all produce succeeded with no follower reachable"
fi
T1=$(date +%s.%N)
ELAPSED=$(python3 -c "print(f'{$T1 - $T0:.2f}')")
grep -q "REQUEST_TIMED_OUT" "$WORK/p.err" || { cat "$WORK/p.err" >&2; fail "no REQUEST_TIMED_OUT from the broker"; }
grep -q "did not confirm the write in time" "$WORK/p.err" || { cat "$WORK/p.err" >&2; fail "the timeout is not the leader's"; }
python3 -c "import sys; sys.exit(0 if $T1 - $T0 < 5.0 else 1)" \
  || fail "REQUEST_TIMED_OUT after $ELAPSED s for a 1.5 s timeout"
echo "acks=all answered REQUEST_TIMED_OUT after $ELAPSED s (timeout 1.5 s)"

cut_followers --heal
echo after | retry "$AL" produce --topic orders --acks all --bootstrap "$(bs "$L")" >/dev/null \
  || fail "acks=all produce after healing"
"$AL" consume --topic orders --from-beginning --max-messages 3 --timeout-ms 10000 \
  --bootstrap "$(bs "$L")" >"$WORK/out.txt" 2>/dev/null
[ "$(tr '\n' ' ' <"$WORK/out.txt")" = "before timed-out after " ] \
  || fail "read back: $(tr '\n' ' ' <"$WORK/out.txt")"
echo "PASS acks=all timeout answered by the leader; the write replicated after healing"
