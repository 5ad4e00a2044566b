"""Real Kafka clients against actorlog's Kafka listener (issue 13).

Run by kafka_clients_test.sh (one node), kafka_cluster_test.sh and
kafka_cluster_clients_test.sh (three nodes) with Debian's /usr/bin/python3
(python3-kafka 2.0.2, python3-confluent-kafka 1.7 over librdkafka 2.0.2). Each check prints
one line and exits non-zero on the first failure, naming what was expected.

  [REPLICATION_FACTOR=3] kafka_clients.py BOOTSTRAP CHECK...

BOOTSTRAP is one address or a comma-separated list. REPLICATION_FACTOR
(default 1: configs/single) is the replication factor the checks create
topics with and expect the broker to give auto-created topics (its
default.replication.factor): 3 against configs/cluster-3.
"""
import os
import sys
import time

BOOTSTRAP = sys.argv[1]
RF = int(os.environ.get("REPLICATION_FACTOR", "1"))


def eventually(what, cond, seconds=10):
    """cond() returns None when satisfied, else what it saw. Admin requests
    go to the controller and metadata to any broker, which learns the change
    a moment later (in Kafka as here): wait for it, bounded."""
    end = time.time() + seconds
    while True:
        seen = cond()
        if seen is None:
            return
        if time.time() > end:
            fail("%s within %d s: %s" % (what, seconds, seen))
        time.sleep(0.2)


def check_replicas(admin, topic, partitions):
    """topic has the given number of partitions, each with RF replicas."""
    def seen():
        meta = admin.describe_topics([topic])[0]
        parts = meta["partitions"]
        if (meta["error_code"] != 0 or len(parts) != partitions or
                any(len(p["replicas"]) != RF for p in parts)):
            return "error %d, replicas per partition %s" % (
                meta["error_code"], sorted((p["partition"], p["replicas"]) for p in parts))
        return None
    eventually("%s: %d partitions of %d replicas" % (topic, partitions, RF), seen)


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
    from kafka import KafkaAdminClient
    a = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    check_replicas(a, topic, len(parts))  # auto-created: the broker's defaults
    a.close()
    if sorted(v for _, v in got) != sorted(b"order-%d" % i for i in range(200)):
        fail("kafka-python read other values than it wrote")
    for k, v in got:
        if k != b"k%d" % (int(v.split(b"-")[1]) % 7):
            fail("kafka-python: key %r does not belong to %r" % (k, v))
    print("kafka-python: 200 keyed records produced (gzip, acks=all) to an auto-created topic "
          "(%d partition(s), %d replica(s) each) and read back" % (len(parts), RF))


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
    """kafka-python's admin client finds a controller among the brokers,
    lists every bootstrap address as a broker, and lists topics."""
    from kafka import KafkaAdminClient
    a = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    cluster = a.describe_cluster()
    brokers = {"%s:%d" % (b["host"], b["port"]): b["node_id"] for b in cluster.get("brokers", [])}
    if cluster.get("controller_id", -1) not in brokers.values():
        fail("describe_cluster has no controller among its brokers: %s" % cluster)
    missing = [b for b in BOOTSTRAP.split(",") if b not in brokers]
    if missing:
        fail("describe_cluster lacks the bootstrap brokers %s: %s" % (missing, cluster))
    topics = a.list_topics()
    if "kp-orders" not in topics:
        fail("list_topics misses kp-orders: %s" % topics)
    a.close()
    print("kafka-python admin: cluster %s, %d broker(s), controller %d, %d topics" %
          (cluster.get("cluster_id"), len(brokers), cluster["controller_id"], len(topics)))


MEMBER = r"""
import sys, time
from kafka import KafkaConsumer
c = KafkaConsumer("kp-group", bootstrap_servers=sys.argv[1], group_id="kp-g",
                  session_timeout_ms=6000, heartbeat_interval_ms=500,
                  auto_offset_reset="earliest")
while True:
    c.poll(timeout_ms=200)
    parts = sorted(tp.partition for tp in c.assignment())
    with open(sys.argv[2], "w") as f:
        f.write(",".join(map(str, parts)))
"""


