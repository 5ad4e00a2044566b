#!/usr/bin/env python3
"""Fetch v13-17 (topic ids) and OffsetFetch v8-9 (several groups) against a
live node's Kafka listener (tests/fault/kafka_versions_test.sh). The installed
clients never send these versions, so the requests are written by hand
(kafka_raw.py) and the answers read field by field.

Usage: kafka_versions.py KAFKA_PORT main TOPIC RECORDS GROUP
       kafka_versions.py KAFKA_PORT recreated TOPIC OLD_TOPIC_ID_HEX

main: TOPIC has partitions 0 and 1, RECORDS uncompressed records in
partition 0 (values kv-1..kv-RECORDS), none in 1; GROUP has no commits yet.
Prints the topic id (hex) on the last line. recreated: TOPIC was deleted and
created again; OLD_TOPIC_ID_HEX (the first one) must now be unknown.
"""
import os
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from kafka_raw import (Reader, api_versions_v3, compact_array, compact_string, connect, fail,
                       frame, header_v1, header_v2, i8, i16, i32, i64, parse_api_versions,
                       read_response, string, tagged, uvarint)

PORT, MODE = int(sys.argv[1]), sys.argv[2]
UNKNOWN_TOPIC_ID, CLUSTER_AUTHORIZATION_FAILED, INVALID_GROUP_ID = 100, 31, 24
CORR = [0]


def call(api_key, version, body, flexible, what, limit_s=10.0):
    """One request on a fresh connection; returns the answer's Reader."""
    CORR[0] += 1
    hdr = (header_v2 if flexible else header_v1)(api_key, version, CORR[0], "kafka-versions")
    s = connect(PORT, timeout=limit_s)
    try:
        s.sendall(frame(hdr + body))
        return read_response(s, time.time() + limit_s, what, CORR[0], 1 if flexible else 0)
    finally:
        s.close()


def check(cond, msg):
    if not cond:
        fail(msg)


# ---- Metadata v12: the topic id ---------------------------------------------------


def topic_id_of(topic, not_id=None, retry_s=0.0):
    """The topic's id from Metadata v12 (asked again for up to retry_s while
    the topic is unknown or still has the id not_id)."""
    deadline = time.time() + retry_s
    while True:
        topics = metadata_v12(topic)
        if time.time() >= deadline or (len(topics) == 1 and topics[0][0] == 0
                                       and topics[0][2] != not_id):
            break
        time.sleep(0.2)
    check(len(topics) == 1 and topics[0][0] == 0 and topics[0][1] == topic,
          f"Metadata v12 for {topic}: {topics}")
    check(topics[0][2] != bytes(16), f"Metadata v12 for {topic}: the zero topic id")
    return topics[0][2]


def metadata_v12(topic):
    body = compact_array([bytes(16) + compact_string(topic) + uvarint(0)]) + i8(0) + i8(0) + uvarint(0)
    r = call(3, 12, body, True, f"Metadata v12 for {topic}")
    r.i32()  # throttle_time_ms
    r.compact_array(lambda r: (r.i32(), r.compact_string(), r.i32(), r.compact_string(), r.tagged_fields()))
    r.compact_string(), r.i32()  # cluster id, controller id
    topics = r.compact_array(lambda r: (r.i16(), r.compact_string(), r.uuid(), r.i8(),
                                        r.compact_array(metadata_partition), r.i32(), r.tagged_fields()))
    r.tagged_fields()
    r.done()
    return topics


def metadata_partition(r):
    err, idx = r.i16(), r.i32()
    r.i32(), r.i32()  # leader, leader epoch
    for _ in range(3):  # replicas, isr, offline
        r.compact_array(lambda r: r.i32())
    r.tagged_fields()
    return err, idx


# ---- Fetch --------------------------------------------------------------------------


