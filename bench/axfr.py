#!/usr/bin/env python3
"""A lean AXFR client for bench/compare.sh: asks for a zone over TCP and reads the messages without decoding the
records, so that the client costs little CPU beside the server measured. The first message is decoded (dnspython) for
the zone's SOA; the transfer ends with the message whose last octets are that SOA's RDATA (RFC 5936 §2.2: the SOA
closes the transfer). Prints "messages octets seconds"; exits 1 on a refusal, an error or a timeout."""
import socket, struct, sys, time
import dns.message, dns.rdatatype, dns.rrset

def main():
    port, zone = int(sys.argv[1]), sys.argv[2]
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 120.0
    query = dns.message.make_query(zone, dns.rdatatype.AXFR)
    wire = query.to_wire()
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        reader = s.makefile("rb", buffering=1 << 20)
        messages = octets = 0
        tail = None
        while time.monotonic() - started < timeout:
            head = reader.read(2)
            if len(head) < 2:
                sys.exit("axfr.py: the server closed the connection before the closing SOA")
            (length,) = struct.unpack("!H", head)
            message = reader.read(length)
            messages += 1
            octets += 2 + length
            if tail is None:
                first = dns.message.from_wire(message, xfr=True, one_rr_per_rrset=True)
                if first.rcode() != 0 or not first.answer or first.answer[0].rdtype != dns.rdatatype.SOA:
                    sys.exit(f"axfr.py: the first message is not a SOA answer (rcode {first.rcode()})")
                tail = first.answer[0][0].to_wire()[-20:]
                if len(first.answer) > 1 and first.answer[-1].rdtype == dns.rdatatype.SOA:
                    break
                continue
            if message.endswith(tail):
                break
        else:
            sys.exit("axfr.py: timed out")
    print(messages, octets, f"{time.monotonic() - started:.3f}")

main()