def kafka_python_group_rebalance():
    """Three kafka-python members share a 6-partition topic (the leader
    member assigns); one is killed (SIGKILL, no LeaveGroup): after its
    session times out the other two own all 6 partitions, none twice."""
    import os, signal, subprocess, tempfile
    from kafka.admin import KafkaAdminClient, NewTopic
    a = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    a.create_topics([NewTopic("kp-group", 6, RF)])
    a.close()
    work = tempfile.mkdtemp()
    files = [os.path.join(work, "m%d" % i) for i in range(3)]
    procs = [subprocess.Popen([sys.executable, "-c", MEMBER, BOOTSTRAP, f]) for f in files]

    def owned(paths):
        out = []
        for f in paths:
            try:
                text = open(f).read()
            except OSError:
                return None
            out.append([int(x) for x in text.split(",") if x])
        return out

    def settled(paths, deadline_s):
        end = time.time() + deadline_s
        while time.time() < end:
            o = owned(paths)
            if o and all(o) and sorted(sum(o, [])) == list(range(6)):
                return o
            time.sleep(0.3)
        fail("group did not settle over %s: %s" % (paths, owned(paths)))

    try:
        first = settled(files, 60)
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait()
        os.remove(files[0])
        second = settled(files[1:], 60)
    finally:
        for p in procs:
            p.kill()
    print("kafka-python group: 3 members own %s; after a SIGKILL the other 2 own %s" %
          (first, second))


def confluent_group_and_offsets():
    """confluent-kafka consumes kp-orders in group ck-g and commits; the
    committed offsets are then read by kafka-python (another client)."""
    from confluent_kafka import Consumer, TopicPartition as CTP
    from kafka import KafkaConsumer, TopicPartition
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "ck-g",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe(["kp-orders"])
    n = 0
    end = time.time() + 30
    while n < 200 and time.time() < end:
        m = c.poll(0.5)
        if m is not None and not m.error():
            n += 1
    if n != 200:
        fail("confluent-kafka group consumer read %d of 200" % n)
    c.commit(asynchronous=False)
    mine = {tp.partition: tp.offset for tp in c.committed(c.assignment(), timeout=10)}
    c.close()
    k = KafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id="ck-g", enable_auto_commit=False)
    theirs = {p: k.committed(TopicPartition("kp-orders", p)) for p in mine}
    k.close()
    if mine != theirs or sum(mine.values()) != 200:
        fail("committed offsets differ: confluent %s, kafka-python %s" % (mine, theirs))
    print("confluent-kafka group consumed 200 and committed %s; kafka-python reads the same" %
          sorted(mine.items()))


def admin_topics_configs():
    """kafka-python admin: create (validate_only first), describe and alter
    configs, add partitions, delete."""
    from kafka.admin import (ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions,
                             NewTopic)
    from kafka.errors import TopicAlreadyExistsError
    a = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    a.create_topics([NewTopic("adm", 2, RF)], validate_only=True)
    if "adm" in a.list_topics():
        fail("validate_only created the topic")
    a.create_topics([NewTopic("adm", 2, RF, topic_configs={"retention.ms": "3600000"})])
    check_replicas(a, "adm", 2)
    try:
        a.create_topics([NewTopic("adm", 2, RF)])
        fail("creating adm twice succeeded")
    except TopicAlreadyExistsError:
        pass

    def retention():
        r = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "adm")])[0]
        entries = {e[0]: (e[1], e[3]) for e in r.resources[0][4]}  # v1+: name, value, read_only, source
        return entries.get("retention.ms", (None, None)), entries.get("segment.bytes", (None, None))

    eventually("describe_configs: retention.ms 3600000 from the create",
               lambda: None if retention()[0][0] == "3600000" else retention())
    (value, source), (seg, seg_source) = retention()
    if value != "3600000" or source != 1 or seg_source != 5:
        fail("describe_configs: retention.ms %s (source %s), segment.bytes source %s" %
             (value, source, seg_source))
    a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "adm",
                                    configs={"retention.ms": "7200000"})])
    eventually("alter_configs: retention.ms 7200000",
               lambda: None if retention()[0][0] == "7200000" else retention())
    a.create_partitions({"adm": NewPartitions(5)})
    check_replicas(a, "adm", 5)
    a.delete_topics(["adm"])
    end = time.time() + 10
    while "adm" in a.list_topics() and time.time() < end:
        time.sleep(0.2)
    if "adm" in a.list_topics():
        fail("delete_topics left adm")
    a.close()
    print("kafka-python admin: validate_only, create (%d replicas), duplicate refused, "
          "describe/alter configs with sources, 2 -> 5 partitions, delete" % RF)