def fetch_body(version, topics, max_wait_ms=0, replica=-1, forgotten=(), dir_id=None):
    """topics: [(name or 16-byte id, [(partition, offset)])]"""
    by_id = version >= 13

    def part(p, off):
        tags = {0: dir_id} if version >= 17 and dir_id else {}
        return (i32(p) + i32(-1) + i64(off) + i32(-1) + i64(-1) + i32(1 << 20) + tagged(tags))

    def topic(t, parts):
        key = t if by_id else compact_string(t)
        return key + compact_array([part(p, o) for p, o in parts]) + uvarint(0)

    def gone(t, parts):
        return (t if by_id else compact_string(t)) + compact_array([i32(p) for p in parts]) + uvarint(0)

    body = i32(replica) if version < 15 else b""  # v15+: in ReplicaState
    body += (i32(max_wait_ms) + i32(1) + i32(8 << 20) + i8(0)
             + i32(0) + i32(-1)  # session id 0, epoch -1: a full fetch, no session
             + compact_array([topic(t, ps) for t, ps in topics])
             + compact_array([gone(t, ps) for t, ps in forgotten]) + compact_string("rack-a"))
    tags = {0: compact_string("kafka-versions-cluster")}  # ClusterId (ignored)
    if version >= 15:  # ReplicaState: replica id and epoch
        tags[1] = i32(replica) + i64(-1) + uvarint(0)
    return body + tagged(tags)


def fetch(version, topics, limit_s=10.0, **kw):
    """Answers [(topic name or id, [(partition, error, high watermark,
    records)])], the top-level error and the response's tagged fields."""
    what = f"Fetch v{version}"
    by_id = version >= 13
    r = call(1, version, fetch_body(version, topics, **kw), True, what, limit_s)
    r.i32()  # throttle_time_ms
    err, session = r.i16(), r.i32()
    check(session == 0, f"{what}: session id {session}, expected 0 (no fetch sessions)")

    def partition(r):
        idx, perr, hw = r.i32(), r.i16(), r.i64()
        r.i64(), r.i64()  # last stable offset, log start offset
        r.compact_array(lambda r: (r.i64(), r.i64(), r.tagged_fields()))  # aborted transactions
        r.i32()  # preferred read replica
        records = r.compact_bytes()
        r.tagged_fields()
        return idx, perr, hw, records or b""

    out = r.compact_array(lambda r: ((r.uuid() if by_id else r.compact_string()),
                                     r.compact_array(partition), r.tagged_fields())[:2])
    top_tags = r.tagged_fields()
    r.done()
    return out, err, top_tags


def zigzag(r):
    n = r.uvarint()
    return (n >> 1) ^ -(n & 1)


def batch_values(records, what):
    """(record count, values or None when compressed) of concatenated v2 batches."""
    r, count, values = Reader(records, what), 0, []
    while r.p < len(r.d):
        r.i64()  # base offset
        b = Reader(r.take(r.i32()), what)
        b.i32()
        check(b.i8() == 2, f"{what}: a batch of magic other than 2")
        b.take(4)  # crc
        attributes = b.i16()
        b.take(4 + 8 + 8 + 8 + 2 + 4)
        n = b.i32()
        count += n
        if attributes & 7 or values is None:
            values = None
            continue
        for _ in range(n):
            rec = Reader(b.take(zigzag(b)), what)
            rec.i8(), zigzag(rec), zigzag(rec)  # attributes, timestamp delta, offset delta
            klen = zigzag(rec)
            rec.take(max(klen, 0))
            vlen = zigzag(rec)
            values.append(rec.take(vlen).decode() if vlen >= 0 else None)
    return count, values


def one_partition(answer, key, what):
    topics, err, _ = answer
    check(err == 0, f"{what}: top-level error {err}")
    for k, parts in topics:
        if k == key:
            check(len(parts) == 1, f"{what}: {len(parts)} partitions answered")
            return parts[0]
    fail(f"{what}: topic {key!r} not in the answer {[t for t, _ in topics]}")


