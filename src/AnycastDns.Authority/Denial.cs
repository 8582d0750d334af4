using System.Runtime.CompilerServices;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority;

/// <summary>
/// Authenticated denial of existence for DO queries to signed zones: which NSEC (RFC 4035 §3.1.3) or NSEC3 (RFC 5155
/// §7.2) records prove a negative, wildcard or referral answer. Each function picks the owners of those records from the
/// chains built at load (binary searches, hashing on the stack) and adds them to <see cref="Response.Proofs"/>;
/// <see cref="WriteProofs"/> puts them, with their RRSIGs, in the authority section once the answer is complete.
/// </summary>
internal static class Denial
{
    /// <summary>NXDOMAIN: the name does not exist, and neither does the wildcard that could have answered it.</summary>
    public static void NxDomain(ref Response response, Zone zone, scoped ReadOnlySpan<byte> qname, ZoneNode closestEncloser)
    {
        if (!response.Dnssec)
        {
            return;
        }
        Span<byte> wildcard = stackalloc byte[DnsName.MaxLength + 2];
        if (zone.Nsec3 is { } nsec3)
        {
            // RFC 5155 §7.2.2: the closest encloser proof, and the NSEC3 covering the wildcard at the closest encloser.
            int encloserAt = EncloserProof(ref response, zone, nsec3, qname, WireName.CountLabels(qname) - closestEncloser.Name.LabelCount);
            if (encloserAt >= 0 && WildcardOf(qname[encloserAt..], wildcard, out int length))
            {
                response.Proofs.Add(nsec3.CoveringName(wildcard[..length]));
            }
        }
        else if (zone.Nsec is { } nsec)
        {
            // RFC 4035 §3.1.3.2: an NSEC covering the name, and one covering the wildcard at the closest encloser.
            response.Proofs.Add(nsec.Covering(qname));
            if (WildcardOf(closestEncloser.Name.Wire, wildcard, out int length))
            {
                response.Proofs.Add(nsec.Covering(wildcard[..length]));
            }
        }
    }

    /// <summary>NODATA: <paramref name="node"/> (an existing name or empty non-terminal) has no RRset of the type asked.</summary>
    public static void NoData(ref Response response, Zone zone, scoped ReadOnlySpan<byte> qname, ZoneNode node)
    {
        if (!response.Dnssec)
        {
            return;
        }
        if (zone.Nsec3 is { } nsec3)
        {
            // RFC 5155 §7.2.3: the NSEC3 matching the name. An empty non-terminal or delegation left out of an Opt-Out
            // chain has none: then the closest provable encloser proof (RFC 5155 §7.2.4).
            EncloserProof(ref response, zone, nsec3, qname, 0);
        }
        else if (zone.Nsec is { } nsec)
        {
            // RFC 4035 §3.1.3.1: the name's own NSEC; an empty non-terminal has none, and the NSEC before it, whose next
            // name lies below it, proves it exists without data (RFC 4035 §3.1.3.2, RFC 4592 §2.2.2).
            response.Proofs.Add(node.Get(RecordType.NSEC) is not null ? node : nsec.Covering(qname));
        }
    }

    /// <summary>
    /// An answer synthesised from <paramref name="wildcard"/> (RFC 4592 §4): proof that the name asked for does not
    /// exist, so the validator may accept the expansion the RRSIG's label count reveals.
    /// </summary>
    public static void WildcardAnswer(ref Response response, Zone zone, scoped ReadOnlySpan<byte> qname, ZoneNode wildcard)
    {
        if (!response.Dnssec)
        {
            return;
        }
        if (zone.Nsec3 is { } nsec3)
        {
            // RFC 5155 §7.2.6: the NSEC3 covering the next closer name; the closest encloser is the wildcard's parent.
            response.Proofs.Add(nsec3.CoveringName(NextCloser(qname, wildcard.Parent!)));
        }
        else if (zone.Nsec is { } nsec)
        {
            // RFC 4035 §3.1.3.3: the NSEC covering the name.
            response.Proofs.Add(nsec.Covering(qname));
        }
    }

    /// <summary>NODATA from a wildcard: the name does not exist, and the wildcard that matches it lacks the type.</summary>
    public static void WildcardNoData(ref Response response, Zone zone, scoped ReadOnlySpan<byte> qname, ZoneNode wildcard)
    {
        if (!response.Dnssec)
        {
            return;
        }
        if (zone.Nsec3 is { } nsec3)
        {
            // RFC 5155 §7.2.5: the closest encloser proof, and the NSEC3 matching the wildcard.
            EncloserProof(ref response, zone, nsec3, qname, WireName.CountLabels(qname) - wildcard.Parent!.Name.LabelCount);
            if (nsec3.MatchingName(wildcard.Name.Wire) is { } matching)
            {
                response.Proofs.Add(matching);
            }
        }
        else if (zone.Nsec is { } nsec)
        {
            // RFC 4035 §3.1.3.4: the NSEC covering the name and the wildcard's own NSEC.
            response.Proofs.Add(nsec.Covering(qname));
            if (wildcard.Get(RecordType.NSEC) is not null)
            {
                response.Proofs.Add(wildcard);
            }
        }
    }

