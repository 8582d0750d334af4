using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority;

/// <summary>
/// The answer algorithm for names in a zone we serve (RFC 1034 §4.3.2, RFC 2308, RFC 4592, RFC 6672, RFC 8482):
/// one function per case, read top to bottom.
/// </summary>
internal static class AuthoritativeAnswer
{
    /// <summary>CNAME/DNAME links followed before giving up; loops end earlier, when a node comes round again.</summary>
    private const int MaxChain = 12;

    public static void Write(ref Response response, Zone zone, scoped ReadOnlySpan<byte> qname, RecordType qtype, bool minimalAny)
    {
        Answer(ref response, zone, qname, qtype, minimalAny);
        // RFC 4035 §3.1.3, RFC 5155 §7.2: the NSEC/NSEC3 proofs the answer gathered follow the rest of the authority section.
        Denial.WriteProofs(ref response);
    }

    private static void Answer(ref Response response, Zone zone, scoped ReadOnlySpan<byte> qname, RecordType qtype, bool minimalAny)
    {
        response.Header.Set(Header.AaBit, true);
        Span<byte> synthA = stackalloc byte[DnsName.MaxLength + 1];
        Span<byte> synthB = stackalloc byte[DnsName.MaxLength + 1];
        Visited visited = default;
        scoped ReadOnlySpan<byte> current = qname;

        for (int step = 0; step < MaxChain; step++)
        {
            var match = Lookup.Find(zone, current, qtype);
            ZoneNode node = match.Node;
            // RFC 1034 §5.2.2: a chain that comes back to a node it already used is a loop; stop before repeating it.
            if ((match.Kind is MatchKind.Exact or MatchKind.Wildcard or MatchKind.Dname) && !visited.Add(node, current))
            {
                return;
            }
            switch (match.Kind)
            {
                case MatchKind.Referral:
                    Referral(ref response, zone, node);
                    return;

                case MatchKind.NxDomain:
                    // RFC 6604 §2.1: after a CNAME chain the RCODE still describes the last name.
                    response.Header.SetRcode((int)ResponseCode.NXDomain);
                    response.Decide(ResponseClass.NxDomain, zone.Origin);
                    NegativeAnswer(ref response, zone);
                    Denial.NxDomain(ref response, zone, current, node);
                    return;

                case MatchKind.Dname:
                {
                    var target = step % 2 == 0 ? synthA : synthB;
                    if (!Dname(ref response, node, current, target, out int length))
                    {
                        return;
                    }
                    current = target[..length];
                    if (!IsInZone(current, zone))
                    {
                        return;
                    }
                    continue;
                }
            }

            // Exact match or wildcard synthesis (RFC 4592 §3.3.1): the owner is the name asked for.
            bool wildcard = match.Kind == MatchKind.Wildcard;
            if (wildcard)
            {
                response.Decide(ResponseClass.Wildcard, node.Name);
            }
            else
            {
                response.Decide(ResponseClass.Positive);
            }
            if (node.Cname is { } cname && qtype != RecordType.CNAME && qtype != RecordType.ANY)
            {
                if (!response.Add(Section.Answer, current, cname))
                {
                    return;
                }
                if (wildcard)
                {
                    Denial.WildcardAnswer(ref response, zone, current, node);
                }
                var target = RdataLayout.TargetName(RecordType.CNAME, cname.Rdata(0));
                // RFC 1034 §3.6.2: follow the alias while it stays in this zone; stop at a loop (RFC 1034 §5.2.2).
                if (target.IsEmpty || !IsInZone(target, zone))
                {
                    return;
                }
                current = target;
                continue;
            }

            if (qtype == RecordType.ANY ? Any(ref response, node, current, minimalAny) : node.Get(qtype) is { } rrset && response.Add(Section.Answer, current, rrset))
            {
                if (wildcard)
                {
                    Denial.WildcardAnswer(ref response, zone, current, node);
                }
                return;
            }
            if (response.Truncated)
            {
                return;
            }
            // NODATA: the name exists (or an empty non-terminal does, RFC 4592 §2.2.2) without that type (RFC 2308 §2.2).
            if (!wildcard)
            {
                response.Decide(ResponseClass.NoData);
            }
            NegativeAnswer(ref response, zone);
            if (wildcard)
            {
                Denial.WildcardNoData(ref response, zone, current, node);
            }
            else
            {
                Denial.NoData(ref response, zone, current, node);
            }
            return;
        }
    }

    /// <summary>RFC 1034 §4.3.2 step 3b: not our data; point at the child's name servers, AA off unless we already answered.</summary>
    private static void Referral(ref Response response, Zone zone, ZoneNode cut)
    {
        response.Decide(ResponseClass.Referral, cut.Name);
        if (response.AnswerCount == 0)
        {
            response.Header.Set(Header.AaBit, false);
        }
        if (!response.Add(Section.Authority, cut.Name.Wire, cut.Get(RecordType.NS)!) || !response.Dnssec)
        {
            return;
        }
        // RFC 4035 §3.1.4: with DO, the signed DS RRset of a secure child, or the proof that there is none.
        if (cut.Get(RecordType.DS) is { } ds)
        {
            response.Add(Section.Authority, cut.Name.Wire, ds);
        }
        else
        {
            Denial.NoDs(ref response, zone, cut);
        }
    }

