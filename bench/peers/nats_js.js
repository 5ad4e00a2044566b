#!/usr/bin/env node
// NATS JetStream peer for bench/compare: acked async publish of N records
// of SIZE bytes into a file-backed stream (window of unacknowledged
// publishes, like a Kafka producer's in-flight batches), then reads them all
// back with a pull consumer (no per-message acks). Prints one JSON line.
//
//   node nats_js.js --server nats://127.0.0.1:4333 --size 100 --count 200000 [--window 4096]
"use strict";
const { connect, AckPolicy, DeliverPolicy, StorageType } = require("nats");

function arg(name, fallback) {
  const i = process.argv.indexOf("--" + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const server = arg("server", "nats://127.0.0.1:4222");
const size = parseInt(arg("size", "100"), 10);
const count = parseInt(arg("count", "100000"), 10);
const windowSize = parseInt(arg("window", "4096"), 10);
const maxSeconds = parseFloat(arg("max-seconds", "120"));
const stream = arg("stream", "BENCH" + size);

// Every run ends by itself.
const killer = setTimeout(() => {
  console.error(`nats_js: gave up after ${maxSeconds} s`);
  process.exit(3);
}, maxSeconds * 1000);

async function main() {
  const nc = await connect({ servers: server, timeout: 5000 });
  const jsm = await nc.jetstreamManager();
  try {
    await jsm.streams.delete(stream);
  } catch (_) {
    // not there yet
  }
  await jsm.streams.add({ name: stream, subjects: [stream + ".>"], storage: StorageType.File });
  const js = nc.jetstream();
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = 97 + ((i * 7) % 26);
  const subject = stream + ".records";

  // Produce: keep up to `window` publishes awaiting their PubAck.
  let pending = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    pending.push(js.publish(subject, payload));
    if (pending.length >= windowSize) {
      await Promise.all(pending.splice(0, pending.length >> 1));
    }
  }
  await Promise.all(pending);
  pending = [];
  const produceSecs = Number(process.hrtime.bigint() - t0) / 1e9;

  // Consume everything from the start.
  await jsm.consumers.add(stream, {
    durable_name: "reader",
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.All,
  });
  const consumer = await js.consumers.get(stream, "reader");
  const t1 = process.hrtime.bigint();
  let n = 0;
  let bytes = 0;
  const messages = await consumer.consume({ max_messages: 10000 });
  for await (const m of messages) {
    n++;
    bytes += m.data.length;
    if (n >= count) break;
  }
  const consumeSecs = Number(process.hrtime.bigint() - t1) / 1e9;
  await jsm.streams.delete(stream);
  await nc.close();
  clearTimeout(killer);
  console.log(
    JSON.stringify({
      system: "nats-jetstream",
      size,
      count,
      window: windowSize,
      produce_seconds: produceSecs,
      produce_rec_s: count / produceSecs,
      produce_mb_s: (count * size) / produceSecs / 1e6,
      consumed: n,
      consume_seconds: consumeSecs,
      consume_rec_s: n / consumeSecs,
      consume_mb_s: bytes / consumeSecs / 1e6,
    })
  );
}

main().catch((e) => {
  console.error("nats_js:", e && e.message ? e.message : e);
  process.exit(1);
});
