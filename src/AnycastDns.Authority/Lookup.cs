using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority;

/// <summary>What the descent through a zone found for a name (RFC 1034 §4.3.2 step 3).</summary>
internal enum MatchKind
{
    /// <summary>The name exists (possibly as an empty non-terminal).</summary>
    Exact,
    /// <summary>The name does not exist, but the closest encloser has a wildcard child (RFC 4592 §3.3.1).</summary>
    Wildcard,
    /// <summary>Neither the name nor a wildcard at its closest encloser exists.</summary>
    NxDomain,
    /// <summary>A zone cut at or above the name: the answer is a referral.</summary>
    Referral,
    /// <summary>A DNAME above the name (RFC 6672 §3.2).</summary>
    Dname,
}

/// <summary>The result of <see cref="Lookup.Find"/>: the kind, and the node it is about.</summary>
internal readonly record struct Match(MatchKind Kind, ZoneNode Node);

/// <summary>The descent from the apex to a name: cuts, DNAMEs, the closest encloser and wildcards.</summary>
internal static class Lookup
{
    /// <summary>
    /// Finds <paramref name="name"/> (an uncompressed wire name inside <paramref name="zone"/>). For
    /// <see cref="MatchKind.Wildcard"/> the node is the wildcard; for <see cref="MatchKind.NxDomain"/> the closest encloser;
    /// for <see cref="MatchKind.Referral"/> the cut; for <see cref="MatchKind.Dname"/> the DNAME owner.
    /// </summary>
    public static Match Find(Zone zone, ReadOnlySpan<byte> name, RecordType qtype)
    {
        // The common case first: one probe for the name itself. A node that is not occluded has no cut or DNAME
        // above it (ZoneAdjust marks every node below one), so it decides the answer alone.
        var exact = zone.Find(name);
        // RFC 5155 §7.2.9: an NSEC3 owner is not a name of the zone; it is answered as if it did not exist.
        if (exact is { IsNsec3Owner: true })
        {
            exact = null;
        }
        if (exact is not null)
        {
            if (!exact.IsOccluded)
            {
                // RFC 4035 §3.1.4.1 / RFC 4034 §5: DS lives on the parent side of the cut, so the parent answers it.
                return exact.IsDelegation && qtype != RecordType.DS ? new Match(MatchKind.Referral, exact) : new Match(MatchKind.Exact, exact);
            }
        }
        else if (ClosestEncloser(zone, name) is { IsOccluded: false } encloser)
        {
            return encloser.IsDelegation ? new Match(MatchKind.Referral, encloser)
                : encloser.Dname is not null ? new Match(MatchKind.Dname, encloser)
                // RFC 4592 §3.3.1: only a wildcard that is the closest encloser's own child may answer.
                : encloser.WildcardChild is { } wild ? new Match(MatchKind.Wildcard, wild)
                : new Match(MatchKind.NxDomain, encloser);
        }
        return Descend(zone, name, qtype);
    }

    /// <summary>
    /// The walk from the apex for a name at or below a cut or DNAME: the first cut or DNAME on the way decides
    /// (RFC 1034 §4.3.2 3b, RFC 6672 §3.2), whatever lies below it.
    /// </summary>
    private static Match Descend(Zone zone, ReadOnlySpan<byte> name, RecordType qtype)
    {
        int total = WireName.CountLabels(name);
        int depth = zone.Origin.LabelCount;
        var encloser = zone.Apex;
        if (encloser.Dname is not null && total > depth)
        {
            return new Match(MatchKind.Dname, encloser); // a DNAME at the apex redirects the whole zone below it (RFC 6672 §2.3)
        }
        for (int labels = depth + 1; labels <= total; labels++)
        {
            var node = zone.Find(name[WireName.SkipLabels(name, total - labels)..]);
            if (node is null || node.IsNsec3Owner)
            {
                return encloser.WildcardChild is { } wild ? new Match(MatchKind.Wildcard, wild) : new Match(MatchKind.NxDomain, encloser);
            }
            if (node.IsDelegation)
            {
                // RFC 4035 §3.1.4.1 / RFC 4034 §5: DS lives on the parent side of the cut, so the parent answers it.
                return labels == total && qtype == RecordType.DS ? new Match(MatchKind.Exact, node) : new Match(MatchKind.Referral, node);
            }
            if (node.Dname is not null && labels < total)
            {
                return new Match(MatchKind.Dname, node);
            }
            encloser = node;
        }
        return new Match(MatchKind.Exact, encloser);
    }

    /// <summary>The nearest existing ancestor of a name the zone does not have: strip labels until a node exists (the apex at worst).</summary>
    private static ZoneNode ClosestEncloser(Zone zone, ReadOnlySpan<byte> name)
    {
        int offset = 0;
        while (true)
        {
            offset += name[offset] + 1;
            if (zone.Find(name[offset..]) is { } node)
            {
                return node;
            }
        }
    }
}
