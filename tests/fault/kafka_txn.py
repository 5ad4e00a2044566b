#!/usr/bin/env python3
"""Transactions through the Kafka listener (issue 16), run by
kafka_txn_test.sh against one live node: confluent-kafka-python 1.7
(librdkafka 2.0.2, the installed client with transactions; kafka-python has
none) for the producer and the consumers, and DescribeTransactions /
ListTransactions written by hand (kafka_raw.py: no installed client sends
them).

Usage: kafka_txn.py KAFKA_PORT TOPIC TRANSACTIONAL_ID

TOPIC has 2 partitions and no records. Each step prints one "ok" line; the
first failure prints FAIL and exits 1. The last line is
"TRANSACTIONAL_ID PRODUCER_ID" for the shell's check of `actorlog
transactions list`.
"""
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from kafka_raw import (api_versions_v3, compact_array, compact_string, connect, fail, frame,
                       header_v2, i64, parse_api_versions, parse_produce_v9, produce_v9,
                       read_response, record_batch, uvarint)

PORT, TOPIC, TXN_ID = int(sys.argv[1]), sys.argv[2], sys.argv[3]
BOOTSTRAP = "127.0.0.1:%d" % PORT
N, M, K, L = 20, 10, 6, 4  # committed, aborted, left open (then fenced), the new producer's
TRANSACTIONAL_ID_NOT_FOUND = 105
INVALID_REQUEST, INVALID_TXN_STATE = 42, 48
CORR = [0]


def check(cond, msg):
    if not cond:
        fail(msg)


def ok(msg):
    print("ok   " + msg, flush=True)


# ---- confluent-kafka ---------------------------------------------------------------


def producer():
    return Producer({"bootstrap.servers": BOOTSTRAP, "transactional.id": TXN_ID,
                     "linger.ms": 5, "transaction.timeout.ms": 60000})


def produce(p, prefix, n):
    """n records PREFIX-i over both partitions, all acknowledged (flush)."""
    errors = []
    for i in range(n):
        p.produce(TOPIC, partition=i % 2, value=("%s-%d" % (prefix, i)).encode(),
                  on_delivery=lambda err, msg: err and errors.append(err))
        p.poll(0)
    left = p.flush(30)
    check(left == 0 and not errors, "%s: %d undelivered, errors %s" % (prefix, left, errors[:3]))


def consumer(isolation):
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "txn-check-%s" % isolation,
                  "isolation.level": isolation, "enable.auto.commit": False,
                  "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(TOPIC, p, 0) for p in (0, 1)])
    return c


def read_all(isolation, expect, quiet_s=1.5, limit_s=30):
    """Every value an `isolation` consumer reads from the beginning: until
    it has `expect` records and nothing more came for quiet_s, or limit_s."""
    c = consumer(isolation)
    got = []
    end = time.time() + limit_s
    quiet_until = None
    while time.time() < end:
        m = c.poll(0.2)
        if m is not None and not m.error():
            got.append(m.value().decode())
            quiet_until = None
        if len(got) >= expect:
            quiet_until = quiet_until or time.time() + quiet_s
            if time.time() > quiet_until:
                break
    c.close()
    return sorted(got)


def values(prefix, n):
    return sorted("%s-%d" % (prefix, i) for i in range(n))


def high_watermarks(isolation):
    """ListOffsets LATEST per partition, at the consumer's isolation level
    (librdkafka sends it in ListOffsets v2+)."""
    c = consumer(isolation)
    out = [c.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)[1] for p in (0, 1)]
    c.close()
    return out


# ---- DescribeTransactions / ListTransactions by hand ---------------------------------


def call(api_key, version, body, what):
    CORR[0] += 1
    s = connect(PORT, timeout=10)
    try:
        s.sendall(frame(header_v2(api_key, version, CORR[0], "kafka-txn") + body))
        return read_response(s, time.time() + 10, what, CORR[0], 1)
    finally:
        s.close()


def describe_transactions(ids):
    """{id: (error, state, timeout_ms, start_ms, producer_id, epoch, {topic: [partitions]})}"""
    body = compact_array([compact_string(i) for i in ids]) + uvarint(0)
    r = call(65, 0, body, "DescribeTransactions v0")
    r.i32()  # throttle_time_ms
    states = r.compact_array(lambda r: (
        r.i16(), r.compact_string(), r.compact_string(), r.i32(), r.i64(), r.i64(), r.i16(),
        r.compact_array(lambda r: (r.compact_string(), r.compact_array(lambda r: r.i32()),
                                   r.tagged_fields())),
        r.tagged_fields()))
    r.tagged_fields()
    r.done()
    return {s[1]: (s[0], s[2], s[3], s[4], s[5], s[6], {t[0]: sorted(t[1]) for t in s[7]})
            for s in states}


