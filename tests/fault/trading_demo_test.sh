#!/usr/bin/env bash
# Process-level test of examples/trading: a node started from
# configs/single, trading-demo run against it with a few hundred orders;
# it must exit 0 and print its summary with every check passed (per-symbol
# ordering, nothing lost, the audit crash redelivering exactly the
# uncommitted records, independent offsets, replay), and a second run
# against the same topic must pass too (its groups start at that run's
# first offsets).
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"

DEMO="$BIN_DIR/../examples/trading/trading-demo"
if [ ! -x "$DEMO" ]; then
  echo "SKIP: $DEMO not built (ACTORLOG_BUILD_EXAMPLES=OFF?)"
  exit 0
fi

PORT=$(free_port)
start_node n1 configs/single/node.ini "$PORT" --override group.initial.rebalance.delay.ms=0 \
  --override metrics.port=0
wait_ready "$PORT"

run_demo() { # run_demo NAME ORDERS SEED
  local out="$WORK/$1.out" rc=0
  "$DEMO" --bootstrap "127.0.0.1:$PORT" --orders "$2" --topic orders --partitions 4 \
    --replication-factor 1 --seed "$3" --timeout-s 90 >"$out" 2>"$WORK/$1.log" || rc=$?
  cat "$out"
  [ "$rc" -eq 0 ] || fail "$1: trading-demo exited with $rc"
  for line in "RESULT: PASS" "per-symbol ordering kept *ok" "lost acknowledged orders *ok *0" \
              "crash: redelivered = uncommitted *ok" "crash: resumed at committed offsets *ok" \
              "replay from an earlier offset *ok" "independent offsets per group *ok" \
              "^risk " "^position " "^audit " "^reporting "; do
    grep -q -- "$line" "$out" || fail "$1: no line matching '$line' in the summary"
  done
  grep -q "FAILED" "$out" && fail "$1: a check failed"
  grep -q "orders produced: $2 acknowledged of $2" "$out" || fail "$1: not every order acknowledged"
}

run_demo first 400 7
run_demo second 300 8
echo "PASS trading-demo: two runs, every check passed"
