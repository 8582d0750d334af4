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
        if (!zone.HasCutsOrDnames)
        {
            var node = zone.Find(name);
            return node is not null ? new Match(MatchKind.Exact, node) : NotFound(zone, name);
        }

        // Walk down from the apex one label at a time: the first cut or DNAME on the way decides (RFC 1034 §4.3.2 3b, RFC 6672 §3.2).
        int total = WireName.CountLabels(name);
        int depth = zone.Origin.LabelCount;
        var encloser = zone.Apex;
        for (int labels = depth + 1; labels <= total; labels++)
        {
            var node = zone.Find(name[WireName.SkipLabels(name, total - labels)..]);
            if (node is null)
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

    /// <summary>The closest encloser of a missing name in a zone without cuts: strip labels until a node exists.</summary>
    private static Match NotFound(Zone zone, ReadOnlySpan<byte> name)
    {
        int offset = 0;
        while (true)
        {
            offset += name[offset] + 1;
            var node = zone.Find(name[offset..]);
            if (node is not null)
            {
                // RFC 4592 §3.3.1: only a wildcard that is the closest encloser's own child may answer.
                return node.WildcardChild is { } wild ? new Match(MatchKind.Wildcard, wild) : new Match(MatchKind.NxDomain, node);
            }
        }
    }
}
