#!/usr/bin/env bash
# Regenerates the golden request files in this directory from real Kafka clients.
#
#   tests/data/kafka-requests/capture_clients.sh
#
# What it does:
#   1. starts an actorlog node (build/runtime/actorlog-node, or $ACTORLOG_NODE)
#      with a fresh data dir, its Kafka listener on 127.0.0.1:$((BASE+1)) and
#      advertised.listeners = the proxy, so every client connection (bootstrap
#      and the ones made after Metadata) goes through the proxy;
#   2. starts capture.py (the recording proxy) on 127.0.0.1:$BASE;
#   3. runs kcat, kafka-python, confluent-kafka and kafkajs against the proxy,
#      each with small payloads, writing the client label to .capture-client
#      before each one so the proxy names the files
#      <client>-<api>-v<version>.bin;
#   4. stops the proxy and the node and removes the data dir.
#
# Re-runnable: existing .bin files are kept (the proxy never overwrites), so a
# re-run only adds files for (client, api, version) combinations not yet
# present. Delete the .bin files first for a full regeneration.
#
# Environment:
#   ACTORLOG_NODE   node binary (default: <repo>/build/runtime/actorlog-node)
#   CAPTURE_BASE    first of 4 consecutive free ports (default 19392)
#   CAPTURE_OUT     output directory (default: this directory)
#   PYTHON          Python with kafka-python and confluent-kafka (default /usr/bin/python3)
#   NODEJS          node.js (default /usr/bin/node); kafkajs is taken from
#                   <repo>/tests/fault/kafkajs/node_modules
#
# Clients used (as installed when the files were captured): kcat 1.7.1
# (librdkafka 2.0.2), kafka-python 2.0.2, confluent-kafka 1.7.0 (on librdkafka
# 2.0.2), kafkajs 2.2.4.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
NODE_BIN=${ACTORLOG_NODE:-$ROOT/build/runtime/actorlog-node}
OUT=${CAPTURE_OUT:-$HERE}
BASE=${CAPTURE_BASE:-19392}
PYTHON=${PYTHON:-/usr/bin/python3}
NODEJS=${NODEJS:-/usr/bin/node}
KAFKAJS_DIR=$ROOT/tests/fault/kafkajs/node_modules

PROXY_PORT=$BASE
KAFKA_PORT=$((BASE + 1))
CAF_PORT=$((BASE + 2))
PEER_PORT=$((BASE + 3))
BOOT=127.0.0.1:$PROXY_PORT

WORK=$(mktemp -d /tmp/al-capture.XXXXXX)
NODE_PID=
PROXY_PID=

