#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/): real queries made with dnspython (Debian
python3-dnspython) from the differential tests' query lists, and the edge cases the targets must survive.

    /usr/bin/python3 fuzz/corpus/make-seeds.py        # rewrites respond/, edns/ and zonefile/ beside this file

Input formats (fuzz/AnycastDns.Fuzz): respond = 1 octet (bit 0 TCP, bit 1 the second server configuration, bit 2 the
rate-limiting slip, bit 3 an IPv6 client) + the query; edns = that octet (bits 4-5 pick the fixed question) + ARCOUNT +
the additional section; zonefile = the zone file
fuzz.test.zone. Crashes that were found and fixed are kept in regressions/<target>/ and are not rewritten here."""

import os
import shutil
import struct
import subprocess
import sys
import tempfile

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rdataclass
import dns.rdatatype

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TCP, SECOND, LIMITED, V6 = 1, 2, 4, 8
Q = 16  # edns: the question index times this


def query_lists():
    """(name, type, class, flags) of the differential tests' queries: the first two of each commented group."""
    picked = []
    for path in ("tests/zones/queries.txt", "tests/zones-dnssec/queries.txt"):
        in_group = 0
        for line in open(os.path.join(ROOT, path), encoding="utf-8"):
            line = line.strip()
            if not line or line.startswith("#"):
                in_group = 0
                continue
            in_group += 1
            if in_group > 2:
                continue
            fields = line.split()
            name, rdtype = fields[0], fields[1]
            rest = fields[2:]
            rdclass = "IN"
            if rest and (rest[0] in ("IN", "CH", "HS", "ANY") or rest[0].startswith("CLASS")):
                rdclass, rest = rest[0], rest[1:]
            picked.append((name, rdtype, rdclass, set(rest), path.endswith("dnssec/queries.txt")))
    return picked


def make(name, rdtype, rdclass="IN", edns=True, do=False, payload=1232, options=(), qid=0x1234):
    q = dns.message.make_query(name, rdtype, rdclass, use_edns=0 if edns else None, want_dnssec=do,
                               payload=payload, options=list(options))
    q.id = qid
    return q.to_wire()


