#!/usr/bin/env bash
# Process-level test: hostile input on the Kafka listener of a live node
# (tests/fault/kafka_hostile.py writes the Kafka encoding by hand): frame
# sizes 0/5/-1/2^31-1/over socket.request.max.bytes, frames that stop halfway
# (closed, or held open while other clients are served), random bytes and
# random request bodies for every API, unknown API keys, unsupported
# versions, ApiVersions v999 (a v0 answer with error 35), garbled Metadata
# and Produce bodies, 1000 pipelined requests, and more connections than
# max.connections. After each, a fresh connection must get ApiVersions v3 +
# Metadata v1 answered within 2 s; at the end kcat -L works and the node's
# log names what it refused.
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"
command -v kcat >/dev/null || fail "kcat is not installed (scripts/setup installs it)"

MAX_CONNECTIONS=50
MAX_BYTES=1048576
PORT=$(free_port)
start_node n1 configs/single/node.ini "$PORT" --override metrics.port=0 \
  --override socket.request.max.bytes=$MAX_BYTES --override max.connections=$MAX_CONNECTIONS
NODE_PID=$LAST_PID
KPORT=$LAST_KAFKA_PORT
wait_ready "$PORT"
# For the well-formed Produce v9 the attacks compare against.
"$AL" topics create --topic hostile --partitions 1 --bootstrap "127.0.0.1:$PORT" >/dev/null || fail "topics create"

timeout 240 python3 "$SRC_DIR/tests/fault/kafka_hostile.py" "$NODE_PID" "$KPORT" "$MAX_CONNECTIONS" "$MAX_BYTES" ||
  fail "hostile Kafka input (see above; the python exits 124 when it ran over 240 s)"
kill -0 "$NODE_PID" 2>/dev/null || fail "node died"

timeout 20 kcat -L -b "127.0.0.1:$KPORT" -m 10 >"$WORK/meta.txt" 2>&1 || fail "kcat -L after the attacks: $(cat "$WORK/meta.txt")"
grep -q "broker 1 at 127.0.0.1:$KPORT" "$WORK/meta.txt" ||
  fail "kcat -L does not list broker 1 at the Kafka listener: $(cat "$WORK/meta.txt")"
grep -q 'topic "hostile" with 1 partitions' "$WORK/meta.txt" ||
  fail "kcat -L does not list topic hostile: $(cat "$WORK/meta.txt")"
echo "ok   kcat -L -b 127.0.0.1:$KPORT lists broker 1 and topic hostile"

for what in "request size 0 is too small" "request size -1 is too small" \
            "request size 2147483647 exceeds socket.request.max.bytes ($MAX_BYTES)" \
            "request size 2097152 exceeds socket.request.max.bytes" \
            "unsupported API key 9999" "Produce v999 is not supported" "bad request header" \
            "max.connections ($MAX_CONNECTIONS) reached"; do
  grep -qF "$what" "$WORK/n1.log" || fail "node log does not name the refusal '$what'"
done
echo "ok   the node log names each refusal"
kill -0 "$NODE_PID" 2>/dev/null || fail "node died"
echo "PASS: hostile Kafka input refused, node up and serving"
