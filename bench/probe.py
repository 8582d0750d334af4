#!/usr/bin/env python3
"""Waits until a DNS server on 127.0.0.1 answers NAME A with ADDRESS; exits 0 then, 1 after TIMEOUT seconds.

    probe.py PORT NAME ADDRESS TIMEOUT

compare.sh times zone loads with it. One process asks every 10 ms and waits 50 ms for each answer: kdig's shortest
timeout is a whole second, and a query sent before the server binds its port is silently lost (an unconnected UDP
socket is not told of the ICMP port-unreachable), so kdig in a loop can overstate a load by up to a second.
Only the standard library is used, so Debian's /usr/bin/python3 runs it.
"""

import random
import socket
import struct
import sys
import time


def query(name, qid):
    header = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)  # RD clear: an authoritative server is asked
    labels = b"".join(bytes([len(l)]) + l.encode("ascii") for l in name.rstrip(".").split("."))
    return header + labels + b"\x00" + struct.pack(">HH", 1, 1)  # A, IN


def right(reply, qid, address):
    """NOERROR, AA, at least one answer, and the address among the answer's octets."""
    if len(reply) < 12:
        return False
    rid, flags, _, ancount = struct.unpack(">HHHH", reply[:8])
    return rid == qid and flags & 0x0400 and flags & 0x000F == 0 and ancount > 0 and address in reply[12:]


def main():
    port, name, address, timeout = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
    wanted = socket.inet_aton(address)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        qid = random.randrange(1 << 16)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.05)
            try:
                s.sendto(query(name, qid), ("127.0.0.1", port))
                while True:
                    reply = s.recv(4096)
                    if right(reply, qid, wanted):
                        return 0
                    if len(reply) >= 2 and struct.unpack(">H", reply[:2])[0] == qid:
                        break  # answered, not yet rightly (SERVFAIL while loading, say)
            except OSError:
                pass  # timed out, or refused
        time.sleep(0.01)
    return 1


if __name__ == "__main__":
    sys.exit(main())
