#!/usr/bin/env python3
"""Generates the zone and the query list of the side-by-side comparison (bench/compare.sh).

    gen.py --names 10000 --zone out/bench.test.zone --queries out/queries.txt [--count 200000] [--seed 1] [--mix M]

The zone (origin bench.test.) holds --names owner names cycling through ten kinds, so every answer case the issue
names is exercised in the same proportion at 10 k and at 1 M names:

    kind 0-3  h<i>        A + AAAA                      (positive answers, two RRsets per name)
    kind 4    h<i>        MX 10 h<i-4> + A               (additional-section addresses)
    kind 5    h<i>        TXT (two strings) + A
    kind 6    c<i>        CNAME h<i-6>                   (CNAME followed inside the zone)
    kind 7    *.w<i>      A                              (wildcard; w<i> is an empty non-terminal)
    kind 8    d<i>        NS ns.d<i>, ns.d<i> A          (delegation with in-bailiwick glue: two names)
    kind 9    h<i>        A + AAAA

which is about 1.6 records per name. The last line is always "last A 192.0.2.254": compare.sh asks for it to know
the whole zone loaded. The query list is "name type" lines, as dnsperf reads them, drawn with a fixed seed:
--mix mixed (the default): hits 45 %, CNAME 5 %, NODATA 10 %, wildcard 10 %, referral 10 %, NXDOMAIN 20 %;
--mix positive: hits only (A, AAAA, MX, TXT of existing names); --mix nxdomain: random names that do not exist,
as in a random-subdomain flood (every answer a negative one with the SOA).
Only the standard library is used, so Debian's /usr/bin/python3 runs it.
"""

import argparse
import random
import sys

ORIGIN = "bench.test."
KINDS = 10
LAST_NAME = "last." + ORIGIN
LAST_ADDRESS = "192.0.2.254"
KNOWN_NAME = "www." + ORIGIN
KNOWN_ADDRESS = "192.0.2.80"


def owner_names(kind):
    """Owner names one item of this kind adds to the zone (a delegation also adds its glue name)."""
    return 2 if kind == 8 else 1


def v4(i):
    return "10.%d.%d.%d" % ((i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF)


def v6(i):
    return "2001:db8::%x:%x" % (i >> 16, i & 0xFFFF)


def items_for(names):
    """How many items make at least `names` owner names (the fixed header adds a few more)."""
    items, total = 0, 0
    while total < names:
        total += owner_names(items % KINDS)
        items += 1
    return items


def write_zone(out, items):
    out.write("$ORIGIN %s\n$TTL 3600\n" % ORIGIN)
    out.write("@ IN SOA ns1 hostmaster 2024010101 7200 900 1209600 300\n")
    out.write("@ IN NS ns1\n@ IN NS ns2\n")
    out.write("ns1 IN A 192.0.2.1\nns2 IN A 192.0.2.2\n")
    out.write("www IN A %s\n" % KNOWN_ADDRESS)
    lines = []
    for i in range(items):
        kind = i % KINDS
        if kind in (0, 1, 2, 3, 9):
            lines.append("h%d IN A %s\nh%d IN AAAA %s\n" % (i, v4(i), i, v6(i)))
        elif kind == 4:
            lines.append("h%d IN MX 10 h%d\nh%d IN A %s\n" % (i, i - 4, i, v4(i)))
        elif kind == 5:
            lines.append('h%d IN TXT "v=spf1 ip4:10.0.0.0/8 -all" "item %d"\nh%d IN A %s\n' % (i, i, i, v4(i)))
        elif kind == 6:
            lines.append("c%d IN CNAME h%d\n" % (i, i - 6))
        elif kind == 7:
            lines.append("*.w%d IN A %s\n" % (i, v4(i)))
        else:
            lines.append("d%d IN NS ns.d%d\nns.d%d IN A %s\n" % (i, i, i, v4(i)))
        if len(lines) >= 4096:
            out.write("".join(lines))
            lines.clear()
    out.write("".join(lines))
    out.write("last IN A %s\n" % LAST_ADDRESS)


def item_of_kind(rng, items, kinds):
    """A random item index whose kind is one of `kinds`."""
    base = rng.randrange(max(items // KINDS, 1)) * KINDS
    i = base + rng.choice(kinds)
    return i if i < items else kinds[0]


MIXES = {"mixed": lambda r: r, "positive": lambda r: r * 0.45, "nxdomain": lambda r: 0.8 + r * 0.2}


def write_queries(out, items, count, rng, mix="mixed"):
    lines = []
    pick = MIXES[mix]
    for _ in range(count):
        r = pick(rng.random())
        if r < 0.45:
            i = item_of_kind(rng, items, (0, 1, 2, 3, 4, 5, 9))
            kind = i % KINDS
            qtype = {4: "MX", 5: "TXT"}.get(kind, rng.choice(("A", "AAAA")))
            lines.append("h%d.%s %s\n" % (i, ORIGIN, qtype))
        elif r < 0.50:
            lines.append("c%d.%s A\n" % (item_of_kind(rng, items, (6,)), ORIGIN))
        elif r < 0.60:
            # NODATA: the name exists, the type does not (RFC 2308 §2.2).
            lines.append("h%d.%s SRV\n" % (item_of_kind(rng, items, (0, 1, 2, 3, 9)), ORIGIN))
        elif r < 0.70:
            lines.append("q%d.w%d.%s A\n" % (rng.randrange(1 << 20), item_of_kind(rng, items, (7,)), ORIGIN))
        elif r < 0.80:
            lines.append("www.d%d.%s A\n" % (item_of_kind(rng, items, (8,)), ORIGIN))
        else:
            lines.append("nx%d.%s A\n" % (rng.randrange(1 << 30), ORIGIN))
    out.write("".join(lines))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--names", type=int, default=10000, help="owner names in the zone (default 10000)")
    p.add_argument("--zone", required=True, help="zone file to write")
    p.add_argument("--queries", help="dnsperf query file to write")
    p.add_argument("--count", type=int, default=200000, help="queries in the list (default 200000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mix", choices=sorted(MIXES), default="mixed", help="which answers the queries ask for (default mixed)")
    a = p.parse_args()
    items = items_for(a.names)
    with open(a.zone, "w", encoding="ascii", newline="\n") as out:
        write_zone(out, items)
    if a.queries:
        with open(a.queries, "w", encoding="ascii", newline="\n") as out:
            write_queries(out, items, a.count, random.Random(a.seed), a.mix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