def main_checks(topic, n, group):
    s = connect(PORT)
    s.sendall(api_versions_v3(1))
    _, keys = parse_api_versions(read_response(s, time.time() + 5, "ApiVersions v3", 1), 3)
    s.close()
    check(keys.get(1) == (0, 17), f"ApiVersions: Fetch {keys.get(1)}, expected (0, 17)")
    check(keys.get(9) == (0, 9), f"ApiVersions: OffsetFetch {keys.get(9)}, expected (0, 9)")
    print("ok   ApiVersions advertises Fetch 0-17 and OffsetFetch 0-9")

    tid = topic_id_of(topic)
    want = [f"kv-{i}" for i in range(1, n + 1)]
    idx, err, hw, v12 = one_partition(fetch(12, [(topic, [(0, 0)])]), topic, "Fetch v12")
    check(err == 0 and hw == n, f"Fetch v12: error {err}, high watermark {hw}, expected 0 and {n}")
    check(batch_values(v12, "Fetch v12") == (n, want), f"Fetch v12 records: {batch_values(v12, 'v12')}")
    print(f"ok   Fetch v12 by name: {n} records")

    for v in (13, 14, 15, 16, 17):
        what = f"Fetch v{v} by topic id"
        answer = fetch(v, [(tid, [(0, 0), (1, 0)])], forgotten=[(os.urandom(16), [3, 4])],
                       dir_id=os.urandom(16))
        topics, err, tags = answer
        check(err == 0 and len(topics) == 1 and topics[0][0] == tid,
              f"{what}: error {err}, topics {[t for t, _ in topics]}, expected the id {tid.hex()}")
        parts = {p[0]: p for p in topics[0][1]}
        check(sorted(parts) == [0, 1], f"{what}: partitions {sorted(parts)}")
        _, e0, hw0, rec0 = parts[0]
        check(e0 == 0 and hw0 == n, f"{what}: partition 0 error {e0}, high watermark {hw0}")
        check(rec0 == v12, f"{what}: {len(rec0)} record bytes differ from v12's {len(v12)} at offset 0")
        check(batch_values(rec0, what) == (n, want), f"{what}: records {batch_values(rec0, what)}")
        check(parts[1][1:] == (0, 0, b""), f"{what}: empty partition 1 answered {parts[1][1:3]}")
        check(v < 16 or 0 not in tags, f"{what}: NodeEndpoints sent without a NOT_LEADER answer")
        extra = ", ReplicaState" if v >= 15 else ""
        extra += ", ReplicaDirectoryId" if v >= 17 else ""
        print(f"ok   {what} (forgotten topics by id{extra}): the same {n} records as v12")

    # From the middle, and a long poll at the end that waits its max_wait_ms.
    _, err, _, rec = one_partition(fetch(13, [(tid, [(0, n - 3)])]), tid, "Fetch v13 at n-3")
    count, values = batch_values(rec, "Fetch v13 at n-3")
    check(err == 0 and values and values[-3:] == want[-3:], f"Fetch v13 at offset {n - 3}: {values}")
    t0 = time.time()
    _, err, hw, rec = one_partition(fetch(13, [(tid, [(0, n)])], max_wait_ms=600), tid, "long poll")
    took = time.time() - t0
    check(err == 0 and hw == n and rec == b"" and 0.45 <= took < 5,
          f"Fetch v13 at the end with max_wait_ms 600: error {err}, {len(rec)} bytes after {took:.2f} s")
    print(f"ok   Fetch v13 from offset {n - 3}; at the end it waits max_wait_ms ({took:.2f} s)")

    unknown = os.urandom(16)
    topics, err, _ = fetch(16, [(unknown, [(0, 0), (7, 0)]), (tid, [(0, 0)]), (bytes(16), [(0, 0)])])
    check(err == 0 and [t for t, _ in topics] == [unknown, tid, bytes(16)],
          f"Fetch v16 with unknown ids: error {err}, topics {[t.hex() for t, _ in topics]}")
    got = dict(topics)
    refused = [(0, UNKNOWN_TOPIC_ID, -1, b""), (7, UNKNOWN_TOPIC_ID, -1, b"")]
    check(got[unknown] == refused and got[bytes(16)] == refused[:1],
          f"Fetch v16 by unknown ids: {got[unknown]}, by the zero id: {got[bytes(16)]}; "
          f"expected UNKNOWN_TOPIC_ID (100), high watermark -1, no records per partition")
    _, e, hw, rec = got[tid][0]
    check(e == 0 and hw == n and rec == v12, f"Fetch v16: the known id beside unknown ones: {e} {hw}")
    print("ok   Fetch v16: unknown and zero topic ids answer UNKNOWN_TOPIC_ID (100), the known one its records")

    for v in (13, 15, 17):
        _, e, hw, rec = one_partition(fetch(v, [(tid, [(0, 0)])], replica=1), tid, f"Fetch v{v} replica 1")
        check(e == CLUSTER_AUTHORIZATION_FAILED and rec == b"",
              f"Fetch v{v} with replica id 1: error {e}, {len(rec)} bytes, expected 31 and none")
    print("ok   Fetch v13/v15/v17 from replica id 1 (not a consumer): CLUSTER_AUTHORIZATION_FAILED")

    truncated_checks(1, 17, fetch_body(17, [(tid, [(0, 0), (1, 0)])], forgotten=[(tid, [2])],
                                       dir_id=os.urandom(16)), "Fetch v17")
    offset_checks(topic, n, group)
    truncated_checks(9, 9, offset_fetch_body(9, [(group, [(topic, [0, 1])]), (group, None)]),
                     "OffsetFetch v9")
    _, e, hw, _ = one_partition(fetch(13, [(tid, [(0, 0)])]), tid, "Fetch v13 after the cuts")
    check(e == 0 and hw == n, f"Fetch v13 after the cut requests: error {e}, high watermark {hw}")
    print(tid.hex())