def list_transactions(states=(), pids=(), duration_ms=None):
    """(error, unknown state filters, {id: (producer_id, state)}); v1 when a
    duration filter is given."""
    version = 0 if duration_ms is None else 1
    body = (compact_array([compact_string(s) for s in states]) +
            compact_array([i64(p) for p in pids]) +
            (i64(duration_ms) if version >= 1 else b"") + uvarint(0))
    r = call(66, version, body, "ListTransactions v%d" % version)
    r.i32()  # throttle_time_ms
    err = r.i16()
    unknown = r.compact_array(lambda r: r.compact_string())
    listed = r.compact_array(lambda r: (r.compact_string(), r.i64(), r.compact_string(),
                                        r.tagged_fields()))
    r.tagged_fields()
    r.done()
    return err, unknown, {t[0]: (t[1], t[2]) for t in listed}


def advertised():
    s = connect(PORT)
    try:
        s.sendall(api_versions_v3(1))
        r = read_response(s, time.time() + 10, "ApiVersions v3", 1)
    finally:
        s.close()
    err, keys = parse_api_versions(r, 3)
    check(err == 0, "ApiVersions error %d" % err)
    return keys


# ---- the run -------------------------------------------------------------------------


def main():
    keys = advertised()
    for key, want in [(22, (0, 5)), (24, (0, 3)), (25, (0, 4)), (26, (0, 4)), (28, (0, 4)),
                      (65, (0, 0)), (66, (0, 1))]:
        check(keys.get(key) == want, "ApiVersions: key %d advertised as %s, expected %s" %
              (key, keys.get(key), want))
    ok("ApiVersions: AddPartitionsToTxn 0-3, AddOffsetsToTxn 0-4, EndTxn 0-4, "
       "TxnOffsetCommit 0-4, DescribeTransactions 0, ListTransactions 0-1")

    # (a) commit N, abort M.
    p = producer()
    p.init_transactions(30)
    p.begin_transaction()
    produce(p, "c", N)
    p.commit_transaction(30)
    p.begin_transaction()
    produce(p, "a", M)  # written to both partitions, then aborted
    p.abort_transaction(30)
    ok("confluent-kafka transactional producer: %d records committed, then %d aborted" % (N, M))

    # (b) read_committed sees the N, read_uncommitted all N + M.
    got = read_all("read_committed", N)
    check(got == values("c", N), "read_committed read %d records, expected the %d committed: %s"
          % (len(got), N, got[:8]))
    got = read_all("read_uncommitted", N + M)
    check(got == sorted(values("c", N) + values("a", M)),
          "read_uncommitted read %d records, expected %d: %s" % (len(got), N + M, got[:8]))
    ok("read_committed consumer reads exactly the %d committed records, read_uncommitted "
       "all %d" % (N, N + M))

    # A transaction left open: the LSO holds read_committed readers back.
    p.begin_transaction()
    produce(p, "o", K)
    committed_end, uncommitted_end = high_watermarks("read_committed"), high_watermarks(
        "read_uncommitted")
    # Each partition: N/2 + M/2 records, two markers, then K/2 open records.
    want_lso = (N + M) // 2 + 2
    check(committed_end == [want_lso, want_lso] and
          uncommitted_end == [want_lso + K // 2, want_lso + K // 2],
          "ListOffsets LATEST with an open transaction: read_committed %s (expected the LSO %d), "
          "read_uncommitted %s (expected the HW %d)" %
          (committed_end, want_lso, uncommitted_end, want_lso + K // 2))
    got = read_all("read_committed", N, quiet_s=2.0)
    check(got == values("c", N), "read_committed read past the open transaction: %d records %s"
          % (len(got), [v for v in got if not v.startswith("c-")][:8]))
    got = read_all("read_uncommitted", N + M + K)
    check(len(got) == N + M + K, "read_uncommitted read %d records, expected %d" %
          (len(got), N + M + K))
    ok("open transaction: ListOffsets read_committed %s (LSO) vs read_uncommitted %s (HW); "
       "read_committed fetches stop at the LSO" % (committed_end, uncommitted_end))

    # DescribeTransactions / ListTransactions on the open transaction.
    d = describe_transactions([TXN_ID, "no-such-txn-id"])
    err, state, timeout_ms, start_ms, pid, epoch, topics = d.get(TXN_ID, (None,) * 7)
    check(err == 0 and state == "Ongoing" and timeout_ms == 60000 and pid >= 0 and
          start_ms > 0 and topics == {TOPIC: [0, 1]},
          "DescribeTransactions %s: %s" % (TXN_ID, d.get(TXN_ID)))
    check(d.get("no-such-txn-id", (None,))[0] == TRANSACTIONAL_ID_NOT_FOUND,
          "DescribeTransactions of an unknown id: %s" % (d.get("no-such-txn-id"),))
    err, unknown, listed = list_transactions()
    check(err == 0 and listed.get(TXN_ID) == (pid, "Ongoing"),
          "ListTransactions: error %d, %s" % (err, listed))
    _, _, listed = list_transactions(states=["Ongoing"], pids=[pid])
    check(TXN_ID in listed, "ListTransactions Ongoing, producer %d: %s" % (pid, listed))
    _, _, listed = list_transactions(states=["CompleteCommit"])
    check(TXN_ID not in listed, "ListTransactions CompleteCommit lists the open one: %s" % listed)
    _, _, listed = list_transactions(pids=[pid + 1000])
    check(TXN_ID not in listed, "ListTransactions by another producer id: %s" % listed)
    err, unknown, listed = list_transactions(states=["Bogus"])
    check(err == 0 and unknown == ["Bogus"] and not listed,
          "ListTransactions with an unknown state: error %d, unknown %s, %s" % (err, unknown, listed))
    _, _, listed = list_transactions(duration_ms=3600000)
    check(TXN_ID not in listed, "ListTransactions v1 running > 1 h lists it: %s" % listed)
    time.sleep(0.05)
    _, _, listed = list_transactions(duration_ms=1)
    check(TXN_ID in listed, "ListTransactions v1 running > 1 ms does not list it: %s" % listed)
    ok("DescribeTransactions: Ongoing, producer %d epoch %d, %s; unknown id "
       "TRANSACTIONAL_ID_NOT_FOUND; ListTransactions filters by state, producer id, duration"
       % (pid, epoch, topics))

    # (c) A second producer with the same transactional.id fences the first;
    # its InitProducerId aborts the open transaction.
    p2 = producer()
    p2.init_transactions(30)
    try:
        p.commit_transaction(30)
        fail("the fenced producer's commit succeeded")
    except KafkaException as e:
        err = e.args[0]
        check(err.fatal() and err.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED,
                                             KafkaError.INVALID_PRODUCER_EPOCH),
              "the fenced producer's commit raised %s (fatal %s), expected a fatal fenced error"
              % (err, err.fatal()))
        fenced = err
    p2.begin_transaction()
    produce(p2, "n", L)
    p2.commit_transaction(30)
    got = read_all("read_committed", N + L)
    check(got == sorted(values("c", N) + values("n", L)),
          "after the fencing read_committed read %d records, expected %d (the fenced "
          "producer's open ones aborted): %s" % (len(got), N + L,
                                                  [v for v in got if v[0] not in "cn"][:8]))
    d = describe_transactions([TXN_ID])[TXN_ID]
    check(d[0] == 0 and d[1] == "CompleteCommit" and d[4] == pid and d[5] > epoch,
          "DescribeTransactions after the new producer's commit: %s" % (d,))
    ok("a second producer fences the first (its commit raised %s); its own %d records "
       "commit, the fenced producer's %d are aborted; epoch %d -> %d" %
       (fenced.name(), L, K, epoch, d[5]))
    write_outside_a_transaction(d[4], d[5])
    consume_transform_produce(N + L)
    print("%s %d" % (TXN_ID, pid), flush=True)


def raw_produce(batch, transactional_id):
    CORR[0] += 1
    s = connect(PORT, timeout=10)
    try:
        s.sendall(produce_v9(CORR[0], uvarint(len(batch) + 1) + batch, TOPIC, 0,
                             transactional_id))
        r = read_response(s, time.time() + 10, "Produce v9", CORR[0], header_version=1)
    finally:
        s.close()
    return parse_produce_v9(r)


def write_outside_a_transaction(pid, epoch):
    """(d2) KIP-890 part 1: a transactional batch of a producer whose
    transaction is over (written by hand: clients add a partition before
    writing to it) is refused, and opens no transaction no coordinator knows
    of, which would hold read_committed readers for good."""
    before = high_watermarks("read_uncommitted")
    batch = record_batch(producer_id=pid, producer_epoch=epoch, base_sequence=1000,
                         transactional=True)
    parts = raw_produce(batch, TXN_ID)
    check(parts == [(TOPIC, 0, INVALID_TXN_STATE)],
          "a transactional batch after the transaction's end: %s, expected INVALID_TXN_STATE"
          % parts)
    parts = raw_produce(batch, None)
    check(parts == [(TOPIC, 0, INVALID_REQUEST)],
          "a transactional batch without a transactional id: %s, expected INVALID_REQUEST"
          % parts)
    after, committed = high_watermarks("read_uncommitted"), high_watermarks("read_committed")
    check(after == before and committed == after,
          "after the refused writes: high watermarks %s (before %s), last stable offsets %s"
          % (after, before, committed))
    ok("a transactional batch outside a transaction (Produce v9 by hand) is refused with "
       "INVALID_TXN_STATE, one without a transactional id with INVALID_REQUEST; nothing "
       "written, last stable offsets %s at the high watermarks" % committed)


def consume_transform_produce(n):
    """(e) Exactly once with confluent-kafka: a read_committed consumer of
    group ctp-group reads the n committed records, a transactional producer
    writes one record each to TOPIC-out and sends the consumed offsets to
    the transaction (AddOffsetsToTxn, TxnOffsetCommit). An aborted attempt
    first leaves neither output nor offsets; the committed one leaves both."""
    from confluent_kafka.admin import AdminClient, NewTopic
    out_topic = TOPIC + "-out"
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})  # alive until the result
    futures = admin.create_topics([NewTopic(out_topic, num_partitions=1, replication_factor=1)])
    futures[out_topic].result(30)
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "ctp-group",
                  "isolation.level": "read_committed", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(TOPIC, p, 0) for p in (0, 1)])
    consumed, next_offset = [], {}
    end = time.time() + 30
    while len(consumed) < n and time.time() < end:
        m = c.poll(0.2)
        if m is not None and not m.error():
            consumed.append(m.value().decode())
            next_offset[m.partition()] = m.offset() + 1
    check(len(consumed) == n, "ctp: consumed %d of %d committed records" % (len(consumed), n))
    offsets = [TopicPartition(TOPIC, p, o) for p, o in sorted(next_offset.items())]
    p = Producer({"bootstrap.servers": BOOTSTRAP, "transactional.id": TXN_ID + "-ctp"})
    p.init_transactions(30)
    for attempt, commit in (("aborted", False), ("committed", True)):
        p.begin_transaction()
        for v in consumed:
            p.produce(out_topic, value=("out-" + v).encode())
        p.send_offsets_to_transaction(offsets, c.consumer_group_metadata(), 30)
        if commit:
            p.commit_transaction(30)
        else:
            p.abort_transaction(30)
            got = c.committed([TopicPartition(TOPIC, q) for q in (0, 1)], timeout=10)
            check(all(t.offset < 0 for t in got),
                  "ctp: the aborted transaction committed offsets %s" % got)
    got = c.committed([TopicPartition(TOPIC, q) for q in (0, 1)], timeout=10)
    check(sorted((t.partition, t.offset) for t in got) ==
          sorted((t.partition, t.offset) for t in offsets),
          "ctp: committed offsets %s, expected %s" % (got, offsets))
    c.close()
    out = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "ctp-check",
                    "isolation.level": "read_committed", "enable.auto.commit": False,
                    "auto.offset.reset": "earliest"})
    out.assign([TopicPartition(out_topic, 0, 0)])
    got, end = [], time.time() + 20
    while time.time() < end and len(got) < n:
        m = out.poll(0.2)
        if m is not None and not m.error():
            got.append(m.value().decode())
    quiet = time.time() + 1.5
    while time.time() < quiet:
        m = out.poll(0.2)
        if m is not None and not m.error():
            got.append(m.value().decode())
    out.close()
    check(sorted(got) == sorted("out-" + v for v in consumed),
          "ctp: read_committed read %d records of %s, expected each of the %d once"
          % (len(got), out_topic, n))
    ok("consume-transform-produce: an aborted attempt leaves no offsets; the committed one "
       "leaves %d records in %s, each once, and the group's offsets %s (send_offsets_to_"
       "transaction: AddOffsetsToTxn, TxnOffsetCommit)" %
       (n, out_topic, [(t.partition, t.offset) for t in offsets]))


main()
