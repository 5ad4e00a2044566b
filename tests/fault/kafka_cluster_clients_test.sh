#!/usr/bin/env bash
# The Kafka client matrix of kafka_clients_test.sh and kafkajs_test.sh
# (issue 13) against a three-node cluster (configs/cluster-3), every client
# given the bootstrap list of all three Kafka listeners:
# - kcat produces in none/gzip/snappy/lz4/zstd to topics with 3 replicas and
#   reads back; the stored batches' codec bits are checked in the segment
#   files of all three replicas, leader and followers (tests/fault/kafka_lib.sh);
# - kafka-python produces (acks=all) to an auto-created topic, which gets the
#   cluster's default of 3 replicas, and reads back; confluent-kafka
#   idempotent producers in every codec; kafka-python admin: the bootstrap
#   brokers and a controller in describe_cluster, create (3 replicas) /
#   describe and alter configs / add partitions / delete, after which no
#   node keeps a replica (tests/fault/kafka_clients.py, REPLICATION_FACTOR=3);
# - offsets confluent-kafka commits in group ck-g are read by kafka-python
#   and by actorlog's CLI through another node;
# - kafkajs (tests/fault/kafkajs/check.js): admin create with 3 replicas, an
#   idempotent producer, a consumer group reading exactly once and in order
#   per key, its committed offsets in admin.fetchOffsets and in actorlog's CLI.
# The nodes run with the configs' failure detection (no FAST): nothing is
# killed here, and a node fenced for a slow heartbeat would only add noise.
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"
source "$SRC_DIR/tests/fault/kafka_lib.sh"
PY=/usr/bin/python3 # Debian's modules (python3-kafka, python3-confluent-kafka)
command -v kcat >/dev/null || fail "kcat is not installed (scripts/setup installs it)"
command -v node >/dev/null || fail "node (Node.js) is not installed: run scripts/setup"
[ -f "$SRC_DIR/tests/fault/kafkajs/node_modules/kafkajs/package.json" ] ||
  fail "kafkajs is not installed in tests/fault/kafkajs/node_modules: run scripts/setup"

for i in 1 2 3; do start_cluster_node "$i"; done
for i in 1 2 3; do wait_ready "${PORT[$i]}"; done
KB="$(kbs 1),$(kbs 2),$(kbs 3)"

# All three brokers registered before anything asks for 3 replicas.
retry lists_brokers "$KB" 1 2 3 || fail "kcat -L does not list all three brokers: $(cat "$WORK/meta.txt")"

# replicas TOPIC: the replica lists of TOPIC's partitions, one line each.
replicas() {
  "$AL" topics describe --topic "$1" --bootstrap "$(bs 1)" 2>/dev/null |
    awk '/Partition: [0-9]+\t/ { for (i = 1; i <= NF; i++) if ($i == "Replicas:") print $(i + 1) }'
}
# create_rf3 TOPIC: one partition on all three nodes (for retry: an attempt
# that timed out may still have created it).
create_rf3() {
  "$AL" topics create --topic "$1" --partitions 1 --replication-factor 3 \
    --bootstrap "$(bs 1)" >"$WORK/create.txt" 2>&1 || [ -n "$(replicas "$1")" ]
}
for codec in "${KAFKA_CODECS[@]}"; do
  retry create_rf3 "codec-$codec" || fail "actorlog topics create codec-$codec: $(cat "$WORK/create.txt")"
  r=$(replicas "codec-$codec")
  [ "$(echo "$r" | tr ',' '\n' | sort -u | tr '\n' ' ')" = "1 2 3 " ] ||
    fail "codec-$codec's replicas are '$r', expected nodes 1, 2 and 3"
done
kcat_codecs "$KB" "$WORK/n1" "$WORK/n2" "$WORK/n3"

REPLICATION_FACTOR=3 "$PY" "$SRC_DIR/tests/fault/kafka_clients.py" "$KB" kafka_python_roundtrip \
  confluent_idempotent admin_metadata admin_topics_configs confluent_group_and_offsets ||
  fail "python clients on three nodes"
# confluent-kafka's topics were auto-created: the cluster's default of 3 replicas.
for codec in "${KAFKA_CODECS[@]}"; do
  r=$(replicas "ck-$codec")
  { [ -n "$r" ] && echo "$r" | awk -F, 'NF != 3 { bad = 1 } END { exit bad }'; } ||
    fail "auto-created ck-$codec has replicas '$r', expected 3 per partition"
done
echo "auto-created ck-* topics have 3 replicas per partition"
# admin_topics_configs deleted adm (5 partitions, 3 replicas): no node keeps its data.
no_adm() { ! compgen -G "$WORK/n[123]/adm-*" >/dev/null; }
retry no_adm || fail "adm was deleted, but replicas remain: $(ls -d "$WORK"/n[123]/adm-*)"
echo "the deleted topic's replicas are gone from all three nodes"
# The offsets confluent-kafka committed, seen by the CLI through node 3.
group_offsets_are ck-g kp-orders 200 "$(bs 3)"

KAFKAJS_NO_PARTITIONER_WARNING=1 timeout 90 node "$SRC_DIR/tests/fault/kafkajs/check.js" "$KB" 3 ||
  fail "kafkajs on three nodes (see above)"
group_offsets_are kjs-group kjs-orders 300 "$(bs 2)"
echo "PASS"
