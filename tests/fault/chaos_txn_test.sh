#!/usr/bin/env bash
# A short transactional actorlog-chaos run under ctest: three real nodes,
# transactional writers (some transactions aborted on purpose) and a
# read_committed consume-transform-produce copier, 20 s of seeded leader
# kills and node kills, then the Jepsen-style checks (docs/chaos.md,
# "Transactional workload"): no committed write lost, no duplicate, no
# aborted read, no partial or uncommitted read, the copier's committed
# offsets never ahead of its output. Then the same short run with the
# copier broken on purpose (offsets committed outside the transaction)
# must fail check (e), and a short run with zombie copiers must have them
# all fenced (check f).
# Usage: chaos_txn_test.sh BIN_DIR SRC_DIR
set -euo pipefail
BIN_DIR=$1
SRC_DIR=$2
CHAOS="$BIN_DIR/actorlog-chaos"
[ -x "$CHAOS" ] || { echo "FAIL: $CHAOS not built" >&2; exit 1; }
"$CHAOS" --help | grep -q -- --workload || { echo "FAIL: --help does not list --workload" >&2; exit 1; }
WORK=$(mktemp -d /tmp/actorlog-chaos-txn-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
COMMON=(--bin-dir "$BIN_DIR" --config-dir "$SRC_DIR/configs/cluster-3" --workload transactional
        --seed 1 --json)

show_logs() {
  for f in "$WORK"/$1/n*.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
  done
}

if ! timeout 150 "$CHAOS" "${COMMON[@]}" --work-dir "$WORK/run" --duration-s 20 \
    --faults leader,kill | tee "$WORK/out.txt"; then
  show_logs run
  # Last, where a CI excerpt (head and tail) shows it: what failed and what
  # the copier and its clients reported on the way.
  echo "--- the client side's warnings and errors" >&2
  grep -E '\] (warning|error) ' "$WORK/out.txt" | tail -40 >&2 || true
  echo "--- the checks' samples and errors" >&2
  grep -E '^  +(- |error: )' "$WORK/out.txt" | head -30 >&2 || true
  trap - EXIT # the node logs and data stay for a look
  echo "node logs and data kept in $WORK/run" >&2
  echo "FAIL: actorlog-chaos --workload transactional --duration-s 20 --seed 1 did not pass" >&2
  exit 1
fi
grep -q '^RESULT: PASS' "$WORK/out.txt" || { echo "FAIL: no RESULT: PASS line" >&2; exit 1; }
for check in lost duplicated aborted_read partial dirty_read offsets_ahead output_ahead; do
  grep -q "\"$check\":0," "$WORK/out.txt" || { echo "FAIL: JSON does not report $check 0" >&2; exit 1; }
done
# The run did what it claims: faults, commits, aborts that reached the log, copies.
grep -Eq '"faults":\{"(kill|leader)":[1-9]' "$WORK/out.txt" || { echo "FAIL: no fault injected" >&2; exit 1; }
grep -Eq '"writer_txns":\{"committed":[1-9][0-9]*,"aborted":[1-9]' "$WORK/out.txt" ||
  { echo "FAIL: no committed or no aborted writer transaction" >&2; exit 1; }
grep -Eq '"aborted_in_log":[1-9]' "$WORK/out.txt" || { echo "FAIL: no aborted record in the log" >&2; exit 1; }
grep -Eq '"output_read_committed":[1-9]' "$WORK/out.txt" || { echo "FAIL: the copier copied nothing" >&2; exit 1; }

# Mutation: offsets committed outside the transaction are caught by (e).
if timeout 120 "$CHAOS" "${COMMON[@]}" --work-dir "$WORK/mut" --duration-s 10 --faults "" \
    --mutate offsets-outside-txn > "$WORK/mut.txt" 2>&1; then
  echo "FAIL: the offsets-outside-txn mutation passed the checks" >&2
  tail -40 "$WORK/mut.txt" >&2
  exit 1
fi
grep -Eq '"offsets_ahead":[1-9]' "$WORK/mut.txt" ||
  { echo "FAIL: the mutation failed, but not with offsets ahead of the output" >&2; tail -40 "$WORK/mut.txt" >&2; exit 1; }
# Zombie copiers: about one copier transaction in 3, a new instance fences
# the running one mid-transaction; the old one's commit must be refused (f).
if ! timeout 120 "$CHAOS" "${COMMON[@]}" --work-dir "$WORK/zombie" --duration-s 10 --faults "" \
    --zombie-every 3 > "$WORK/zombie.txt" 2>&1; then
  show_logs zombie
  grep -E '^  +(- |error: )' "$WORK/zombie.txt" | head -30 >&2 || true
  trap - EXIT
  echo "FAIL: actorlog-chaos --zombie-every 3 did not pass (kept in $WORK/zombie)" >&2
  exit 1
fi
grep -Eq '"zombies":[1-9][0-9]*,"zombie_commits":0' "$WORK/zombie.txt" ||
  { echo "FAIL: no zombie copier was fenced" >&2; tail -20 "$WORK/zombie.txt" >&2; exit 1; }
echo "PASS chaos transactional run (seed 1, 20 s), its offsets-outside-txn mutation, and zombie copiers fenced"
