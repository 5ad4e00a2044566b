#!/usr/bin/env bash
# A short actorlog-chaos run under ctest: three real nodes, idempotent
# acks=all producers, 20 s of seeded faults (kill -9, SIGSTOP, clean
# restart, leader kill, controller kill), then the read-back check: no
# acknowledged record lost, duplicated or out of order (exit 0).
# Usage: chaos_short_test.sh BIN_DIR SRC_DIR
set -euo pipefail
BIN_DIR=$1
SRC_DIR=$2
CHAOS="$BIN_DIR/actorlog-chaos"
[ -x "$CHAOS" ] || { echo "FAIL: $CHAOS not built" >&2; exit 1; }
"$CHAOS" --help | grep -q -- --seed || { echo "FAIL: --help does not list --seed" >&2; exit 1; }
WORK=$(mktemp -d /tmp/actorlog-chaos-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
if ! timeout 150 "$CHAOS" --bin-dir "$BIN_DIR" --config-dir "$SRC_DIR/configs/cluster-3" \
    --work-dir "$WORK/run" --duration-s 20 --seed 1 --json | tee "$WORK/out.txt"; then
  echo "FAIL: actorlog-chaos --duration-s 20 --seed 1 did not pass" >&2
  for f in "$WORK"/run/n*.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
  done
  exit 1
fi
grep -q '^RESULT: PASS' "$WORK/out.txt" || { echo "FAIL: no RESULT: PASS line" >&2; exit 1; }
grep -q '"lost":0,' "$WORK/out.txt" || { echo "FAIL: JSON does not report lost 0" >&2; exit 1; }
echo "PASS chaos short run (seed 1, 20 s)"