def header(qid=0x1234, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def name(text):
    return dns.name.from_text(text).to_wire()


def opt(payload=1232, ext=0, version=0, do=False, rdata=b"", owner=b"\x00"):
    ttl = (ext << 24) | (version << 16) | (0x8000 if do else 0)
    return owner + struct.pack(">HHIH", 41, payload, ttl, len(rdata)) + rdata


def option(code, data=b"", length=None):
    return struct.pack(">HH", code, len(data) if length is None else length) + data


WWW_A = name("www.example.test.") + struct.pack(">HH", 1, 1)


def respond_seeds():
    seeds = {}
    for i, (qname, rdtype, rdclass, flags, signed) in enumerate(query_lists()):
        mode = (TCP if "tcp" in flags else 0) | (SECOND if i % 3 == 2 else 0)
        payload = next((int(f.split("=")[1]) for f in flags if f.startswith("bufsize=")), 1232)
        wire = make(qname, rdtype, rdclass, edns="noedns" not in flags, do="do" in flags or signed, payload=payload)
        seeds[f"query-{i:03d}"] = bytes([mode]) + wire

    # The reproduction: a long name, then a longer one, from one buffer (the target fills it with leftovers).
    seeds["long-name-1"] = bytes([0]) + make("x." * 12 + "w.edge.test.", "A")
    seeds["long-name-2"] = bytes([SECOND]) + make("x." * 20 + "w.edge.test.", "A", edns=False)
    seeds["max-labels"] = bytes([TCP]) + make("a." * 127, "A")
    seeds["max-name-nsid"] = bytes([SECOND]) + make(("x" * 62 + ".") * 3 + "example.test.", "A", payload=512,
                                                     options=[dns.edns.GenericOption(3, b"")])
    seeds["chaos-id-nsid"] = bytes([SECOND | TCP]) + make("id.server.", "TXT", "CH", options=[dns.edns.GenericOption(3, b""), dns.edns.GenericOption(11, b"")])
    seeds["chaos-zones"] = bytes([0]) + make("zones.server.", "TXT", "CH")
    seeds["dnssec-nxdomain-nsec3"] = bytes([0]) + make("a.b.nothere.nsec3.test.", "A", do=True, payload=512)
    seeds["dnssec-any-tcp"] = bytes([TCP]) + make("nsec.test.", "ANY", do=True)
    seeds["dnssec-ds-apex"] = bytes([0]) + make("secure.optout.test.", "DS", do=True)
    seeds["axfr"] = bytes([TCP]) + make("example.test.", "AXFR", edns=False)
    seeds["qclass-any"] = bytes([0]) + make("www.example.test.", "A", "ANY")
    seeds["type0"] = bytes([0]) + make("www.example.test.", 0)
    # Compression in the question: a pointer loop, a pointer forward, a pointer into the header, a pointer to a label.
    seeds["pointer-loop"] = bytes([0]) + header() + b"\x01x\xc0\x0c" + struct.pack(">HH", 1, 1)
    seeds["pointer-forward"] = bytes([0]) + header() + b"\xc0\x12" + struct.pack(">HH", 1, 1) + name("www.example.test.")
    seeds["pointer-into-header"] = bytes([0]) + header() + b"\xc0\x04" + struct.pack(">HH", 1, 1)
    seeds["pointer-in-answer"] = bytes([0]) + header(an=1) + WWW_A + b"\xc0\x10" + struct.pack(">HHIH", 1, 1, 60, 4) + b"\x7f\x00\x00\x01"
    seeds["label-64"] = bytes([0]) + header() + b"\x40" + b"a" * 64 + b"\x00" + struct.pack(">HH", 1, 1)
    seeds["label-type-01"] = bytes([0]) + header() + b"\x41\x00" + struct.pack(">HH", 1, 1)
    seeds["name-too-long"] = bytes([0]) + header() + (b"\x3f" + b"y" * 63) * 4 + b"\x00" + struct.pack(">HH", 1, 1)
    # Counts that promise what is not there.
    seeds["counts-ffff"] = bytes([0]) + header(qd=0xFFFF, an=0xFFFF, ns=0xFFFF, ar=0xFFFF) + WWW_A
    seeds["qdcount-0"] = bytes([TCP]) + header(qd=0) + WWW_A
    seeds["qdcount-2"] = bytes([0]) + header(qd=2) + WWW_A + WWW_A
    seeds["ar-ffff-one-opt"] = bytes([0]) + header(ar=0xFFFF) + WWW_A + opt()
    # OPT: two of them, a non-root owner, in the answer section, version 1, options that overrun.
    seeds["opt-twice"] = bytes([0]) + header(ar=2) + WWW_A + opt() + opt(do=True)
    seeds["opt-owner"] = bytes([0]) + header(ar=1) + WWW_A + opt(owner=b"\x01x\x00")
    seeds["opt-owner-pointer"] = bytes([0]) + header(ar=1) + WWW_A + opt(owner=b"\xc0\x0c")
    seeds["opt-in-answer"] = bytes([0]) + header(an=1) + WWW_A + opt()
    seeds["opt-version-1"] = bytes([TCP]) + header(ar=1) + WWW_A + opt(version=1, do=True)
    seeds["opt-option-overrun"] = bytes([0]) + header(ar=1) + WWW_A + opt(rdata=option(3, b"", length=200))
    seeds["opt-rdlength-overrun"] = bytes([0]) + header(ar=1) + WWW_A + opt()[:-2] + b"\x00\x40"
    seeds["opt-payload-0"] = bytes([SECOND]) + header(ar=1) + WWW_A + opt(payload=0)
    seeds["opt-payload-65535"] = bytes([SECOND]) + make("example.test.", "ANY", do=True, payload=65535)
    # Opcodes and flags: NOTIFY, UPDATE, a response, a short header.
    seeds["opcode-notify"] = bytes([0]) + header(flags=0x2000) + WWW_A
    seeds["opcode-15"] = bytes([0]) + header(flags=0x7800, qd=0)
    seeds["qr-set"] = bytes([0]) + header(flags=0x8000) + WWW_A
    seeds["short-header"] = bytes([0]) + header()[:11]
    seeds["empty"] = bytes([TCP])
    # Rate limiting's slip, without and with a client cookie, and a malformed cookie.
    seeds["slip"] = bytes([LIMITED]) + make("www.example.test.", "A")
    seeds["slip-cookie"] = bytes([LIMITED | V6]) + make("www.example.test.", "A", options=[dns.edns.GenericOption(10, b"\x01" * 8)])
    seeds["slip-noedns"] = bytes([LIMITED]) + make("nothere.example.test.", "A", edns=False)
    seeds["cookie-short"] = bytes([V6]) + make("www.example.test.", "A", options=[dns.edns.GenericOption(10, b"\x01" * 5)])
    # COOKIE (RFC 7873 §4): a client cookie alone, which gets a fresh server cookie made for the client's address, and a
    # client cookie with a 16-octet server cookie (RFC 9018 §4), which is verified against the secrets first.
    seeds["cookie-client"] = bytes([0]) + make("www.example.test.", "A", options=[dns.edns.GenericOption(10, b"\x02" * 8)])
    seeds["cookie-client-tcp-v6"] = bytes([TCP | V6]) + make("www.example.test.", "A", options=[dns.edns.GenericOption(10, b"\x02" * 8)])
    seeds["cookie-server"] = bytes([0]) + make("www.example.test.", "A", options=[dns.edns.GenericOption(10, b"\x01" * 24)])
    return seeds


def edns_seeds():
    seeds = {}
    for q in range(4):
        seeds[f"plain-q{q}"] = bytes([q * Q, 1]) + opt()
    seeds["do"] = bytes([1 * Q, 1]) + opt(do=True, payload=4096)
    seeds["do-512"] = bytes([(1 * Q) | SECOND, 1]) + opt(do=True, payload=512)
    seeds["nsid"] = bytes([(3 * Q) | SECOND, 1]) + opt(rdata=option(3))
    seeds["nsid-with-data"] = bytes([3 * Q, 1]) + opt(rdata=option(3, b"ab"))
    seeds["keepalive-tcp"] = bytes([TCP, 1]) + opt(rdata=option(11))
    seeds["keepalive-timeout-tcp"] = bytes([TCP, 1]) + opt(rdata=option(11, b"\x00\x64"))
    seeds["keepalive-udp"] = bytes([0, 1]) + opt(rdata=option(11, b"\x00\x64"))
    seeds["cookie"] = bytes([0, 1]) + opt(rdata=option(10, b"\x01" * 8))
    seeds["padding"] = bytes([TCP | SECOND, 1]) + opt(rdata=option(12, b"\x00" * 64))
    seeds["ecs"] = bytes([0, 1]) + opt(rdata=option(8, b"\x00\x01\x18\x00\xc0\x00\x02"))
    seeds["many-options"] = bytes([(3 * Q) | TCP | SECOND, 1]) + opt(
        do=True, rdata=option(3) + option(11) + option(10, b"\x02" * 8) + option(12, b"") + option(65001, b"xyz"))
    seeds["option-overrun"] = bytes([0, 1]) + opt(rdata=option(3, b"", length=4))
    seeds["option-half-header"] = bytes([0, 1]) + opt(rdata=b"\x00\x03\x00")
    seeds["two-opt"] = bytes([0, 2]) + opt() + opt(do=True)
    seeds["opt-after-a"] = bytes([0, 2]) + name("ns1.example.test.") + struct.pack(">HHIH", 1, 1, 60, 4) + b"\xc0\x00\x02\x35" + opt()
    seeds["opt-owner"] = bytes([0, 1]) + opt(owner=b"\x01x\x00")
    seeds["opt-version-1"] = bytes([2 * Q, 1]) + opt(version=1)
    seeds["opt-ext-rcode"] = bytes([0, 1]) + opt(ext=1)
    seeds["opt-truncated"] = bytes([0, 1]) + opt()[:7]
    seeds["arcount-255"] = bytes([0, 255]) + opt()
    return seeds


ZONES = {
    "minimal": """$ORIGIN fuzz.test.
$TTL 300
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.1
""",
    "syntax": """; parentheses, quotes, escapes, units, owner inheritance, class and TTL in either order
$TTL 1h
@ 3600 IN SOA ns1.fuzz.test. host\\.master.fuzz.test. ( 2024010101 ; serial
        2h 1h 2w 5m )
        IN NS ns1
        NS ns2.fuzz.test.
ns1 IN 60 A 192.0.2.1
ns2 A 192.0.2.2
txt TXT "a \\"quoted\\" string" unquoted "\\065\\066" ""
\\@odd\\032name TXT "escaped owner"
CLASS1 TYPE1 \\# 4 c0000201
""",
    "types": """$ORIGIN fuzz.test.
@ SOA ns1 h 1 2 3 4 5
@ NS ns1
@ MX 10 mail
@ CAA 0 issue "ca.example"
@ HINFO "cpu" "os"
ns1 A 192.0.2.1
ns1 AAAA 2001:db8::1
mail A 192.0.2.25
srv._tcp SRV 0 5 443 ns1
naptr NAPTR 100 10 "u" "E2U+sip" "!^.*$!sip:x@fuzz.test!" .
svc SVCB 1 ns1 alpn="h2,h3" port=8443 ipv4hint=192.0.2.1 mandatory=alpn
www HTTPS 1 . alpn=h3 ech=AAA=
tls._tcp TLSA 3 1 1 aabbccdd
ssh SSHFP 1 1 aabbccdd
loc LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m
uri URI 10 1 "https://fuzz.test/"
rp RP mbox.fuzz.test. txt.fuzz.test.
dname DNAME target.example.
alias CNAME www
wild.* A 192.0.2.9
*.wild A 192.0.2.10
sub NS ns.sub
ns.sub A 192.0.2.53
sub DS 12345 13 2 aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899
""",
    "directives": """$ORIGIN fuzz.test.
$TTL 300
@ SOA ns1 h 1 2 3 4 5
@ NS ns1
ns1 A 192.0.2.1
$GENERATE 1-20/3 host-$ A 192.0.2.$
$GENERATE 0-3 ${0,3,x}.rev PTR host-${1,2,d}.fuzz.test.
$GENERATE 1-2 nib-${0,4,n} AAAA 2001:db8::$
$ORIGIN sub.fuzz.test.
x A 192.0.2.7
""",
    "include": """$ORIGIN fuzz.test.
@ SOA ns1 h 1 2 3 4 5
@ NS ns1
$INCLUDE fuzz.test.zone
$INCLUDE missing.inc sub.fuzz.test.
$INCLUDE ../outside.zone
""",
    "errors": """$ORIGIN fuzz.test.
@ SOA ns1 h 1 2 3 4 5
@ NS ns1
bad A 300.1.2.3
long.label.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa A 192.0.2.1
out.of.zone. A 192.0.2.1
cname CNAME x
cname A 192.0.2.1
quote TXT "unterminated
( paren A 192.0.2.1
$UNKNOWN x
$TTL -1
@ CH TXT "other class"
""",
}


def signed_zone():
    """A small zone signed with ldns-signzone (NSEC) and one with NSEC3: RRSIG, NSEC, NSEC3 and DNSKEY for the DNSSEC checks."""
    out = {}
    if not (os.path.exists("/usr/bin/ldns-signzone") and os.path.exists("/usr/bin/dnssec-keygen")):
        print("make-seeds: ldns-signzone or dnssec-keygen missing (ldnsutils, bind9-utils): no signed zone seeds", file=sys.stderr)
        return out
    work = tempfile.mkdtemp(prefix="anycastdns-seeds-")
    try:
        source = os.path.join(work, "fuzz.test.unsigned")
        with open(source, "w", encoding="ascii") as f:
            f.write(ZONES["minimal"] + "www A 192.0.2.80\n*.wild TXT \"w\"\nsub NS ns.sub\nns.sub A 192.0.2.53\n")
        keys = []
        for flags in (["-f", "KSK"], []):
            keys.append(os.path.join(work, subprocess.run(
                ["/usr/bin/dnssec-keygen", "-q", "-K", work, "-a", "ECDSAP256SHA256", *flags, "fuzz.test"],
                check=True, capture_output=True, text=True).stdout.strip()))
        for label, extra in (("signed-nsec", []), ("signed-nsec3", ["-n", "-t", "0"])):
            target = os.path.join(work, label)
            subprocess.run(["/usr/bin/ldns-signzone", *extra, "-o", "fuzz.test", "-f", target, source, *keys], check=True)
            with open(target, encoding="ascii") as f:
                out[label] = f.read()
    finally:
        shutil.rmtree(work)
    return out


def write(folder, seeds, binary=True):
    path = os.path.join(HERE, folder)
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)
    for key, value in seeds.items():
        with open(os.path.join(path, key), "wb") as f:
            f.write(value if binary else value.encode("ascii"))
    print(f"{folder}: {len(seeds)} seeds, {sum(len(v) for v in seeds.values())} octets")


def main():
    write("respond", respond_seeds())
    write("edns", edns_seeds())
    zones = dict(ZONES)
    zones.update(signed_zone())
    write("zonefile", zones, binary=False)


if __name__ == "__main__":
    main()
