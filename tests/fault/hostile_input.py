#!/usr/bin/env python3
"""Hostile network input against a live actorlog node (tests/fault/hostile_input_test.sh).

Usage: hostile_input.py PID CLIENT_PORT PEER_PORT FRAME_TIMEOUT_MS

Each attack runs against the node's listeners while a sampler records the
node's resident memory; every connection must be closed by the node (or
stay harmless), the process must stay alive, and the peak RSS must stay
below a bound. Prints one line per attack and exits non-zero on the first
failure. Seeded (AL_TEST_SEED), so a failure can be replayed.
"""
import os
import random
import resource
import select
import socket
import struct
import sys
import threading
import time

from kafka_raw import uvarint

PID, CLIENT, PEER, FRAME_TIMEOUT_MS = (int(x) for x in sys.argv[1:5])
SEED = int(os.environ.get("AL_TEST_SEED", "20261205"))
RNG = random.Random(SEED)
# Peak RSS allowed above the start (MiB): the node's buffers for the attacks
# are bounded by queued.max.request.bytes (set low by the test) and frames.
RSS_BUDGET_MIB = int(os.environ.get("RSS_BUDGET_MIB", "256"))


def rss_kib():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def alive():
    try:
        os.kill(PID, 0)
        return True
    except OSError:
        return False


class Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak = 0
        self.stop = False

    def run(self):
        while not self.stop and alive():
            self.peak = max(self.peak, rss_kib())
            time.sleep(0.02)


def fail(msg):
    print(f"FAIL: {msg} (seed {SEED}; rerun with AL_TEST_SEED={SEED})", flush=True)
    sys.exit(1)


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def closed_by_node(s, limit_s):
    """True once the node closed `s` (EOF or reset) within limit_s."""
    deadline = time.time() + limit_s
    s.setblocking(False)
    while time.time() < deadline:
        r, _, _ = select.select([s], [], [], 0.05)
        if r:
            try:
                if not s.recv(65536):
                    return True
            except (ConnectionResetError, BrokenPipeError):
                return True
            except BlockingIOError:
                pass
    return False


def header(op, payload_len, dest=0):
    return struct.pack(">BBBBIQQQ", op, 0, 0, 0, payload_len, 0, 0, dest)


def atom(s):
    table = " 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
    x = 0xF
    for c in s:
        x = (x << 6) | table.index(c)
    return x


# CAF's varbyte (a length or count in its binary serializer) is the same
# unsigned LEB128 as Kafka's unsigned varint.
varbyte = uvarint


def attack_random_bytes(port, n):
    for _ in range(n):
        s = connect(port)
        s.sendall(bytes(RNG.getrandbits(8) for _ in range(RNG.randint(1, 4096))))
        # Fewer than 32 bytes is not a header yet: the frame timeout closes it.
        if not closed_by_node(s, FRAME_TIMEOUT_MS / 1000 + 5):
            fail(f"random bytes on port {port}: connection still open")
        s.close()


def attack_stalled_handshakes(port, n):
    socks = []
    for i in range(n):
        s = connect(port)
        if i % 2:
            s.sendall(header(1, 100)[:20])  # stops inside the header
        else:
            s.sendall(header(1, 100) + b"x" * 10)  # stops inside the payload
        socks.append(s)
    for s in socks:
        if not closed_by_node(s, FRAME_TIMEOUT_MS / 1000 + 5):
            fail(f"a handshake stalled on port {port} was not closed after socket.frame.timeout.ms")
        s.close()


def attack_huge_claims(port, n):
    # The header that made CAF 0.17 allocate 1 GiB before any check.
    for _ in range(n):
        s = connect(port)
        s.sendall(header(1, 1 << 30))
        if not closed_by_node(s, 5):
            fail(f"a 1 GiB handshake header on port {port} was not refused")
        s.close()


def attack_many_connections(port, n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 256)), hard))
    socks = [connect(port) for _ in range(n)]
    for s in socks:
        s.close()


def caf_handshake(port):
    """A real CAF 0.17 client handshake; returns the socket and the published actor id."""
    s = connect(port)
    s.settimeout(5)
    hdr = b""
    while len(hdr) < 32:
        hdr += s.recv(32 - len(hdr))
    op, _, _, _, plen, _, _, _ = struct.unpack(">BBBBIQQQ", hdr)
    if op != 0:
        fail(f"expected the server handshake, got operation {op}")
    payload = b""
    while len(payload) < plen:
        payload += s.recv(plen - len(payload))
    # node id | app ids | published actor id | interface
    pos = 8
    if struct.unpack(">Q", payload[:8])[0] == atom("default"):
        pos += 24
    count, shift = 0, 0
    while True:  # app ids: a list of strings
        b = payload[pos]
        pos += 1
        count |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    for _ in range(count):
        n, shift = 0, 0
        while True:
            b = payload[pos]
            pos += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        pos += n
    aid = struct.unpack(">Q", payload[pos:pos + 8])[0]
    me = struct.pack(">QI", atom("default"), 4242) + bytes(RNG.getrandbits(8) for _ in range(20))
    s.sendall(header(1, len(me)) + me)
    return s, aid


def attack_claimed_vector(port):
    # After a valid handshake: a message whose std::vector<char> element
    # claims 4 GiB (CAF 0.17 resizes before checking). The client listener
    # refuses the type; the connection closes.
    s, aid = caf_handshake(port)
    types = b"@<>+@atom+@charbuf"
    body = varbyte(0) + struct.pack(">H", 0) + varbyte(len(types)) + types
    body += struct.pack(">Q", atom("produce")) + varbyte(0xFFFFFFFF)
    s.sendall(header(2, len(body), aid) + body)
    if not closed_by_node(s, 5):
        fail("a message with a 4 GiB std::vector<char> claim was not refused")
    s.close()


def main():
    start = rss_kib()
    sampler = Sampler()
    sampler.start()
    attacks = [
        ("random bytes on the client listener (60 connections)", lambda: attack_random_bytes(CLIENT, 60)),
        ("random bytes on the peer listener (20 connections)", lambda: attack_random_bytes(PEER, 20)),
        ("stalled handshakes (20 on each listener)",
         lambda: (attack_stalled_handshakes(CLIENT, 20), attack_stalled_handshakes(PEER, 20))),
        ("1 GiB handshake headers (20 on each listener)",
         lambda: (attack_huge_claims(CLIENT, 20), attack_huge_claims(PEER, 20))),
        ("1000 connections opened and dropped", lambda: attack_many_connections(CLIENT, 1000)),
        ("a 4 GiB std::vector<char> claim after a CAF handshake", lambda: attack_claimed_vector(CLIENT)),
    ]
    for name, run in attacks:
        t0 = time.time()
        run()
        if not alive():
            fail(f"node died during: {name}")
        print(f"ok   {name} ({time.time() - t0:.1f} s, peak RSS {sampler.peak // 1024} MiB)", flush=True)
    sampler.stop = True
    sampler.join()
    grown = (sampler.peak - start) // 1024
    print(f"RSS: start {start // 1024} MiB, peak {sampler.peak // 1024} MiB (+{grown} MiB, budget {RSS_BUDGET_MIB})")
    if grown > RSS_BUDGET_MIB:
        fail(f"peak RSS grew by {grown} MiB, more than {RSS_BUDGET_MIB} MiB")


if __name__ == "__main__":
    main()