cleanup() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null || true
  [ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null || true
  [ -n "$NODE_PID" ] && wait "$NODE_PID" 2>/dev/null || true
  rm -f "$OUT/.capture-client"
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_port() { # host port
  for _ in $(seq 1 100); do
    if "$PYTHON" -c "import socket,sys; socket.create_connection(('$1',$2),1).close()" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "port $1:$2 did not open" >&2
  return 1
}

client() { echo "$1" > "$OUT/.capture-client"; echo "== $1" >&2; }

"$NODE_BIN" --config "$ROOT/configs/single/node.ini" \
  --override data.dir="$WORK/node" --override metrics.port=0 \
  --override listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT \
  --override advertised.listeners=PLAINTEXT://127.0.0.1:$PROXY_PORT \
  --override caf.listener=127.0.0.1:$CAF_PORT \
  --override peer.listener=127.0.0.1:$PEER_PORT \
  --override controller.quorum.voters=1@127.0.0.1:$PEER_PORT \
  > "$WORK/node.log" 2>&1 &
NODE_PID=$!
wait_port 127.0.0.1 "$KAFKA_PORT"
sleep 1 # let the broker register with the controller

"$PYTHON" "$HERE/capture.py" --listen "$BOOT" --upstream 127.0.0.1:$KAFKA_PORT \
  --out "$OUT" --client unknown 2> "$WORK/proxy.log" &
PROXY_PID=$!
wait_port 127.0.0.1 "$PROXY_PORT"

# ---- kcat 1.7.1 (librdkafka 2.0.2) ----------------------------------------------------
client kcat-1.7.1
K="kcat -b $BOOT -X client.id=kcat"
$K -L > /dev/null
printf 'a\nb\n' | $K -P -t golden-kcat -z gzip
printf 'c\n' | $K -P -t golden-kcat -X enable.idempotence=true
$K -C -t golden-kcat -o beginning -e -q > /dev/null
# Balanced consumer: FindCoordinator, JoinGroup, SyncGroup, OffsetFetch,
# Heartbeat, OffsetCommit; SIGTERM makes kcat close the consumer (LeaveGroup).
timeout -s TERM 6 $K -G golden-kcat-group -o beginning -q \
  -X heartbeat.interval.ms=200 -X auto.commit.interval.ms=200 golden-kcat > /dev/null || true

# ---- kafka-python 2.0.2 ----------------------------------------------------------------
client kafka-python-2.0.2
"$PYTHON" - "$BOOT" <<'EOF'
import sys, time
from kafka import KafkaProducer, KafkaConsumer, KafkaAdminClient
from kafka.admin import NewTopic, NewPartitions, ConfigResource, ConfigResourceType
boot = sys.argv[1]
admin = KafkaAdminClient(bootstrap_servers=boot, client_id="kafka-python")
admin.create_topics([NewTopic("golden-kp", 1, 1)])
admin.create_topics([NewTopic("golden-kp-tmp", 1, 1)])
admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "golden-kp"),
                        ConfigResource(ConfigResourceType.BROKER, "1")])
admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "golden-kp",
                                    configs={"retention.ms": "86400000"})])
admin.create_partitions({"golden-kp": NewPartitions(2)})
admin.describe_cluster()
p = KafkaProducer(bootstrap_servers=boot, client_id="kafka-python", compression_type="gzip")
for i in range(3):
    p.send("golden-kp", b"v%d" % i, key=b"k", partition=0)
p.flush(); p.close()
c = KafkaConsumer("golden-kp", bootstrap_servers=boot, client_id="kafka-python",
                  group_id="golden-kp-group", auto_offset_reset="earliest",
                  heartbeat_interval_ms=200, enable_auto_commit=False,
                  fetch_max_bytes=65536, max_partition_fetch_bytes=65536)
got, deadline = 0, time.time() + 15
while got < 3 and time.time() < deadline:
    for recs in c.poll(timeout_ms=500).values():
        got += len(recs)
time.sleep(1)  # a heartbeat or two
c.commit()
c.close()  # LeaveGroup
print("kafka-python consumed", got, file=sys.stderr)
print(admin.list_consumer_groups(), file=sys.stderr)
admin.describe_consumer_groups(["golden-kp-group"])
try:
    admin.delete_consumer_groups(["golden-kp-group"])
except Exception as e:
    print("delete_consumer_groups:", e, file=sys.stderr)
admin.delete_topics(["golden-kp-tmp"])
admin.close()
EOF

# ---- confluent-kafka 1.7.0 (librdkafka 2.0.2) -----------------------------------------
client confluent-kafka-1.7.0
"$PYTHON" - "$BOOT" <<'EOF'
import sys, time
from confluent_kafka import Producer, Consumer
from confluent_kafka.admin import AdminClient, NewTopic, NewPartitions, ConfigResource
boot = sys.argv[1]
base = {"bootstrap.servers": boot, "client.id": "confluent-kafka"}
a = AdminClient(base)
def wait(fs):
    for k, f in fs.items():
        try:
            f.result(10)
        except Exception as e:
            print("admin", k, e, file=sys.stderr)
wait(a.create_topics([NewTopic("golden-ck", 1, 1), NewTopic("golden-ck-tmp", 1, 1)]))
wait(a.create_partitions([NewPartitions("golden-ck", 2)]))
wait(a.describe_configs([ConfigResource("topic", "golden-ck"), ConfigResource("broker", "1")]))
wait(a.alter_configs([ConfigResource("topic", "golden-ck", set_config={"retention.ms": "86400000"})]))
p = Producer(dict(base, **{"enable.idempotence": True, "compression.type": "gzip"}))
for i in range(3):
    p.produce("golden-ck", value=b"v%d" % i, key=b"k", partition=0)
