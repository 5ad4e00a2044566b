#!/usr/bin/env bash
# Process-level test: the newest Kafka 3.9 versions of Fetch (v13-17, topics
# by id) and OffsetFetch (v8-9, several groups per request) on one node's
# Kafka listener. The installed clients never send them (librdkafka 2.0.2
# stops at Fetch v11 and OffsetFetch v7), so tests/fault/kafka_versions.py
# writes them by hand: kcat produces 40 records, Metadata v12 gives the topic
# id, Fetch v13-v17 by that id return the bytes a v12 fetch by name returns,
# an unknown id gets UNKNOWN_TOPIC_ID (100) per partition, a replica id other
# than -1 CLUSTER_AUTHORIZATION_FAILED; OffsetCommit v2 commits for a group,
# OffsetFetch v8 and v9 answer it, a group with no commits and an invalid
# group id each on their own. Then the topic is deleted and created again:
# the old id is unknown, the new one reads the new (empty) topic.
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"
PY=/usr/bin/python3
command -v kcat >/dev/null || fail "kcat is not installed (scripts/setup installs it)"

PORT=$(free_port)
start_node n1 configs/single/node.ini "$PORT" --override metrics.port=0
NODE_PID=$LAST_PID
wait_ready "$PORT"
K="127.0.0.1:$LAST_KAFKA_PORT"
BS="127.0.0.1:$PORT"
TOPIC=kv-orders
N=40

"$AL" topics create --topic "$TOPIC" --partitions 2 --bootstrap "$BS" >/dev/null || fail "topics create"
seq 1 $N | awk '{print "kv-" $1}' |
  kcat -P -b "$K" -t "$TOPIC" -p 0 -X compression.codec=none 2>"$WORK/kcat.err" ||
  fail "kcat -P: $(cat "$WORK/kcat.err")"
n=$(kcat -C -b "$K" -t "$TOPIC" -p 0 -o beginning -e -q -f '%s\n' | grep -c "^kv-")
[ "$n" = $N ] || fail "kcat read back $n of $N records"

timeout 120 "$PY" "$SRC_DIR/tests/fault/kafka_versions.py" "$LAST_KAFKA_PORT" main "$TOPIC" $N kv-group \
  >"$WORK/main.txt" || { cat "$WORK/main.txt"; fail "Fetch v13-17 / OffsetFetch v8-9 (see above)"; }
cat "$WORK/main.txt"
OLD_ID=$(tail -1 "$WORK/main.txt")
[[ "$OLD_ID" =~ ^[0-9a-f]{32}$ ]] || fail "no topic id on the last line: $OLD_ID"

# What kafka_versions.py committed is what actorlog's own CLI shows.
"$AL" groups describe --group kv-group --bootstrap "$BS" >"$WORK/g.txt" 2>&1 ||
  fail "groups describe kv-group: $(cat "$WORK/g.txt")"
grep -Eq "^kv-group +$TOPIC +0 +$((N - 5)) " "$WORK/g.txt" ||
  fail "groups describe kv-group does not show offset $((N - 5)) on $TOPIC-0: $(cat "$WORK/g.txt")"
echo "ok   actorlog groups describe shows the offset OffsetCommit v2 wrote"

"$AL" topics delete --topic "$TOPIC" --bootstrap "$BS" >/dev/null || fail "topics delete"
retry "$AL" topics create --topic "$TOPIC" --partitions 1 --bootstrap "$BS" >/dev/null 2>&1 ||
  fail "topics create after the delete"
timeout 60 "$PY" "$SRC_DIR/tests/fault/kafka_versions.py" "$LAST_KAFKA_PORT" recreated "$TOPIC" "$OLD_ID" ||
  fail "Fetch v13 after the topic was created again (see above)"
kill -0 "$NODE_PID" 2>/dev/null || fail "node died"
echo "PASS"
