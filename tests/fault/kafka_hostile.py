#!/usr/bin/env python3
"""Hostile input against a live node's Kafka listener (tests/fault/kafka_hostile_test.sh).

Usage: kafka_hostile.py PID KAFKA_PORT MAX_CONNECTIONS REQUEST_MAX_BYTES

The Kafka encoding is written by hand (struct, standard library only), so
every byte sent is known. Each attack runs on its own connection(s); after
each one the node process must be alive and a fresh connection must get
ApiVersions v3 and Metadata v1 answered within 2 s (the sampler), while a
thread records the node's peak resident memory. Prints one line per attack
and exits non-zero with a FAIL line on the first failure. Random input is
seeded (AL_TEST_SEED, printed), so a failure can be replayed.
"""
import os
import random
import select
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import kafka_raw
from kafka_raw import (Reader, api_versions_v0, api_versions_v3, compact_string, fail, frame,
                       header_v1, header_v2, i8, i16, i32, i64, parse_api_versions,
                       parse_produce_v9, produce_v9, read_response, record_batch, string, uvarint)

PID, PORT, MAX_CONNECTIONS, MAX_BYTES = (int(x) for x in sys.argv[1:5])
SEED = int(os.environ.get("AL_TEST_SEED", str(int(time.time()) % 1000000)))
RNG = random.Random(SEED)
RSS_BUDGET_MIB = int(os.environ.get("RSS_BUDGET_MIB", "256"))
FUZZ_COUNT = int(os.environ.get("AL_FUZZ_COUNT", "1500"))  # random request bodies
SAMPLER_LIMIT_S = 2.0


kafka_raw.FAIL_NOTE = f" (seed {SEED}; rerun with AL_TEST_SEED={SEED})"


