#!/usr/bin/env python3
"""Asks a DNS server on 127.0.0.1 one query every millisecond and reports the longest wait for an answer.

    pause.py PORT NAME SECONDS [STOPFILE]

With STOPFILE, it stops sending as soon as that file exists (checked every 50 ms), at the latest after SECONDS: the
caller ends the measurement when what it waited for happened. Prints "queries N answered N lost N longest_ms X over50ms N p99_ms X": a reload that pauses answering shows as one
long wait (the queries sent during the pause wait in the socket buffer and are answered together after it). Each
query waits at most 1 s; one is sent every millisecond whether or not the last was answered (up to 1,000 in flight),
so a pause is measured from the first query it held up. Only the standard library: Debian's /usr/bin/python3 runs it.
"""

import os
import select
import socket
import struct
import sys
import time


def query(name, qid):
    header = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
    labels = b"".join(bytes([len(l)]) + l.encode("ascii") for l in name.rstrip(".").split("."))
    return header + labels + b"\x00" + struct.pack(">HH", 1, 1)


def main():
    port, name, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    stop_file = sys.argv[4] if len(sys.argv) > 4 else None
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sock.connect(("127.0.0.1", port))
    sent = {}
    waits = []
    qid = 0
    start = time.monotonic()
    next_send = start
    end = start + seconds
    checked = start
    while True:
        now = time.monotonic()
        if stop_file is not None and now < end and now - checked >= 0.05:
            checked = now
            if os.path.exists(stop_file):
                end = now
        if now >= next_send and now < end:
            qid = (qid + 1) & 0xFFFF
            sent[qid] = now
            sock.send(query(name, qid))
            next_send += 0.001
        if now >= end + 1.0 or (now >= end and not sent):
            break
        timeout = max(0.0, min(next_send, end + 1.0) - now) if now < end else 0.05
        ready, _, _ = select.select([sock], [], [], timeout)
        if ready:
            try:
                reply = sock.recv(4096)
            except ConnectionRefusedError:
                continue
            if len(reply) >= 2:
                rid = struct.unpack(">H", reply[:2])[0]
                t = sent.pop(rid, None)
                if t is not None:
                    waits.append(time.monotonic() - t)
        # Queries unanswered for a second are lost.
        for k in [k for k, t in sent.items() if now - t > 1.0]:
            del sent[k]
    total = qid
    waits.sort()
    longest = waits[-1] * 1000 if waits else 0
    p99 = waits[int(len(waits) * 0.99)] * 1000 if waits else 0
    over = sum(1 for w in waits if w > 0.05)
    print("queries %d answered %d lost %d longest_ms %.1f over50ms %d p99_ms %.2f" % (total, len(waits), total - len(waits), longest, over, p99))


if __name__ == "__main__":
    main()