def idempotent_across_leader_kill():
    """confluent-kafka, idempotent and acks=all, produces keyed messages to
    a 3-replica topic while the leader of partition 0 is killed (SIGKILL,
    pid in KILL_PID after KILL_AFTER_S seconds). Every acknowledged message is
    read back exactly once, and per key in the order it was produced; no
    message (acknowledged or not) is there twice."""
    import os, signal
    from confluent_kafka import Consumer, Producer, TopicPartition as CTP
    topic = os.environ.get("TOPIC", "replicated")
    kill_pid = int(os.environ["KILL_PID"])
    kill_after = float(os.environ.get("KILL_AFTER_S", "3"))
    run_s = float(os.environ.get("RUN_S", "12"))
    acked, failed = [], []

    def on_delivery(err, msg):
        (failed if err else acked).append(msg.value().decode() if not err else str(err))

    p = Producer({"bootstrap.servers": BOOTSTRAP, "enable.idempotence": True, "acks": "all",
                  "linger.ms": 5, "message.timeout.ms": 60000, "retry.backoff.ms": 200})
    start = time.time()
    killed = False
    i = 0
    while time.time() - start < run_s:
        if not killed and time.time() - start > kill_after:
            os.kill(kill_pid, signal.SIGKILL)
            killed = True
        key = "key-%d" % (i % 8)
        p.produce(topic, key=key, value="%s:%d" % (key, i), on_delivery=on_delivery)
        i += 1
        p.poll(0)
        if i % 200 == 0:
            time.sleep(0.02)
    left = p.flush(90)
    if left:
        fail("%d messages neither acknowledged nor failed after 90 s" % left)
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "verify-%d" % os.getpid(),
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    meta = c.list_topics(topic, timeout=10).topics[topic]
    c.assign([CTP(topic, q, 0) for q in meta.partitions])
    seen = []
    idle_until = time.time() + 15
    while time.time() < idle_until:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        seen.append(m.value().decode())
        idle_until = time.time() + 5
    c.close()
    counts = {}
    for v in seen:
        counts[v] = counts.get(v, 0) + 1
    dups = [v for v, n in counts.items() if n > 1]
    if dups:
        fail("%d values read twice, e.g. %s" % (len(dups), dups[:5]))
    lost = [v for v in acked if v not in counts]
    if lost:
        fail("%d acknowledged messages missing, e.g. %s" % (len(lost), lost[:5]))
    last = {}
    for v in seen:
        key, n = v.split(":")
        if int(n) <= last.get(key, -1):
            fail("key %s out of order: %d after %d" % (key, int(n), last[key]))
        last[key] = int(n)
    print("confluent-kafka idempotent across a leader kill: %d produced, %d acknowledged, "
          "%d failed, %d read back, no duplicate, in order per key" %
          (i, len(acked), len(failed), len(seen)))


CHECKS = {f.__name__: f for f in [idempotent_across_leader_kill, kafka_python_roundtrip, confluent_idempotent, admin_metadata,
                                  kafka_python_group_rebalance, confluent_group_and_offsets,
                                  admin_topics_configs]}

for name in sys.argv[2:]:
    started = time.time()
    CHECKS[name]()
