#!/usr/bin/env bash
# Kafka clients against a three-node cluster (issue 13): every node's
# Kafka listener lists all three brokers, with one cluster id; a
# kafka-python group of three rebalances after a member is killed; an
# idempotent confluent-kafka
# producer (acks=all) keeps producing while the leader of partition 0 is
# killed with SIGKILL, and every acknowledged message is read back exactly
# once, in order per key (tests/fault/kafka_clients.py
# idempotent_across_leader_kill).
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"
source "$SRC_DIR/tests/fault/kafka_lib.sh"
PY=/usr/bin/python3
command -v kcat >/dev/null || fail "kcat is not installed (scripts/setup installs it)"

for i in 1 2 3; do start_cluster_node "$i" "${FAST[@]}"; done
for i in 1 2 3; do wait_ready "${PORT[$i]}"; done
# Brokers register a moment after wait_ready: kcat -L until all are listed.
for i in 1 2 3; do
  retry lists_brokers "$(kbs "$i")" 1 2 3 ||
    fail "node $i's metadata lacks a broker at its Kafka listener: $(cat "$WORK/meta.txt")"
done
echo "every node lists all three brokers at their Kafka listeners"
# One cluster id on every node: Kafka clients refuse brokers that differ.
ids=$(for i in 1 2 3; do
  "$PY" -c 'import sys; from confluent_kafka.admin import AdminClient
print(AdminClient({"bootstrap.servers": sys.argv[1]}).list_topics(timeout=10).cluster_id)' "$(kbs "$i")"
done | sort -u)
[ "$(echo "$ids" | wc -l)" = 1 ] && [ -n "$ids" ] || fail "nodes report different cluster ids: $ids"
echo "one cluster id on every node: $ids"

# A kafka-python group spread over the cluster: 3 members, one killed.
"$PY" "$SRC_DIR/tests/fault/kafka_clients.py" "$(kbs 1),$(kbs 2),$(kbs 3)" \
  kafka_python_group_rebalance || fail "kafka-python group on three nodes"

retry "$AL" topics create --topic replicated --partitions 3 --replication-factor 3 \
  --bootstrap "$(bs 1)" >/dev/null 2>&1 || fail "create topic"
leader_of_0() {
  "$AL" topics describe --topic replicated --bootstrap "$(bs 1)" 2>/dev/null |
    awk '/Partition: 0\t/ { for (i = 1; i <= NF; i++) if ($i == "Leader:") print $(i + 1) }'
}
isr_full() {
  "$AL" topics describe --topic replicated --bootstrap "$(bs 1)" 2>/dev/null |
    awk '/Partition: [0-9]\t/ { for (i = 1; i <= NF; i++) if ($i == "Isr:") print $(i + 1) }' |
    awk -F, 'NF != 3 { bad = 1 } END { exit bad }'
}
retry isr_full || fail "ISR never filled"
L=$(leader_of_0)
[ -n "$L" ] || fail "no leader for replicated-0"
# Bootstrap from the other nodes: the killed one must not be the only way in.
OTHERS=""
for i in 1 2 3; do [ "$i" = "$L" ] || OTHERS="$OTHERS,$(kbs "$i")"; done
KILL_PID=${PID[$L]} KILL_AFTER_S=3 RUN_S=10 "$PY" "$SRC_DIR/tests/fault/kafka_clients.py" \
  "${OTHERS#,}" idempotent_across_leader_kill || fail "idempotent producer across the kill of node $L"
echo "PASS"