def truncated_checks(api_key, version, body, what):
    """Every cut of a valid body closes its connection without an answer
    (Kafka's answer to a request it cannot parse); the node keeps serving."""
    for cut in range(0, len(body), 3):
        s = connect(PORT)
        s.sendall(frame(header_v2(api_key, version, 99, "kafka-versions") + body[:cut]))
        s.settimeout(3.0)
        try:
            got = s.recv(64)
        except socket.timeout:
            fail(f"{what} cut to {cut} of {len(body)} bytes: the connection stayed open 3 s")
        except OSError:
            got = b""  # reset: closed too
        s.close()
        check(got == b"", f"{what} cut to {cut} of {len(body)} bytes was answered: {got.hex()}")
    print(f"ok   {what} cut short at {len(range(0, len(body), 3))} places: each connection closed")


# ---- OffsetCommit v2, OffsetFetch v8/v9 ---------------------------------------------


LOADING = (14, 15)  # COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE: ask again


def find_coordinator(group):
    """FindCoordinator v0 until it names one (the first creates __consumer_offsets)."""
    deadline = time.time() + 30
    while True:
        r = call(10, 0, string(group), False, "FindCoordinator v0")
        err, node = r.i16(), r.i32()
        r.string(), r.i32()
        r.done()
        if err == 0 or time.time() > deadline:
            break
        time.sleep(0.3)
    check(err == 0 and node == 1, f"FindCoordinator v0 for {group}: error {err}, node {node}")


def commit(group, topic, offsets):
    """A group-less commit (generation -1, no member id), asked again while
    the group's coordinator (a partition of __consumer_offsets) loads."""
    parts = b"".join(i32(p) + i64(o) + string(f"meta-{p}") for p, o in offsets)
    body = (string(group) + i32(-1) + string("") + i64(-1)
            + i32(1) + string(topic) + i32(len(offsets)) + parts)
    deadline = time.time() + 30
    while True:
        r = call(8, 2, body, False, "OffsetCommit v2")
        got = [(r.string(), [(r.i32(), r.i16()) for _ in range(r.i32())]) for _ in range(r.i32())]
        r.done()
        if time.time() > deadline or not any(e in LOADING for _, ps in got for _, e in ps):
            break
        time.sleep(0.3)
    check(got == [(topic, [(p, 0) for p, _ in offsets])], f"OffsetCommit v2 for {group}: {got}")


