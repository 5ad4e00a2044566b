#!/usr/bin/env bash
# Process-level test: hostile network input against a live node. Random
# bytes on both listeners, handshakes that stop halfway, headers that claim
# 1 GiB, 1000 connections opened and dropped, a CAF message with a 4 GiB
# std::vector<char> claim (hostile_input.py, which also bounds the node's
# peak RSS), then a 20 MB record and a fetch asking for 1 GiB through the
# CLI. Each gets an error or a closed connection; afterwards the node still
# produces and consumes, and its log names what it refused.
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"

PORT=$(free_port)
# Small bounds so the attacks hit them quickly: 2 s to finish a frame,
# 64 MiB of queued request bytes for all connections together.
start_node n1 configs/single/node.ini "$PORT" --override socket.frame.timeout.ms=2000 \
  --override queued.max.request.bytes=67108864 --override socket.request.max.bytes=33554432
NODE_PID=$LAST_PID
PEER=$LAST_PEER_PORT
wait_ready "$PORT"
B="--bootstrap 127.0.0.1:$PORT"
"$AL" topics create --topic orders --partitions 2 --replication-factor 1 $B || fail "topics create"

python3 "$SRC_DIR/tests/fault/hostile_input.py" "$NODE_PID" "$PORT" "$PEER" 2000 ||
  fail "hostile input (see above)"
kill -0 "$NODE_PID" 2>/dev/null || fail "node died"

# A 20 MB record: refused by size (max.message.bytes), not by a crash.
python3 -c 'print("AAPL:" + "x" * 20000000)' >"$WORK/big.txt"
if "$AL" produce --topic orders --key-separator : $B <"$WORK/big.txt" 2>"$WORK/big.err"; then
  fail "a 20 MB record was accepted: $(cat "$WORK/big.err")"
fi
grep -Eq "MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE" "$WORK/big.err" ||
  fail "20 MB record: expected MESSAGE_TOO_LARGE, got: $(cat "$WORK/big.err")"
echo "ok   a 20 MB record: $(grep -Eo '(MESSAGE|RECORD_LIST)_TOO_LARGE[^;]*' "$WORK/big.err" | head -1)"

# The node still serves: produce and consume, with a fetch asking for 1 GiB.
printf 'AAPL:BUY 100 @ 189.5\nTCS:SELL 5 @ 3200\n' |
  "$AL" produce --topic orders --key-separator : $B 2>"$WORK/p.err" || fail "produce after the attacks: $(cat "$WORK/p.err")"
"$AL" consume --topic orders --from-beginning --max-messages 2 --print-key $B \
  --max-partition-fetch-bytes 1073741824 >"$WORK/c.out" 2>"$WORK/c.err" ||
  fail "consume after the attacks: $(cat "$WORK/c.err")"
grep -q "BUY 100 @ 189.5" "$WORK/c.out" || fail "record missing: $(cat "$WORK/c.out")"
grep -q "SELL 5 @ 3200" "$WORK/c.out" || fail "record missing: $(cat "$WORK/c.out")"
echo "ok   produce and consume afterwards (fetch for 1 GiB)"

kill -0 "$NODE_PID" 2>/dev/null || fail "node died"
for what in "unknown BASP operation\|not a handshake" "exceeds" "socket.frame.timeout.ms" "@charbuf"; do
  grep -q "$what" "$WORK/n1.log" || fail "node log does not name refusals matching '$what'"
done
echo "PASS: hostile input refused, node up and serving"
