#!/usr/bin/env python3
"""Recording TCP proxy for Kafka requests (Python 3 standard library only).

    capture.py --listen 127.0.0.1:19300 --upstream 127.0.0.1:19301 \
               --out tests/data/kafka-requests --client librdkafka-2.0.2

Listens on --listen and forwards every accepted connection to --upstream (a
Kafka listener), copying bytes both ways unchanged. Every size-prefixed
request frame the client sends is parsed (int16 api_key, int16 api_version at
the start of the request header) and its bytes AFTER the 4-byte size prefix
are written to

    <out>/<client>-<api name>-v<version>.bin

keeping the first frame seen per (client, api, version): an existing file is
never overwritten, so re-runs only add missing files. The client label is
read from <out>/.capture-client at the moment a connection is accepted (the
driver script, capture_clients.sh, writes it before starting each client), or
from --client if that file does not exist.

Frames larger than --max-frame bytes (default 16384) are forwarded but not
recorded, so the committed data stays small.

Run the broker with advertised.listeners pointing at the proxy so the
clients' follow-up connections (after Metadata) also go through it.
"""
import argparse
import os
import socket
import sys
import threading

API_NAMES = {
    0: "produce", 1: "fetch", 2: "listoffsets", 3: "metadata",
    8: "offsetcommit", 9: "offsetfetch", 10: "findcoordinator",
    11: "joingroup", 12: "heartbeat", 13: "leavegroup", 14: "syncgroup",
    15: "describegroups", 16: "listgroups", 17: "saslhandshake",
    18: "apiversions", 19: "createtopics", 20: "deletetopics",
    21: "deleterecords", 22: "initproducerid", 23: "offsetforleaderepoch",
    24: "addpartitionstotxn", 25: "addoffsetstotxn", 26: "endtxn",
    28: "txnoffsetcommit", 29: "describeacls", 32: "describeconfigs",
    33: "alterconfigs", 35: "describelogdirs", 36: "saslauthenticate",
    37: "createpartitions", 42: "deletegroups", 44: "incrementalalterconfigs",
    60: "describecluster", 61: "describeproducers",
    65: "describetransactions", 66: "listtransactions",
}

_lock = threading.Lock()


def log(msg):
    sys.stderr.write("capture: %s\n" % msg)
    sys.stderr.flush()


def api_name(key):
    return API_NAMES.get(key, "api%d" % key)


def record(args, client, frame):
    if len(frame) < 4:
        return
    key = int.from_bytes(frame[0:2], "big", signed=True)
    version = int.from_bytes(frame[2:4], "big", signed=True)
    name = "%s-%s-v%d.bin" % (client, api_name(key), version)
    path = os.path.join(args.out, name)
    with _lock:
        if os.path.exists(path):
            return
        if len(frame) > args.max_frame:
            log("not recording %s: %d bytes > --max-frame" % (name, len(frame)))
            return
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(frame)
        os.replace(tmp, path)
    log("recorded %s (%d bytes)" % (name, len(frame)))


def client_label(args):
    try:
        with open(os.path.join(args.out, ".capture-client")) as f:
            label = f.read().strip()
            if label:
                return label
    except OSError:
        pass
    return args.client


def pump(src, dst, seen=None):
    """Forwards src to dst unchanged (calling seen(data) on each chunk) until
    either side closes, then shuts both down."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            if seen:
                seen(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def pump_requests(args, client, src, dst):
    """Client -> broker: forward unchanged, and record each complete frame."""
    buf = bytearray()

    def frames(data):
        buf.extend(data)
        while len(buf) >= 4:
            size = int.from_bytes(buf[0:4], "big", signed=True)
            if size < 0 or len(buf) < 4 + size:
                break
            record(args, client, bytes(buf[4:4 + size]))
            del buf[:4 + size]

    pump(src, dst, frames)


def handle(args, conn):
    client = client_label(args)
    host, port = args.upstream.rsplit(":", 1)
    try:
        up = socket.create_connection((host, int(port)))
    except OSError as e:
        log("upstream %s: %s" % (args.upstream, e))
        conn.close()
        return
    for s in (conn, up):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t1 = threading.Thread(target=pump_requests, args=(args, client, conn, up), daemon=True)
    t2 = threading.Thread(target=pump, args=(up, conn), daemon=True)  # broker -> client
    t1.start()
    t2.start()
    t1.join()
    t2.join()
    conn.close()
    up.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", required=True, help="host:port to accept clients on")
    p.add_argument("--upstream", required=True, help="host:port of the Kafka listener")
    p.add_argument("--out", required=True, help="directory for the .bin files")
    p.add_argument("--client", default="unknown", help="label if <out>/.capture-client is absent")
    p.add_argument("--max-frame", type=int, default=16384)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    host, port = args.listen.rsplit(":", 1)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, int(port)))
    srv.listen(64)
    log("listening on %s -> %s, writing to %s" % (args.listen, args.upstream, args.out))
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(args, conn), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
