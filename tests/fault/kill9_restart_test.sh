#!/usr/bin/env bash
# Process-level test: a node started from configs/single; a topic created
# with the CLI; lines produced with acks=all and acknowledged; the node is
# killed with SIGKILL; after a restart every acknowledged record is there,
# in order, with the same offsets, and the topic metadata is intact.
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"

PORT=$(free_port)
start_node n1 configs/single/node.ini "$PORT"
wait_ready "$PORT"
B="--bootstrap 127.0.0.1:$PORT"

"$AL" topics create --topic orders --partitions 3 --replication-factor 1 $B \
  --config retention.ms=-1 || fail "topics create"

# 3000 trading orders keyed by symbol, produced in two runs.
for i in $(seq 1 3000); do
  case $((i % 4)) in
    0) s=AAPL ;; 1) s=TCS ;; 2) s=INFY ;; *) s=MSFT ;;
  esac
  echo "$s:order-$i BUY $((i % 97 + 1)) @ $((100 + i % 50))"
done >"$WORK/input.txt"
head -1500 "$WORK/input.txt" | "$AL" produce --topic orders --key-separator : --acks all $B \
  2>"$WORK/produce1.err" || fail "produce 1: $(cat "$WORK/produce1.err")"
tail -1500 "$WORK/input.txt" | "$AL" produce --topic orders --key-separator : --acks all $B \
  2>"$WORK/produce2.err" || fail "produce 2: $(cat "$WORK/produce2.err")"
grep -q "Produced 1500 records" "$WORK/produce2.err" || fail "not all acknowledged: $(cat "$WORK/produce2.err")"

"$AL" topics describe --topic orders $B >"$WORK/describe-before.txt"
kill -9 "$LAST_PID"
wait "$LAST_PID" 2>/dev/null || true

start_node n1 configs/single/node.ini "$PORT"
wait_ready "$PORT"

"$AL" topics list $B | grep -qx orders || fail "topic orders lost after restart"
"$AL" topics describe --topic orders $B >"$WORK/describe-after.txt"
diff <(sed 's/Leader.*LogStart/LogStart/' "$WORK/describe-before.txt") \
     <(sed 's/Leader.*LogStart/LogStart/' "$WORK/describe-after.txt") \
  || fail "topic description changed across the restart"

"$AL" consume --topic orders --from-beginning --max-messages 3000 --timeout-ms 10000 \
  --print-key --print-partition --print-offset --key-separator ' ' $B \
  >"$WORK/output.txt" 2>"$WORK/consume.err" || fail "consume"
[ "$(wc -l <"$WORK/output.txt")" -eq 3000 ] || fail "expected 3000 records, got $(wc -l <"$WORK/output.txt")"

# Every acknowledged record exactly once, offsets dense per partition,
# per-key order preserved.
python3 - "$WORK/input.txt" "$WORK/output.txt" <<'PY' || fail "content check"
import sys, collections
inp = [l.rstrip("\n").split(":", 1) for l in open(sys.argv[1])]
out = [l.rstrip("\n").split(" ", 3) for l in open(sys.argv[2])]
seen = collections.Counter((o[2], o[3]) for o in out)
want = collections.Counter((k, v) for k, v in inp)
assert seen == want, "records differ: missing %s, extra %s" % (list((want - seen).items())[:3], list((seen - want).items())[:3])
offs = collections.defaultdict(list)
for p, o, k, v in out:
    offs[p].append(int(o.split(":")[1]))
for p, lst in offs.items():
    assert sorted(lst) == list(range(len(lst))), "offsets not dense in " + p
per_key_in = collections.defaultdict(list)
for k, v in inp: per_key_in[k].append(v)
per_key_out = collections.defaultdict(list)
for p, o, k, v in sorted(out, key=lambda r: (r[0], int(r[1].split(":")[1]))): per_key_out[k].append(v)
assert per_key_in == per_key_out, "per-key order differs"
print("ok: 3000 records, offsets dense, per-key order kept")
PY
echo "PASS kill -9 restart: 3000 acknowledged records intact"
