"""Kafka's wire encoding written by hand (struct, standard library only), for
the raw-protocol tests (kafka_hostile.py, kafka_versions.py, kafka_txn.py): every byte sent
is known, and an answer is read field by field.

Failures print one FAIL line (plus FAIL_NOTE, e.g. a random seed) and exit 1.
"""
import socket
import struct
import sys
import time

FAIL_NOTE = ""  # appended to every FAIL line


def fail(msg):
    print(f"FAIL: {msg}{FAIL_NOTE}", flush=True)
    sys.exit(1)


# ---- encoding -------------------------------------------------------------------


def i8(v):
    return struct.pack(">b", v)


def i16(v):
    return struct.pack(">h", v)


def i32(v):
    return struct.pack(">i", v)


def i64(v):
    return struct.pack(">q", v)


def string(s):
    """int16 length + bytes; None is the null string (-1)."""
    if s is None:
        return i16(-1)
    b = s.encode() if isinstance(s, str) else s
    return i16(len(b)) + b


def uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def compact_string(s):
    if s is None:
        return uvarint(0)
    b = s.encode() if isinstance(s, str) else s
    return uvarint(len(b) + 1) + b


def compact_array(items):
    """A compact array of already encoded items; None is the null array."""
    if items is None:
        return uvarint(0)
    return uvarint(len(items) + 1) + b"".join(items)


def tagged(fields):
    """Tagged fields {tag: encoded value}, in tag order (as Kafka requires)."""
    out = uvarint(len(fields))
    for tag in sorted(fields):
        out += uvarint(tag) + uvarint(len(fields[tag])) + fields[tag]
    return out


def header_v1(api_key, version, corr, client_id="kafka-hostile"):
    return i16(api_key) + i16(version) + i32(corr) + string(client_id)


def header_v2(api_key, version, corr, client_id="kafka-hostile"):
    return header_v1(api_key, version, corr, client_id) + uvarint(0)  # no tagged fields


def frame(payload):
    return i32(len(payload)) + payload


def api_versions_v0(corr):
    return frame(header_v1(18, 0, corr))


def api_versions_v3(corr, version=3):
    body = compact_string("kafka-hostile") + compact_string("1.0") + uvarint(0)
    return frame(header_v2(18, version, corr) + body)


# ---- decoding -------------------------------------------------------------------


class Reader:
    def __init__(self, data, what):
        self.d, self.p, self.what = data, 0, what

    def take(self, n):
        if n < 0 or self.p + n > len(self.d):
            fail(f"{self.what}: answer truncated at byte {self.p} (wanted {n} more of {len(self.d)})")
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def uuid(self):
        return self.take(16)

    def uvarint(self):
        n, shift = 0, 0
        while True:
            b = self.take(1)[0]
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def compact_string(self):
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1).decode()

    def compact_bytes(self):
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1)

    def compact_array(self, item):
        """[item(self), ...] or None for the null array."""
        n = self.uvarint()
        return None if n == 0 else [item(self) for _ in range(n - 1)]

    def tagged_fields(self):
        """{tag: raw bytes}"""
        out = {}
        for _ in range(self.uvarint()):
            tag = self.uvarint()
            out[tag] = self.take(self.uvarint())
        return out

    def done(self):
        if self.p != len(self.d):
            fail(f"{self.what}: {len(self.d) - self.p} unexpected bytes after the answer")


def connect(port, timeout=2.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(s, n, deadline, what):
    buf = bytearray()
    while len(buf) < n:
        left = deadline - time.time()
        if left <= 0:
            fail(f"{what}: no complete answer in time ({len(buf)} of {n} bytes)")
        s.settimeout(left)
        try:
            chunk = s.recv(n - len(buf))
        except socket.timeout:
            fail(f"{what}: no complete answer in time ({len(buf)} of {n} bytes)")
        except OSError as e:
            fail(f"{what}: connection broken while reading the answer: {e}")
        if not chunk:
            fail(f"{what}: the node closed the connection instead of answering ({len(buf)} of {n} bytes)")
        buf += chunk
    return bytes(buf)


def read_response(s, deadline, what, corr, header_version=0):
    """One response frame; checks the correlation id; returns the body."""
    size = struct.unpack(">i", recv_exact(s, 4, deadline, what))[0]
    if size < 4 or size > 64 << 20:
        fail(f"{what}: answer frame size {size}")
    data = recv_exact(s, size, deadline, what)
    got = struct.unpack(">i", data[:4])[0]
    if got != corr:
        fail(f"{what}: correlation id {got} in the answer, expected {corr}")
    r = Reader(data[4:], what)
    if header_version >= 1:
        r.tagged_fields()
    return Reader(r.d[r.p:], what)


def parse_api_versions(r, version):
    err = r.i16()
    keys = {}
    n = r.uvarint() - 1 if version >= 3 else r.i32()
    if n < 0:
        fail(f"{r.what}: null api_keys array")
    for _ in range(n):
        k, lo, hi = r.i16(), r.i16(), r.i16()
        if version >= 3:
            r.tagged_fields()
        keys[k] = (lo, hi)
    if version >= 1:
        r.i32()  # throttle_time_ms
    if version >= 3:
        r.tagged_fields()
    r.done()
    return err, keys


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def record_batch(records_claim=None, producer_id=-1, producer_epoch=-1, base_sequence=-1,
                 transactional=False):
    """A v2 record batch with one record (value "hostile", null key, valid
    CRC-32C); records_claim overrides batchLength; a producer id, epoch and
    sequence, and the transactional attribute (bit 4) when given."""
    # attributes, timestamp delta, offset delta, key length -1, value length 7, value, no headers
    rec_body = i8(0) + b"\x00" + b"\x00" + b"\x01" + b"\x0e" + b"hostile" + b"\x00"
    rec = bytes([len(rec_body) * 2]) + rec_body  # zigzag varint length (< 64)
    now = int(time.time() * 1000)
    attributes = 0x10 if transactional else 0
    crc_part = (i16(attributes) + i32(0) + i64(now) + i64(now) + i64(producer_id) +
                i16(producer_epoch) + i32(base_sequence) + i32(1) + rec)
    after_len = i32(0) + i8(2) + struct.pack(">I", crc32c(crc_part)) + crc_part
    length = len(after_len) if records_claim is None else records_claim
    return i64(0) + i32(length) + after_len


def produce_v9(corr, records_field, topic="hostile", partition=0, transactional_id=None):
    """Produce v9, acks -1, one partition; records_field is the compact
    records bytes (length prefix included)."""
    txn = uvarint(0) if transactional_id is None else compact_string(transactional_id)
    body = (txn + i16(-1) + i32(5000)
            + uvarint(2) + compact_string(topic) + uvarint(2) + i32(partition) + records_field
            + uvarint(0) + uvarint(0) + uvarint(0))
    return frame(header_v2(0, 9, corr) + body)


def parse_produce_v9(r):
    """[(topic, partition, error_code)]"""
    out = []
    for _ in range(r.uvarint() - 1):
        name = r.compact_string()
        for _ in range(r.uvarint() - 1):
            idx, err = r.i32(), r.i16()
            r.i64(), r.i64(), r.i64()
            for _ in range(r.uvarint() - 1):
                r.i32()
                r.compact_string()
                r.tagged_fields()
            r.compact_string()
            r.tagged_fields()
            out.append((name, idx, err))
        r.tagged_fields()
    r.i32()
    r.tagged_fields()
    r.done()
    return out