    /// <summary>RFC 2308 §3: negative answers carry the SOA with TTL = min(SOA TTL, MINIMUM); with DO, its RRSIGs too (RFC 4035 §3.1.3).</summary>
    private static void NegativeAnswer(ref Response response, Zone zone)
    {
        if (response.AddRecord(Section.Authority, zone.Origin.Wire, RecordType.SOA, (ushort)RecordClass.IN, zone.NegativeTtl, zone.Soa.Rdata(0))
            && response.Dnssec && zone.Soa.Signatures is { } signatures)
        {
            response.AddSignatures(Section.Authority, zone.Origin.Wire, signatures, zone.NegativeTtl);
        }
    }

    /// <summary>
    /// RFC 6672 §3.2: the DNAME goes in the answer with a CNAME synthesised from it; a result longer than 255
    /// octets is YXDOMAIN (RFC 6672 §2.2).
    /// </summary>
    private static bool Dname(ref Response response, ZoneNode node, scoped ReadOnlySpan<byte> current, scoped Span<byte> target, out int length)
    {
        length = 0;
        var dname = node.Dname!;
        if (!response.Add(Section.Answer, node.Name.Wire, dname))
        {
            return false;
        }
        var newSuffix = RdataLayout.TargetName(RecordType.DNAME, dname.Rdata(0));
        int prefixLength = current.Length - node.Name.Length;
        length = prefixLength + newSuffix.Length;
        if (newSuffix.IsEmpty || length > DnsName.MaxLength)
        {
            response.Header.SetRcode((int)ResponseCode.YXDomain);
            return false;
        }
        current[..prefixLength].CopyTo(target);
        newSuffix.CopyTo(target[prefixLength..]);
        // RFC 6672 §3.1: the synthesised CNAME takes the DNAME's TTL.
        return response.AddRecord(Section.Answer, current, RecordType.CNAME, (ushort)RecordClass.IN, dname.Ttl, target[..length]);
    }

    /// <summary>
    /// RFC 8482 §4.1: over UDP one RRset answers ANY, the one of the lowest type (so A before others, as Knot picks);
    /// over TCP all of them.
    /// </summary>
    /// <returns>False when the node has no RRset to give, so the answer is NODATA.</returns>
    private static bool Any(ref Response response, ZoneNode node, scoped ReadOnlySpan<byte> owner, bool minimal)
    {
        RRset? lowest = null;
        foreach (var rrset in node.RRsets)
        {
            if (rrset.Type is RecordType.RRSIG or RecordType.NSEC)
            {
                continue;
            }
            if (minimal)
            {
                lowest = lowest is null || rrset.Type < lowest.Type ? rrset : lowest;
            }
            else if (!response.Add(Section.Answer, owner, rrset))
            {
                return true;
            }
            else
            {
                lowest = rrset;
            }
        }
        if (lowest is not null && minimal)
        {
            response.Add(Section.Answer, owner, lowest);
        }
        return lowest is not null;
    }

    private static bool IsInZone(ReadOnlySpan<byte> name, Zone zone)
    {
        var origin = zone.Origin.Wire;
        return name.Length >= origin.Length
            && WireName.EqualsIgnoreCase(name[(name.Length - origin.Length)..], origin)
            && WireName.SkipLabels(name, WireName.CountLabels(name) - zone.Origin.LabelCount) == name.Length - origin.Length;
    }

    /// <summary>Nodes already used on this chain, with the name each answered, to stop CNAME/DNAME loops.</summary>
    private struct Visited
    {
        private Nodes _nodes;
        private Hashes _owners;
        private int _count;

        /// <summary>False when <paramref name="node"/> already answered <paramref name="owner"/> on this chain.</summary>
        public bool Add(ZoneNode node, ReadOnlySpan<byte> owner)
        {
            // A wildcard may answer several different names along one chain; any other node answers only its own.
            int hash = node.IsWildcard ? WireName.Hash(owner) : 0;
            for (int i = 0; i < _count; i++)
            {
                if (ReferenceEquals(_nodes[i], node) && _owners[i] == hash)
                {
                    return false;
                }
            }
            if (_count < MaxChain)
            {
                _nodes[_count] = node;
                _owners[_count] = hash;
                _count++;
            }
            return true;
        }

        [System.Runtime.CompilerServices.InlineArray(MaxChain)]
        private struct Nodes
        {
            private ZoneNode _element;
        }

        [System.Runtime.CompilerServices.InlineArray(MaxChain)]
        private struct Hashes
        {
            private int _element;
        }
    }
}