    /// <summary>A referral to an unsigned child: proof that the cut has no DS (RFC 4035 §3.1.4, RFC 5155 §7.2.7).</summary>
    public static void NoDs(ref Response response, Zone zone, ZoneNode cut)
    {
        if (!response.Dnssec)
        {
            return;
        }
        if (zone.Nsec3 is { } nsec3)
        {
            // RFC 5155 §7.2.7: the NSEC3 matching the cut; without one (Opt-Out), the closest provable encloser proof,
            // whose next closer NSEC3 has the Opt-Out flag.
            EncloserProof(ref response, zone, nsec3, cut.Name.Wire, 0);
        }
        else if (cut.Get(RecordType.NSEC) is not null)
        {
            // RFC 4035 §3.1.4: the cut's NSEC, whose bitmap shows NS without DS.
            response.Proofs.Add(cut);
        }
    }

    /// <summary>Writes the proofs gathered for the answer into the authority section, each NSEC/NSEC3 with its RRSIGs.</summary>
    public static void WriteProofs(ref Response response)
    {
        for (int i = 0; i < response.Proofs.Count; i++)
        {
            var owner = response.Proofs[i];
            var rrset = owner.Get(RecordType.NSEC) ?? owner.Get(RecordType.NSEC3);
            if (rrset is not null && !response.Add(Section.Authority, owner.Name.Wire, rrset))
            {
                return;
            }
        }
    }

    /// <summary>
    /// RFC 5155 §7.2.1: the NSEC3 matching the closest encloser (the suffix of <paramref name="name"/> without its first
    /// <paramref name="strip"/> labels) and the one covering the next closer name, one label longer. An encloser left out
    /// of an Opt-Out chain (an empty non-terminal above unsigned delegations only, RFC 5155 §7.1) has no NSEC3: then the
    /// nearest ancestor that has one is proven instead, the closest provable encloser. With <paramref name="strip"/> 0
    /// and a name that has its own NSEC3, that record alone is the proof (RFC 5155 §7.2.3, §7.2.7).
    /// </summary>
    /// <returns>The offset in <paramref name="name"/> of the encloser proven, or -1.</returns>
    private static int EncloserProof(ref Response response, Zone zone, Nsec3Chain nsec3, scoped ReadOnlySpan<byte> name, int strip)
    {
        int labels = WireName.CountLabels(name);
        for (; labels - strip >= zone.Origin.LabelCount; strip++)
        {
            int at = WireName.SkipLabels(name, strip);
            if (nsec3.MatchingName(name[at..]) is { } matching)
            {
                response.Proofs.Add(matching);
                if (strip > 0)
                {
                    response.Proofs.Add(nsec3.CoveringName(name[WireName.SkipLabels(name, strip - 1)..]));
                }
                return at;
            }
        }
        return -1;
    }

    /// <summary>The suffix of <paramref name="qname"/> one label longer than <paramref name="closestEncloser"/> (RFC 5155 §1.3).</summary>
    private static ReadOnlySpan<byte> NextCloser(ReadOnlySpan<byte> qname, ZoneNode closestEncloser) =>
        qname[WireName.SkipLabels(qname, WireName.CountLabels(qname) - closestEncloser.Name.LabelCount - 1)..];

    /// <summary>Writes "*." + <paramref name="name"/> (RFC 4592 §2.1.1); false when that would pass 255 octets.</summary>
    private static bool WildcardOf(scoped ReadOnlySpan<byte> name, Span<byte> buffer, out int length)
    {
        length = name.Length + 2;
        if (length > DnsName.MaxLength)
        {
            return false;
        }
        buffer[0] = 1;
        buffer[1] = (byte)'*';
        name.CopyTo(buffer[2..]);
        return true;
    }
}

/// <summary>
/// The owners of the NSEC/NSEC3 records an answer needs, each once: a CNAME chain may pass several wildcards, and one
/// record often proves two things (the NSEC covering a name may also cover its wildcard), yet goes in the message once.
/// Fixed capacity, held in the response on the stack.
/// </summary>
internal struct DenialProofs
{
    /// <summary>A chain of <c>MaxChain</c> wildcard steps and the negative answer at its end.</summary>
    public const int Capacity = 16;

    private Owners _owners;
    private int _count;

    public readonly int Count => _count;

    public readonly ZoneNode this[int index] => _owners[index];

    public void Add(ZoneNode owner)
    {
        for (int i = 0; i < _count; i++)
        {
            if (ReferenceEquals(_owners[i], owner))
            {
                return;
            }
        }
        if (_count < Capacity)
        {
            _owners[_count++] = owner;
        }
    }

    [InlineArray(Capacity)]
    private struct Owners
    {
        private ZoneNode _element;
    }
}