p.flush(10)
c = Consumer(dict(base, **{"group.id": "golden-ck-group", "auto.offset.reset": "earliest",
                           "enable.auto.commit": False, "heartbeat.interval.ms": 200}))
c.subscribe(["golden-ck"])
got, deadline = 0, time.time() + 15
while got < 3 and time.time() < deadline:
    m = c.poll(0.5)
    if m is not None and not m.error():
        got += 1
time.sleep(1)
c.commit(asynchronous=False)
c.close()
print("confluent-kafka consumed", got, file=sys.stderr)
a.list_groups(timeout=10)  # ListGroups + DescribeGroups
wait(a.delete_topics(["golden-ck-tmp"]))
EOF

# ---- kafkajs 2.2.4 ---------------------------------------------------------------------
client kafkajs-2.2.4
cat > "$WORK/kafkajs.js" <<'EOF'
const { Kafka, CompressionTypes, logLevel } = require(process.argv[3] + '/kafkajs')
const boot = process.argv[2]
const kafka = new Kafka({ clientId: 'kafkajs', brokers: [boot], logLevel: logLevel.NOTHING })
const sleep = ms => new Promise(r => setTimeout(r, ms))
const tryit = async (what, f) => { try { return await f() } catch (e) { console.error(what, e.message) } }
;(async () => {
  const admin = kafka.admin()
  await admin.connect()
  await tryit('createTopics', () => admin.createTopics({ topics: [
    { topic: 'golden-js', numPartitions: 1 }, { topic: 'golden-js-tmp', numPartitions: 1 }] }))
  await tryit('createPartitions', () => admin.createPartitions({ topicPartitions: [{ topic: 'golden-js', count: 2 }] }))
  await tryit('describeConfigs', () => admin.describeConfigs({ includeSynonyms: false,
    resources: [{ type: 2, name: 'golden-js' }, { type: 4, name: '1' }] }))
  await tryit('alterConfigs', () => admin.alterConfigs({ validateOnly: false,
    resources: [{ type: 2, name: 'golden-js', configEntries: [{ name: 'retention.ms', value: '86400000' }] }] }))
  await tryit('describeCluster', () => admin.describeCluster())
  await tryit('fetchTopicOffsets', () => admin.fetchTopicOffsets('golden-js'))
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  await producer.send({ topic: 'golden-js', compression: CompressionTypes.GZIP, acks: -1,
    messages: [{ key: 'k', value: 'v0', partition: 0 }, { key: 'k', value: 'v1', partition: 0 }] })
  await producer.disconnect()
  const consumer = kafka.consumer({ groupId: 'golden-js-group', heartbeatInterval: 200, maxBytes: 65536 })
  await consumer.connect()
  await consumer.subscribe({ topic: 'golden-js', fromBeginning: true })
  let got = 0
  await consumer.run({ autoCommitInterval: 200, eachMessage: async () => { got++ } })
  for (let i = 0; i < 60 && got < 2; i++) await sleep(250)
  await sleep(1500)
  await consumer.disconnect()
  console.error('kafkajs consumed', got)
  await tryit('listGroups', () => admin.listGroups())
  await tryit('describeGroups', () => admin.describeGroups(['golden-js-group']))
  await tryit('fetchOffsets', () => admin.fetchOffsets({ groupId: 'golden-js-group', topics: ['golden-js'] }))
  await tryit('deleteGroups', () => admin.deleteGroups(['golden-js-group']))
  await tryit('deleteTopics', () => admin.deleteTopics({ topics: ['golden-js-tmp'] }))
  await admin.disconnect()
})().catch(e => { console.error(e); process.exit(1) })
EOF
"$NODEJS" "$WORK/kafkajs.js" "$BOOT" "$KAFKAJS_DIR"

sleep 0.5
echo "== proxy log" >&2
cat "$WORK/proxy.log" >&2
ls -1 "$OUT"/*.bin | wc -l | xargs echo "files in $OUT:" >&2
