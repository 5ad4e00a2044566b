"""Real Kafka clients against actorlog's Kafka listener (issue 13).

Run by kafka_clients_test.sh with Debian's /usr/bin/python3 (python3-kafka
2.0.2, python3-confluent-kafka 1.7 over librdkafka 2.0.2). Each check prints
one line and exits non-zero on the first failure, naming what was expected.

  kafka_clients.py BOOTSTRAP CHECK...
"""
import sys
import time

BOOTSTRAP = sys.argv[1]


def fail(what):
    print("FAIL: " + what, flush=True)
    sys.exit(1)


def kafka_python_roundtrip():
    """kafka-python: keyed produce with acks=all in every codec it ships
    (gzip; lz4/snappy/zstd need extra modules Debian does not ship), then a
    group-less consumer reads them back in order, keys and values intact."""
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    topic = "kp-orders"
    p = KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", compression_type="gzip",
                      linger_ms=5)
    futures = [p.send(topic, key=b"k%d" % (i % 7), value=b"order-%d" % i) for i in range(200)]
    p.flush(30)
    metas = [f.get(timeout=30) for f in futures]
    p.close()
    by_partition = {}
    for m in metas:
        by_partition.setdefault(m.partition, []).append(m.offset)
    for part, offs in by_partition.items():
        if offs != sorted(offs):
            fail("kafka-python offsets out of order on partition %d: %s" % (part, offs[:10]))
    c = KafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=None, enable_auto_commit=False,
                      consumer_timeout_ms=10000)
    parts = [TopicPartition(topic, q) for q in c.partitions_for_topic(topic)]
    c.assign(parts)
    c.seek_to_beginning()
    got = []
    for msg in c:
        got.append((msg.key, msg.value))
        if len(got) == 200:
            break
    c.close()
    if len(got) != 200:
        fail("kafka-python read %d of 200 records back" % len(got))
    if sorted(v for _, v in got) != sorted(b"order-%d" % i for i in range(200)):
        fail("kafka-python read other values than it wrote")
    for k, v in got:
        if k != b"k%d" % (int(v.split(b"-")[1]) % 7):
            fail("kafka-python: key %r does not belong to %r" % (k, v))
    print("kafka-python: 200 keyed records produced (gzip, acks=all) and read back")


def confluent_idempotent():
    """confluent-kafka (librdkafka): an idempotent producer in each codec;
    every message is acknowledged exactly once, offsets dense per partition."""
    from confluent_kafka import Producer
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
        topic = "ck-" + codec
        acked = []
        errors = []

        def on_delivery(err, msg):
            (errors if err else acked).append(err or (msg.partition(), msg.offset()))

        p = Producer({"bootstrap.servers": BOOTSTRAP, "enable.idempotence": True,
                      "compression.codec": codec, "linger.ms": 5})
        for i in range(300):
            p.produce(topic, key=b"key-%d" % (i % 5), value=(b"v%d-" % i) * 20, on_delivery=on_delivery)
            p.poll(0)
        left = p.flush(30)
        if left or errors:
            fail("confluent-kafka %s: %d undelivered, errors %s" % (codec, left, errors[:3]))
        if len(acked) != 300 or len(set(acked)) != 300:
            fail("confluent-kafka %s: %d acknowledgements for 300 messages" % (codec, len(acked)))
    print("confluent-kafka: 300 idempotent messages in each of none/gzip/snappy/lz4/zstd")


def admin_metadata():
    """kafka-python's admin client finds a controller and lists topics."""
    from kafka import KafkaAdminClient
    a = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    cluster = a.describe_cluster()
    if cluster.get("controller_id", -1) < 0:
        fail("describe_cluster has no controller: %s" % cluster)
    topics = a.list_topics()
    if "kp-orders" not in topics:
        fail("list_topics misses kp-orders: %s" % topics)
    a.close()
    print("kafka-python admin: cluster %s, controller %d, %d topics" %
          (cluster.get("cluster_id"), cluster["controller_id"], len(topics)))


CHECKS = {f.__name__: f for f in [kafka_python_roundtrip, confluent_idempotent, admin_metadata]}

for name in sys.argv[2:]:
    started = time.time()
    CHECKS[name]()