def offset_fetch_body(version, groups):
    """groups: [(group, [(topic, [partitions])] or None for all)]"""
    def grp(g, topics):
        member = (compact_string("member-x") + i32(7)) if version >= 9 else b""
        ts = None if topics is None else [
            compact_string(t) + compact_array([i32(p) for p in ps]) + uvarint(0) for t, ps in topics]
        return compact_string(g) + member + compact_array(ts) + uvarint(0)
    return compact_array([grp(g, t) for g, t in groups]) + i8(0) + uvarint(0)


def offset_fetch(version, groups):
    """[(group, (error, {(topic, partition): (offset, metadata, error)}))]"""
    r = call(9, version, offset_fetch_body(version, groups), True, f"OffsetFetch v{version}")
    r.i32()  # throttle_time_ms

    def partition(r):
        p, off, _, meta, err = r.i32(), r.i64(), r.i32(), r.compact_string(), r.i16()
        r.tagged_fields()
        return p, (off, meta, err)

    def topic(r):
        name, parts = r.compact_string(), r.compact_array(partition)
        r.tagged_fields()
        return [((name, p), x) for p, x in parts]

    def group(r):
        g, topics, err = r.compact_string(), r.compact_array(topic), r.i16()
        r.tagged_fields()
        return g, (err, dict(x for t in topics for x in t))
    out = r.compact_array(group)
    r.tagged_fields()
    r.done()
    check([g for g, _ in out] == [g for g, _ in groups], f"OffsetFetch v{version}: groups {out}")
    return out


def offset_checks(topic, n, group):
    find_coordinator(group)
    commit(group, topic, [(0, n - 5)])
    long_id = "g" * 300  # over the 255-byte limit: INVALID_GROUP_ID for that group only
    groups = [(group, [(topic, [0, 1])]), ("kv-no-such-group", [(topic, [0])]),
              (long_id, [(topic, [0])]), (group, None)]
    deadline = time.time() + 30
    while time.time() < deadline and any(x[0] in LOADING for _, x in offset_fetch(8, groups)):
        time.sleep(0.3)  # every group's coordinator loaded
    for v in (8, 9):
        out = offset_fetch(v, groups)
        what = f"OffsetFetch v{v}"
        (_, g1), (_, unknown), (_, bad), (_, every) = out
        check(g1 == (0, {(topic, 0): (n - 5, "meta-0", 0), (topic, 1): (-1, "", 0)}),
              f"{what}: {group} answered {g1}, expected offset {n - 5} on partition 0, -1 on 1")
        check(unknown == (0, {(topic, 0): (-1, "", 0)}),
              f"{what}: a group with no commits answered {unknown}, expected no error and -1")
        check(bad[0] == INVALID_GROUP_ID and not bad[1],
              f"{what}: a 300-byte group id answered {bad}, expected INVALID_GROUP_ID (24) alone")
        check(every == (0, {(topic, 0): (n - 5, "meta-0", 0)}),
              f"{what}: {group} with null topics (every committed one) answered {every}")
        print(f"ok   {what}: four groups, each with its own answer (offset, -1, INVALID_GROUP_ID, all)")


# ---- after the topic was deleted and created again --------------------------------------


def recreated_checks(topic, old_hex):
    old = bytes.fromhex(old_hex)
    new = topic_id_of(topic, not_id=old, retry_s=10)
    check(new != old, f"{topic} was created again but keeps the id {old_hex}")
    topics, err, _ = fetch(13, [(old, [(0, 0)]), (new, [(0, 0)])])
    got = {t: p for t, p in topics}
    check(err == 0 and got[old][0][1] == UNKNOWN_TOPIC_ID,
          f"Fetch v13 by the deleted topic's id: {got.get(old)}, expected UNKNOWN_TOPIC_ID (100)")
    check(got[new][0][1:] == (0, 0, b""), f"Fetch v13 by the new id: {got.get(new)}, expected empty")
    print(f"ok   {topic} created again: its old id is unknown (100), the new id reads the empty topic")


if MODE == "main":
    main_checks(sys.argv[3], int(sys.argv[4]), sys.argv[5])
elif MODE == "recreated":
    recreated_checks(sys.argv[3], sys.argv[4])
else:
    fail(f"unknown mode {MODE}")
