#!/usr/bin/env bash
# The exactly-once trading demo on three nodes (what scripts/demo-run
# shows, shorter): trading-demo against configs/cluster-3 with replication
# factor 3; two seconds in, the leader of orders-0 is killed with kill -9,
# while the position service (a process of its own) is killed by
# trading-demo mid-transaction and replaced. Every check of the summary
# must pass: every acknowledged order consumed, and counted exactly once in
# `positions` under read_committed, the killed instance's open transaction
# aborted (visible to read_uncommitted only), the service's state restored.
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"

DEMO="$BIN_DIR/../examples/trading/trading-demo"
if [ ! -x "$DEMO" ]; then
  echo "SKIP: $DEMO not built (ACTORLOG_BUILD_EXAMPLES=OFF?)"
  exit 0
fi

for i in 1 2 3; do start_cluster_node "$i" --override group.initial.rebalance.delay.ms=0; done
for i in 1 2 3; do wait_ready "${PORT[$i]}"; done
alive() { [ "$("$AL" cluster describe --bootstrap "$(bs 1)" 2>/dev/null | grep -c ' alive')" = 3 ]; }
retry alive || fail "three brokers did not register"

OUT="$WORK/demo.out"
"$DEMO" --bootstrap "$(bs 1),$(bs 2),$(bs 3)" --orders 4000 --rate 1000 --topic orders \
  --partitions 6 --replication-factor 3 --seed 11 --tolerate-redelivery --timeout-s 150 \
  >"$OUT" 2>"$WORK/demo.log" &
DEMO_PID=$!
PIDS+=($DEMO_PID)

leader_of_0() {
  "$AL" topics describe --topic orders --bootstrap "$(bs 1)" 2>/dev/null |
    awk '$0 ~ "Partition: 0\t" { for (i = 1; i <= NF; i++) if ($i == "Leader:") print $(i + 1) }'
}
victim=""
for _ in $(seq 1 100); do
  victim=$(leader_of_0 || true)
  [ -n "$victim" ] && [ "$victim" != none ] && break
  sleep 0.1
done
[ -n "$victim" ] && [ "$victim" != none ] || fail "orders-0 has no leader"
sleep 2
echo "kill -9 node $victim (leader of orders-0) while orders stream in"
kill -9 "${PID[$victim]}"

rc=0
wait "$DEMO_PID" || rc=$?
cat "$OUT"
[ "$rc" -eq 0 ] || fail "trading-demo exited with $rc"
for line in "RESULT: PASS" "lost acknowledged orders *ok *0" \
            "positions: every order exactly once *ok" "positions: killed transaction aborted *ok" \
            "positions: state restored exactly *ok" "kill -9 position-service #[0-9]* while it holds"; do
  grep -q -- "$line" "$OUT" || fail "no line matching '$line' in the demo's output"
done
# A failed row of the checks table. (Not any "FAILED": a position-service
# instance that fails on a transient error, e.g. NOT_ENOUGH_REPLICAS while
# the killed node is still in the ISR, says "FAILED ..." and is replaced by
# design; that matched here and failed a run now and then.)
grep -qE '^[^[].* FAILED( |$)' "$OUT" && fail "a check failed"
echo "PASS exactly-once trading demo on three nodes with a leader killed"
