#!/usr/bin/env bash
# Transactions through one node's Kafka listener (issue 16) with a real
# client, confluent-kafka-python (librdkafka 2.0.2; tests/fault/kafka_txn.py):
# a transactional producer commits 20 records and aborts 10; a read_committed
# consumer reads exactly the 20 and a read_uncommitted one all 30; with a
# transaction left open, ListOffsets LATEST is the LSO for read_committed and
# the HW for read_uncommitted, and read_committed fetches stop at the LSO;
# DescribeTransactions and ListTransactions (written by hand) show it; a
# second producer with the same transactional.id fences the first (whose
# commit fails with a fatal error) and the open records are aborted; a
# consume-transform-produce round (send_offsets_to_transaction: aborted,
# then committed) leaves each output record once and the group's offsets
# only from the committed attempt. Then
# actorlog's own CLI (`actorlog transactions list`/`describe`, over CAF)
# shows the id, and `actorlog consume --isolation-level read_committed` reads
# what the Kafka client committed.
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"
PY=/usr/bin/python3 # Debian's python3-confluent-kafka
"$PY" -c 'import confluent_kafka' 2>/dev/null ||
  fail "python3-confluent-kafka is not installed (scripts/setup installs it)"

PORT=$(free_port)
start_node n1 configs/single/node.ini "$PORT" --override metrics.port=0
NODE_PID=$LAST_PID
wait_ready "$PORT"
BS="127.0.0.1:$PORT"
TOPIC=txn-orders
TXN_ID=ck-txn-1

"$AL" topics create --topic "$TOPIC" --partitions 2 --bootstrap "$BS" >/dev/null || fail "topics create"
timeout 240 "$PY" "$SRC_DIR/tests/fault/kafka_txn.py" "$LAST_KAFKA_PORT" "$TOPIC" "$TXN_ID" \
  >"$WORK/txn.txt" 2>"$WORK/txn.err" ||
  { cat "$WORK/txn.txt"; tail -20 "$WORK/txn.err"; fail "transactions through the Kafka listener (see above)"; }
cat "$WORK/txn.txt"
read -r id pid < <(tail -1 "$WORK/txn.txt")
[ "$id" = "$TXN_ID" ] && [[ "$pid" =~ ^[0-9]+$ ]] || fail "no 'id producer-id' last line: $id $pid"

# actorlog's CLI sees what the Kafka client did.
"$AL" transactions list --bootstrap "$BS" >"$WORK/list.txt" 2>&1 ||
  fail "transactions list: $(cat "$WORK/list.txt")"
grep -Eq "^$TXN_ID +1 +$pid +CompleteCommit *$" "$WORK/list.txt" ||
  fail "transactions list does not show $TXN_ID (coordinator 1, producer $pid, CompleteCommit): $(cat "$WORK/list.txt")"
echo "ok   actorlog transactions list shows $TXN_ID, producer $pid, CompleteCommit"
"$AL" transactions describe "$TXN_ID" --bootstrap "$BS" >"$WORK/describe.txt" 2>&1 ||
  fail "transactions describe: $(cat "$WORK/describe.txt")"
grep -Eq "^1 +$TXN_ID +$pid +[0-9]+ +CompleteCommit " "$WORK/describe.txt" ||
  fail "transactions describe $TXN_ID: $(cat "$WORK/describe.txt")"
"$AL" consume --topic "$TOPIC" --from-beginning --isolation-level read_committed --timeout-ms 3000 \
  --bootstrap "$BS" >"$WORK/consumed.txt" 2>"$WORK/consume.err" ||
  fail "actorlog consume: $(cat "$WORK/consume.err")"
n=$(grep -Ec '^(c|n)-[0-9]+$' "$WORK/consumed.txt" || true)
[ "$n" = 24 ] && [ "$(wc -l <"$WORK/consumed.txt")" = 24 ] ||
  fail "actorlog consume --isolation-level read_committed read $n of the 24 committed records, in: $(sort "$WORK/consumed.txt" | tr '\n' ' ')"
echo "ok   actorlog consume --isolation-level read_committed reads the 24 committed records"
kill -0 "$NODE_PID" 2>/dev/null || fail "node died"
echo "PASS"
