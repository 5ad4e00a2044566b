#!/usr/bin/env bash
# kafkajs 2.2 (npm; TEST-ONLY, installed into tests/fault/kafkajs by
# scripts/setup) against one node's Kafka listener: admin creates a topic,
# an idempotent producer sends 300 keyed messages, a consumer group reads
# them exactly once and in order per key and commits; admin.fetchOffsets and
# admin.describeGroups see the group (tests/fault/kafkajs/check.js). Then
# actorlog's own CLI shows the group's committed offsets.
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"
source "$SRC_DIR/tests/fault/kafka_lib.sh"
command -v node >/dev/null || fail "node (Node.js) is not installed: run scripts/setup"
[ -f "$SRC_DIR/tests/fault/kafkajs/node_modules/kafkajs/package.json" ] ||
  fail "kafkajs is not installed in tests/fault/kafkajs/node_modules: run scripts/setup"

PORT=$(free_port)
start_node n1 configs/single/node.ini "$PORT" --override metrics.port=0
wait_ready "$PORT"
K="127.0.0.1:$LAST_KAFKA_PORT"

KAFKAJS_NO_PARTITIONER_WARNING=1 timeout 90 node "$SRC_DIR/tests/fault/kafkajs/check.js" "$K" ||
  fail "kafkajs (see above)"

group_offsets_are kjs-group kjs-orders 300 "127.0.0.1:$PORT"
echo "PASS"
