#!/usr/bin/env bash
# Real Kafka clients against one node's Kafka listener (issue 13): kcat
# lists, produces in all five codecs (the stored batches' codec bits are
# checked: librdkafka silently sends uncompressed when a feature is not
# advertised) and consumes; kafka-python and confluent-kafka produce and read
# back (tests/fault/kafka_clients.py); actorlog's own CLI reads what a Kafka
# client wrote and kcat reads what the CLI wrote. The same clients against a
# three-node cluster: kafka_cluster_clients_test.sh.
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"
source "$SRC_DIR/tests/fault/kafka_lib.sh"
PY=/usr/bin/python3 # Debian's modules (python3-kafka, python3-confluent-kafka)
command -v kcat >/dev/null || fail "kcat is not installed (scripts/setup installs it)"

PORT1=$(free_port)
start_node n1 configs/single/node.ini "$PORT1" --override metrics.port=0
wait_ready "$PORT1"
K="127.0.0.1:$LAST_KAFKA_PORT"

kcat -L -b "$K" -m 10 >"$WORK/meta.txt" 2>&1 || fail "kcat -L: $(cat "$WORK/meta.txt")"
grep -q "broker 1 at 127.0.0.1:$LAST_KAFKA_PORT" "$WORK/meta.txt" ||
  fail "kcat -L does not list broker 1 at its Kafka listener: $(cat "$WORK/meta.txt")"

kcat_codecs "$K" "$WORK/n1"

# The CLI reads what kcat wrote; kcat reads what the CLI wrote.
n=$("$AL" consume --topic codec-zstd --from-beginning --max-messages 20 --bootstrap "127.0.0.1:$PORT1" 2>/dev/null |
    grep -c "^zstd-")
[ "$n" = 20 ] || fail "actorlog consume read $n of 20 records kcat wrote"
"$AL" topics create --topic from-cli --partitions 1 --bootstrap "127.0.0.1:$PORT1" >/dev/null ||
  fail "actorlog topics create"
seq 1 30 | awk '{print "cli-" $1}' | "$AL" produce --topic from-cli --bootstrap "127.0.0.1:$PORT1" 2>/dev/null ||
  fail "actorlog produce"
n=$(kcat -C -b "$K" -t from-cli -o beginning -e -q -f '%s\n' | grep -c "^cli-")
[ "$n" = 30 ] || fail "kcat read $n of 30 records actorlog produce wrote"
echo "actorlog CLI and kcat read each other's records"

"$PY" "$SRC_DIR/tests/fault/kafka_clients.py" "$K" kafka_python_roundtrip confluent_idempotent \
  admin_metadata admin_topics_configs confluent_group_and_offsets kafka_python_group_rebalance ||
  fail "python clients"
# actorlog's own CLI shows the groups Kafka clients made: committed offsets
# (confluent-kafka's) and members (kafka-python's, still in their session).
"$AL" groups describe --group ck-g --bootstrap "127.0.0.1:$PORT1" >"$WORK/ck-g.txt" 2>&1 ||
  fail "groups describe ck-g: $(cat "$WORK/ck-g.txt")"
grep -Eq "^ck-g +kp-orders +0 +200 +200 +0" "$WORK/ck-g.txt" ||
  fail "groups describe ck-g does not show offset 200 on kp-orders-0: $(cat "$WORK/ck-g.txt")"
"$AL" groups describe --group kp-g --bootstrap "127.0.0.1:$PORT1" >"$WORK/kp-g.txt" 2>&1 ||
  fail "groups describe kp-g"
grep -q "kafka-python-2.0.2" "$WORK/kp-g.txt" ||
  fail "groups describe kp-g shows no kafka-python member: $(cat "$WORK/kp-g.txt")"
echo "actorlog groups describe shows the Kafka clients' groups"
echo "PASS"