def alive():
    try:
        os.kill(PID, 0)
    except OSError:
        return False
    try:  # a zombie is dead too
        with open(f"/proc/{PID}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def rss_kib():
    try:
        with open(f"/proc/{PID}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak = 0
        self.stop = False

    def run(self):
        while not self.stop and alive():
            self.peak = max(self.peak, rss_kib())
            time.sleep(0.02)


def metadata_v1(corr, topics=None):
    body = i32(-1) if topics is None else i32(len(topics)) + b"".join(string(t) for t in topics)
    return frame(header_v1(3, 1, corr) + body)


def connect(timeout=2.0):
    return kafka_raw.connect(PORT, timeout)


def closed_by_node(s, limit_s):
    """(closed, bytes received): reads until EOF/reset or limit_s passes."""
    deadline = time.time() + limit_s
    got = bytearray()
    s.setblocking(False)
    while time.time() < deadline:
        r, _, _ = select.select([s], [], [], 0.05)
        if r:
            try:
                chunk = s.recv(65536)
                if not chunk:
                    return True, bytes(got)
                got += chunk
            except (ConnectionResetError, BrokenPipeError):
                return True, bytes(got)
            except BlockingIOError:
                pass
    return False, bytes(got)


def send_quietly(s, data):
    """sendall that tolerates the node closing first (it may refuse early)."""
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def expect_closed(s, what, limit_s=2.0, allow_answer=False):
    closed, got = closed_by_node(s, limit_s)
    s.close()
    if not closed:
        fail(f"{what}: the node kept the connection open for {limit_s} s")
    if got and not allow_answer:
        fail(f"{what}: expected the connection closed without an answer, got {len(got)} bytes: {got[:40].hex()}")
    return got


# ---- the sampler ------------------------------------------------------------------

SAMPLES = 0


def parse_metadata_v1(r):
    brokers = []
    for _ in range(r.i32()):
        node_id, host, port = r.i32(), r.string(), r.i32()
        r.string()  # rack
        brokers.append((node_id, host, port))
    r.i32()  # controller id
    topics = {}
    for _ in range(r.i32()):
        err, name = r.i16(), r.string()
        r.i8()  # is_internal
        parts = []
        for _ in range(r.i32()):
            perr, idx, leader = r.i16(), r.i32(), r.i32()
            replicas = [r.i32() for _ in range(r.i32())]
            isr = [r.i32() for _ in range(r.i32())]
            parts.append((perr, idx, leader, replicas, isr))
        topics[name] = (err, parts)
    r.done()
    return brokers, topics


def sampler(after):
    """A fresh connection: ApiVersions v3 then Metadata v1, both within 2 s."""
    global SAMPLES
    what = f"sampler after {after}"
    if not alive():
        fail(f"the node died ({after})")
    t0 = time.time()
    deadline = t0 + SAMPLER_LIMIT_S
    try:
        s = connect(timeout=SAMPLER_LIMIT_S)
    except OSError as e:
        fail(f"{what}: cannot connect to the Kafka listener: {e}")
    try:
        corr = 1000000 + SAMPLES
        s.sendall(api_versions_v3(corr))
        err, keys = parse_api_versions(read_response(s, deadline, what + " (ApiVersions v3)", corr), 3)
        if err != 0 or 3 not in keys or 18 not in keys:
            fail(f"{what}: ApiVersions v3 answered error {err}, keys {sorted(keys)}")
        s.sendall(metadata_v1(corr + 1))
        brokers, _ = parse_metadata_v1(read_response(s, deadline, what + " (Metadata v1)", corr + 1))
        if not any(p == PORT for _, _, p in brokers):
            fail(f"{what}: Metadata v1 lists brokers {brokers}, none on port {PORT}")
    except OSError as e:
        fail(f"{what}: {e}")
    finally:
        s.close()
    SAMPLES += 1
    return time.time() - t0


# ---- attacks ----------------------------------------------------------------------


def attack_sizes():
    for size, extra in [(0, b""), (5, b"abcde"), (-1, b"x" * 20), (2**31 - 1, b"y" * 64),
                        (2 * 1024 * 1024, header_v1(18, 0, 7) + b"z" * 4096),
                        (MAX_BYTES + 1, b"")]:
        s = connect()
        send_quietly(s, i32(size) + extra)
        expect_closed(s, f"a frame of size {size}")


def attack_half_frame_closed():
    for _ in range(10):
        s = connect()
        full = api_versions_v3(11)
        s.sendall(i32(1000) + full[4:])  # claims 1000 bytes, sends ~30
        s.close()
        s = connect()
        s.sendall(full[:len(full) // 2])  # stops inside the request header
        s.close()


HELD = []


def attack_half_frame_open():
    # Several stalled frames (one claiming the whole request limit), held
    # open through the following attacks; the node must go on serving.
    for claim in [100, 4096, MAX_BYTES]:
        s = connect()
        s.sendall(i32(claim) + header_v1(3, 1, 5)[:7])
        HELD.append(s)
    s = connect()
    s.sendall(api_versions_v0(5)[:2])  # inside the size field
    HELD.append(s)
    for _ in range(3):
        sampler("stalled frames held open")
    # Another client on a normal connection meanwhile: pipelined requests.
    s = connect()
    s.sendall(api_versions_v0(1) + metadata_v1(2))
    deadline = time.time() + 2
    parse_api_versions(read_response(s, deadline, "a client beside stalled frames", 1), 0)
    parse_metadata_v1(read_response(s, deadline, "a client beside stalled frames", 2))
    s.close()


def biased_bytes(n):
    """Random bytes, with 0x00/0x01/0xff and small values over-represented so
    length and count fields often look plausible to a decoder."""
    out = bytearray()
    for _ in range(n):
        c = RNG.random()
        if c < 0.3:
            out.append(0)
        elif c < 0.4:
            out.append(1)
        elif c < 0.5:
            out.append(0xFF)
        elif c < 0.6:
            out.append(RNG.randint(2, 16))
        else:
            out.append(RNG.getrandbits(8))
    return bytes(out)


def garbage_connection(data, what):
    """Sends data, then our FIN; the node must close within 3 s (answers
    before that are allowed: the garbage may happen to decode)."""
    s = connect()
    send_quietly(s, data)
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    expect_closed(s, what, limit_s=3.0, allow_answer=True)


def attack_random_garbage():
    lengths = [1, 2, 3, 4, 5, 8, 9, 10, 11, 13, 14, 15, 31, 64, 100, 255, 1000, 4096, 65536]
    lengths += [RNG.randint(1, 20000) for _ in range(20)]
    for i, n in enumerate(lengths):
        garbage_connection(bytes(RNG.getrandbits(8) for _ in range(n)), f"{n} random bytes")
        if i % 10 == 9:
            sampler("random bytes")
    # The same, each with a correct size prefix: garbage request headers.
    for i, n in enumerate(lengths):
        n = max(10, min(n, 20000))
        garbage_connection(frame(biased_bytes(n)), f"a {n}-byte frame of random bytes")
        if i % 10 == 9:
            sampler("framed random bytes")


# Every API the listener answers, at each version it takes, with a body of
# random bytes; the admin APIs that change state (create/delete topics,
# partitions, configs, groups) are left out so random bytes cannot create
# thousands of partitions.
FUZZ_APIS = {0: (0, 11), 1: (0, 12), 2: (0, 9), 3: (0, 12), 8: (0, 9), 9: (0, 7), 10: (0, 6),
             11: (0, 9), 12: (0, 4), 13: (0, 5), 14: (0, 5), 15: (0, 5), 16: (0, 5), 18: (0, 4),
             22: (0, 5), 32: (0, 4), 60: (0, 1)}
FLEXIBLE_FROM = {0: 9, 1: 12, 2: 6, 3: 9, 8: 8, 9: 6, 10: 3, 11: 6, 12: 4, 13: 4, 14: 4, 15: 5,
                 16: 3, 18: 3, 22: 2, 32: 4, 60: 0}


def attack_fuzz_bodies(count):
    pairs = [(k, v) for k, (lo, hi) in FUZZ_APIS.items() for v in range(lo, hi + 1)]
    for i in range(count):
        key, version = pairs[i % len(pairs)] if i < len(pairs) else RNG.choice(pairs)
        hdr = (header_v2 if version >= FLEXIBLE_FROM[key] else header_v1)(key, version, i)
        body = biased_bytes(RNG.choice([0, 1, 2, 3, 4, 7, 16, 40, 100, RNG.randint(0, 2000)]))
        garbage_connection(frame(hdr + body), f"API {key} v{version} with {len(body)} random body bytes "
                           f"({body[:32].hex()})")
        if i % 50 == 49:
            sampler(f"random bodies ({i + 1})")
    return f"{len(pairs)} API versions"


def attack_unknown_api_key():
    for key in [9999, -1, 17, 67, 32767]:
        s = connect()
        s.sendall(frame(header_v1(key, 0, 42)))
        expect_closed(s, f"a valid header with unknown API key {key}")


def attack_unsupported_versions():
    # Versions just past what ApiVersions advertises, for every API, and a
    # few far out; each on a flexible (v2) header as a real client would send.
    s = connect()
    s.sendall(api_versions_v0(40))
    _, keys = parse_api_versions(read_response(s, time.time() + 2, "ApiVersions v0", 40), 0)
    s.close()
    cases = [(0, 999), (0, -1), (0, 32767), (3, 999)] + [(k, hi + 1) for k, (lo, hi) in sorted(keys.items())
                                                         if k != 18]
    for key, version in cases:
        s = connect()
        s.sendall(frame(header_v2(key, version, 43) + b"\x00" * 16))
        expect_closed(s, f"API {key} v{version} (unsupported)")
    return f"{len(cases)} cases"


def attack_api_versions_too_new():
    s = connect()
    s.sendall(api_versions_v3(77, version=999))
    deadline = time.time() + 2
    err, keys = parse_api_versions(read_response(s, deadline, "ApiVersions v999", 77), 0)
    if err != 35:
        fail(f"ApiVersions v999 answered error_code {err}, expected 35 (UNSUPPORTED_VERSION)")
    if not keys or 18 not in keys or keys[18][1] < 3:
        fail(f"ApiVersions v999: the v0 answer's api_keys {keys} does not list ApiVersions up to v3")
    # The connection stays usable: the client retries with a version it found.
    s.sendall(api_versions_v3(78))
    err, keys3 = parse_api_versions(read_response(s, time.time() + 2, "ApiVersions v3 after v999", 78), 3)
    if err != 0 or keys3 != keys:
        fail(f"ApiVersions v3 after v999: error {err}, keys differ: {keys3} vs {keys}")
    s.close()
    # A null client id is legal (Kafka allows it).
    s = connect()
    s.sendall(frame(header_v1(18, 0, 79, client_id=None)))
    parse_api_versions(read_response(s, time.time() + 2, "ApiVersions v0 with a null client id", 79), 0)
    s.close()
    return f"{len(keys)} API ranges in the v0 answer"


def attack_bad_headers():
    bad = [
        ("a client id claiming 30000 bytes", i16(18) + i16(0) + i32(1) + i16(30000) + b"abc"),
        ("a client id of length -2", i16(18) + i16(0) + i32(1) + i16(-2) + b"abcdef"),
        ("a flexible header without its tagged fields", header_v1(3, 12, 1)),
        ("a flexible header with 2^31 tagged fields", header_v1(3, 12, 1) + uvarint(2**31)),
        ("a flexible header whose tagged field claims 1 GiB",
         header_v1(3, 12, 1) + uvarint(1) + uvarint(0) + uvarint(1 << 30) + b"x"),
        ("a flexible header with an unterminated varint", header_v1(3, 12, 1) + b"\xff" * 12),
    ]
    for what, payload in bad:
        s = connect()
        s.sendall(frame(payload))
        expect_closed(s, what)


def attack_metadata_garbled():
    cases = [
        ("Metadata v1 with no body", header_v1(3, 1, 5)),
        ("Metadata v1 whose topics array claims 3 and holds half a name",
         header_v1(3, 1, 5) + i32(3) + i16(100) + b"orders"),
        ("Metadata v1 whose topics array claims 2^31-1", header_v1(3, 1, 5) + i32(2**31 - 1)),
        ("Metadata v1 whose topic name is length -5", header_v1(3, 1, 5) + i32(1) + i16(-5)),
        ("Metadata v4 cut before allow_auto_topic_creation", header_v1(3, 4, 5) + i32(-1)),
        ("Metadata v9 whose compact topics array claims 2^32-2",
         header_v2(3, 9, 5) + uvarint(0xFFFFFFFF)),
        ("Metadata v12 whose topic name claims 1e9 bytes",
         header_v2(3, 12, 5) + uvarint(2) + b"\x00" * 16 + uvarint(10**9) + b"abc"),
        ("Metadata v12 with an unterminated varint", header_v2(3, 12, 5) + b"\x80" * 20),
    ]
    for what, payload in cases:
        s = connect()
        s.sendall(frame(payload))
        expect_closed(s, what)


def attack_produce_overclaim():
    batch = record_batch()
    results = []
    # 1. The records field (compact bytes) claims more bytes than the frame holds.
    for claim in [len(batch) + 1, 1000, 1 << 20, 2**31]:
        s = connect()
        s.sendall(produce_v9(61, uvarint(claim + 1) + batch))
        expect_closed(s, f"Produce v9 whose records claim {claim} bytes ({len(batch)} present)")
    results.append("records length over-claims: closed")
    # 2. The records field is consistent but the batch inside claims more
    # than the field holds: the request parses, the partition gets an error.
    for claim in [len(batch) + 100 - 12, 1 << 20, -1]:
        s = connect()
        s.sendall(produce_v9(62, uvarint(len(batch) + 1) + record_batch(claim)))
        closed, got = closed_by_node_until_frame(s, 5)
        s.close()
        if closed and not got:
            results.append(f"batchLength {claim}: closed")
            continue
        if closed is None:
            fail(f"Produce v9 with a batch claiming {claim} bytes: neither an answer nor a close in 5 s")
        size = struct.unpack(">i", got[:4])[0]
        if len(got) < 4 + size:
            fail(f"Produce v9 with a batch claiming {claim} bytes: truncated answer {got.hex()}")
        r = Reader(got[4:4 + size], f"Produce v9 answer (batch claims {claim})")
        corr = r.i32()
        r.tagged_fields()
        parts = parse_produce_v9(Reader(r.d[r.p:], r.what))
        if corr != 62 or not parts or any(err == 0 for _, _, err in parts):
            fail(f"Produce v9 with a batch claiming {claim} bytes was accepted: corr {corr}, {parts}")
        results.append(f"batchLength {claim}: error {parts[0][2]}")
    # 3. A well-formed batch for contrast: accepted (so the checks above were
    # refused for their lengths, not for something else). The test script
    # created topic "hostile".
    s = connect()
    s.sendall(produce_v9(63, uvarint(len(batch) + 1) + batch))
    r = read_response(s, time.time() + 10, "a well-formed Produce v9", 63, header_version=1)
    parts = parse_produce_v9(r)
    s.close()
    if parts != [("hostile", 0, 0)]:
        fail(f"a well-formed Produce v9 was not accepted: {parts}")
    return "; ".join(results)


def attack_pipelined(n=1000):
    base = RNG.randint(0, 2**30)
    s = connect()
    s.sendall(b"".join(api_versions_v0(base + i) for i in range(n)))
    deadline = time.time() + 20
    for i in range(n):
        err, keys = parse_api_versions(read_response(s, deadline, f"pipelined ApiVersions #{i}", base + i), 0)
        if err != 0 or 18 not in keys:
            fail(f"pipelined ApiVersions #{i}: error {err}")
    s.close()


def attack_pipelined_mixed(n=200):
    """Metadata (answered through the gateway, later) and ApiVersions
    (answered at once) alternating, pipelined: more than the 32 requests a
    connection may have in flight, so reading pauses and must resume."""
    s = connect()
    s.sendall(b"".join(metadata_v1(i) if i % 2 else api_versions_v3(i) for i in range(n)))
    deadline = time.time() + 10
    for i in range(n):
        what = (f"{n} pipelined Metadata v1/ApiVersions v3 requests: answer #{i} (the connection "
                f"stalled after {i} answers)")
        r = read_response(s, deadline, what, i)
        if i % 2:
            parse_metadata_v1(r)
        else:
            parse_api_versions(r, 3)
    s.close()


def answered(s, corr, limit_s=3.0):
    """True if ApiVersions v0 is answered on s, False if the node closed it."""
    send_quietly(s, api_versions_v0(corr))
    closed, got = closed_by_node_until_frame(s, limit_s)
    if closed is None:
        fail(f"connection {corr}: neither answered nor closed in {limit_s} s")
    return not closed


def closed_by_node_until_frame(s, limit_s):
    """(False, bytes) once a whole frame arrived, (True, bytes) on EOF/reset, (None, ...) on timeout."""
    deadline = time.time() + limit_s
    got = bytearray()
    s.setblocking(False)
    while time.time() < deadline:
        if len(got) >= 4 and len(got) >= 4 + struct.unpack(">i", got[:4])[0]:
            return False, bytes(got)
        r, _, _ = select.select([s], [], [], 0.05)
        if r:
            try:
                chunk = s.recv(65536)
                if not chunk:
                    return True, bytes(got)
                got += chunk
            except (ConnectionResetError, BrokenPipeError):
                return True, bytes(got)
            except BlockingIOError:
                pass
    return None, bytes(got)


def attack_max_connections():
    extra = 10
    for attempt in range(3):
        # Earlier connections' closes are counted asynchronously: a lagging
        # count may refuse a few more than 10 once; a second try settles it.
        socks = [connect() for _ in range(MAX_CONNECTIONS + extra)]
        ok = [answered(s, i) for i, s in enumerate(socks)]
        n_ok = sum(ok)
        if n_ok == MAX_CONNECTIONS or attempt == 2:
            break
        for s in socks:
            s.close()
        wait_for_a_slot()
        time.sleep(0.5)
    if n_ok != MAX_CONNECTIONS:
        fail(f"{MAX_CONNECTIONS + extra} connections at once: {n_ok} served, expected max.connections = "
             f"{MAX_CONNECTIONS} (served: {[i for i, o in enumerate(ok) if o]})")
    if any(ok[MAX_CONNECTIONS:]) or not all(ok[:MAX_CONNECTIONS]):
        fail(f"the first {MAX_CONNECTIONS} connections should be the served ones: {ok}")
    for s in socks:
        s.close()
    # The slots come back: first one connection within 2 s, then a full set.
    wait_for_a_slot()
    socks = [connect() for _ in range(MAX_CONNECTIONS)]
    for attempt in range(40):
        ok = [answered(s, i) for i, s in enumerate(socks)]
        if all(ok):
            break
        # A slot freed by a close is given back asynchronously: retry the refused ones.
        for i, o in enumerate(ok):
            if not o:
                socks[i].close()
                socks[i] = connect()
        time.sleep(0.05)
    else:
        fail(f"after closing the connections, only {sum(ok)} of {MAX_CONNECTIONS} new ones are served "
             "(the connection count leaks)")
    for s in socks:
        s.close()
    wait_for_a_slot()  # before the sampler: closes are counted asynchronously


def wait_for_a_slot():
    deadline = time.time() + 2
    while True:
        s = connect()
        if answered(s, 0):
            s.close()
            return
        s.close()
        if time.time() > deadline:
            fail("after closing all connections, a new one is still refused after 2 s")
        time.sleep(0.05)


def main():
    print(f"kafka_hostile: seed {SEED} (AL_TEST_SEED), port {PORT}, max.connections {MAX_CONNECTIONS}, "
          f"socket.request.max.bytes {MAX_BYTES}", flush=True)
    start = rss_kib()
    rss = RssSampler()
    rss.start()
    sampler("start")
    attacks = [
        ("frame sizes 0, 5, -1, 2^31-1, 2 MiB and max+1: closed", attack_sizes),
        ("frames that stop halfway, then the socket closes (20)", attack_half_frame_closed),
        ("frames that stop halfway, sockets held open: others are served", attack_half_frame_open),
        ("random bytes and randomly framed bytes (78 connections)", attack_random_garbage),
        (f"random request bodies for every API and version ({FUZZ_COUNT} connections)",
         lambda: attack_fuzz_bodies(FUZZ_COUNT)),
        ("valid headers with unknown API keys 9999, -1, 17, 67, 32767: closed", attack_unknown_api_key),
        ("valid headers with unsupported versions (Produce v999/v-1/v32767, every API at max+1): closed",
         attack_unsupported_versions),
        ("ApiVersions v999: a v0 answer with error 35 and the API ranges", attack_api_versions_too_new),
        ("bad request headers (client id over-claims, flexible header garbage): closed",
         attack_bad_headers),
        ("Metadata headers with truncated or garbled bodies: closed", attack_metadata_garbled),
        ("Produce v9 whose records claim more bytes than remain", attack_produce_overclaim),
        ("1000 pipelined ApiVersions v0 on one connection, read back in order", attack_pipelined),
        ("200 pipelined Metadata v1/ApiVersions v3 on one connection, in order", attack_pipelined_mixed),
    ]
    for name, run in attacks:
        t0 = time.time()
        note = run()
        took = time.time() - t0
        if not alive():
            fail(f"the node died during: {name}")
        lat = sampler(name)
        extra = "" if note is None else f", {note}"
        print(f"ok   {name} ({took:.1f} s{extra}; sampler {lat * 1000:.0f} ms, "
              f"peak RSS {rss.peak // 1024} MiB)", flush=True)
    for s in HELD:
        s.close()
    HELD.clear()
    time.sleep(0.3)  # the held connections' slots are given back asynchronously
    t0 = time.time()
    attack_max_connections()
    lat = sampler("max.connections")
    print(f"ok   {MAX_CONNECTIONS}+10 connections at once: {MAX_CONNECTIONS} served, 10 closed; "
          f"after closing them {MAX_CONNECTIONS} new ones served ({time.time() - t0:.1f} s; "
          f"sampler {lat * 1000:.0f} ms)", flush=True)
    rss.stop = True
    rss.join()
    grown = (rss.peak - start) // 1024
    print(f"RSS: start {start // 1024} MiB, peak {rss.peak // 1024} MiB (+{grown} MiB, budget {RSS_BUDGET_MIB})")
    if grown > RSS_BUDGET_MIB:
        fail(f"peak RSS grew by {grown} MiB, more than {RSS_BUDGET_MIB} MiB")
    print(f"kafka_hostile: {SAMPLES} sampler round trips, all answered within {SAMPLER_LIMIT_S} s")


if __name__ == "__main__":
    main()
