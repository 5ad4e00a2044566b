// kafkajs 2.2 (a real Kafka client from npm) against a node's Kafka
// listener or a cluster's; run by tests/fault/kafkajs_test.sh (one node) and
// kafka_cluster_clients_test.sh (three):
//
//   node check.js BOOTSTRAP [REPLICATION_FACTOR]
//
// BOOTSTRAP is host:port or a comma-separated list of them;
// REPLICATION_FACTOR (default 1) is the one the topic is created with.
// Admin creates a topic with 3 partitions of that many replicas each; an
// idempotent producer (acks -1, one request in flight) sends 300 keyed
// messages; a consumer group reads them from the beginning: every message
// exactly once, each key's messages in order; it commits, admin.fetchOffsets for the group sums to 300 and
// admin.describeGroups shows the group (with its member while it runs, Empty
// after it left). Prints one line per step; exits 1 with a FAIL line.
'use strict';
const { Kafka, logLevel, Partitioners } = require('kafkajs');

const brokers = (process.argv[2] || '').split(',').filter((b) => b);
const replicationFactor = Number(process.argv[3] || 1);
const topic = 'kjs-orders';
const groupId = 'kjs-group';
const KEYS = 10;
const TOTAL = 300;

function fail(msg) {
  console.log('FAIL: ' + msg);
  process.exit(1);
}

// The whole check is bounded: a stalled listener fails instead of hanging.
const watchdog = setTimeout(() => fail('kafkajs check did not finish within 75 s'), 75000);

const kafka = new Kafka({
  clientId: 'actorlog-kafkajs',
  brokers,
  logLevel: logLevel.ERROR,
  connectionTimeout: 3000,
  requestTimeout: 10000,
  retry: { retries: 5, initialRetryTime: 200 },
});

async function waitFor(what, cond, ms) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) fail(what + ' within ' + ms / 1000 + ' s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: 3, replicationFactor }],
    waitForLeaders: true,
  });
  if (!created) fail('admin.createTopics answered that ' + topic + ' already exists');
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const parts = meta.topics[0].partitions.map((p) => p.partitionId).sort();
  if (parts.join(',') !== '0,1,2') fail('topic ' + topic + ' has partitions ' + parts);
  const short = meta.topics[0].partitions.filter((p) => p.replicas.length !== replicationFactor);
  if (short.length)
    fail('topic ' + topic + ' has partitions without ' + replicationFactor + ' replicas: ' + JSON.stringify(short));
  console.log('kafkajs admin: created ' + topic + ' with 3 partitions of ' + replicationFactor + ' replica(s)');

  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const acked = [];
  for (let batch = 0; batch < TOTAL / 30; ++batch) {
    const messages = [];
    for (let i = batch * 30; i < (batch + 1) * 30; ++i)
      messages.push({ key: 'key-' + (i % KEYS), value: 'key-' + (i % KEYS) + ':' + i });
    const res = await producer.send({ topic, acks: -1, messages });
    for (const r of res) {
      if (r.errorCode !== 0) fail('produce answered error ' + r.errorCode + ' on partition ' + r.partition);
      acked.push(r);
    }
  }
  await producer.disconnect();
  console.log('kafkajs producer: ' + TOTAL + ' keyed messages sent (idempotent, acks -1, 1 in flight)');

  const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const seen = new Map(); // value -> count
  const lastSeq = new Map(); // key -> last sequence number
  const next = new Map(); // partition -> next offset to commit
  const keyPartition = new Map();
  let disorder = null;
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      const key = message.key.toString();
      const value = message.value.toString();
      const seq = Number(value.split(':')[1]);
      seen.set(value, (seen.get(value) || 0) + 1);
      if (lastSeq.has(key) && lastSeq.get(key) >= seq && !disorder)
        disorder = key + ': ' + seq + ' after ' + lastSeq.get(key);
      lastSeq.set(key, seq);
      if (keyPartition.has(key) && keyPartition.get(key) !== partition && !disorder)
        disorder = key + ' on partitions ' + keyPartition.get(key) + ' and ' + partition;
      keyPartition.set(key, partition);
      next.set(partition, Number(message.offset) + 1);
    },
  });
  let total = 0;
  await waitFor('the group did not receive all ' + TOTAL + ' messages (got ' + seen.size + ')', async () => {
    total = 0;
    for (const n of seen.values()) total += n;
    return seen.size >= TOTAL;
  }, 40000);
  await new Promise((r) => setTimeout(r, 500)); // duplicates, if any, would show now
  total = 0;
  for (const n of seen.values()) total += n;
  if (seen.size !== TOTAL || total !== TOTAL)
    fail('the group received ' + total + ' messages, ' + seen.size + ' distinct, expected ' + TOTAL + ' exactly once');
  for (let i = 0; i < TOTAL; ++i)
    if (seen.get('key-' + (i % KEYS) + ':' + i) !== 1) fail('message ' + i + ' missing or duplicated');
  if (disorder) fail('per-key order broken: ' + disorder);
  console.log('kafkajs consumer group: ' + TOTAL + ' messages exactly once, each key in order on one partition');

  await consumer.commitOffsets(
    [...next.entries()].map(([partition, offset]) => ({ topic, partition, offset: String(offset) })));
  const live = await admin.describeGroups([groupId]);
  const g = live.groups.find((x) => x.groupId === groupId);
  if (!g || g.errorCode !== 0 || g.state !== 'Stable' || g.members.length !== 1 ||
      g.members[0].clientId !== 'actorlog-kafkajs' || g.protocolType !== 'consumer')
    fail('admin.describeGroups while consuming: ' + JSON.stringify(live));
  console.log('kafkajs admin.describeGroups: ' + groupId + ' Stable, 1 member (' + g.members[0].memberId + '), protocol ' + g.protocol);
  await consumer.disconnect();

  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  const committed = offsets[0].partitions.map((p) => Number(p.offset));
  const sum = committed.reduce((a, b) => a + b, 0);
  if (offsets[0].topic !== topic || offsets[0].partitions.length !== 3 || sum !== TOTAL)
    fail('admin.fetchOffsets: ' + JSON.stringify(offsets) + ' sums to ' + sum + ', expected ' + TOTAL);
  const after = await admin.describeGroups([groupId]);
  const e = after.groups.find((x) => x.groupId === groupId);
  if (!e || e.errorCode !== 0 || e.state !== 'Empty' || e.members.length !== 0)
    fail('admin.describeGroups after the consumer left: ' + JSON.stringify(after));
  const listed = await admin.listGroups();
  if (!listed.groups.some((x) => x.groupId === groupId))
    fail('admin.listGroups does not list ' + groupId + ': ' + JSON.stringify(listed));
  console.log('kafkajs admin.fetchOffsets: committed ' + committed.join('+') + ' = ' + sum +
              '; after leaving the group is Empty and listed');
  await admin.disconnect();
  clearTimeout(watchdog);
}

main().catch((e) => fail('kafkajs: ' + (e && e.stack ? e.stack : e)));
