using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// One owner name in a zone with its RRsets. Empty non-terminals (RFC 4592 §2.2.2) are nodes without RRsets,
/// so they exist for lookups and are never mistaken for missing names.
/// </summary>
public sealed class ZoneNode
{
    private RRset[] _rrsets;

    internal ZoneNode(DnsName name, RRset[] rrsets)
    {
        Name = name;
        _rrsets = rrsets;
    }

    public DnsName Name { get; }

    /// <summary>The node one label up (null at the apex).</summary>
    public ZoneNode? Parent { get; internal set; }

    public ReadOnlySpan<RRset> RRsets => _rrsets;

    public bool IsApex { get; internal set; }

    /// <summary>True for a zone cut: NS records at a name other than the apex (RFC 1034 §4.2.1).</summary>
    public bool IsDelegation { get; internal set; }

    /// <summary>True when the node lies below a zone cut or a DNAME: its data is glue or occluded, not authoritative.</summary>
    public bool IsOccluded { get; internal set; }

    /// <summary>The node "*." + this name, if the zone has it (RFC 4592 §2.1.1).</summary>
    public ZoneNode? WildcardChild { get; internal set; }

    public RRset? Cname { get; private set; }

    public RRset? Dname { get; private set; }

    public bool IsEmptyNonTerminal => _rrsets.Length == 0;

    public bool IsWildcard => Name.IsWildcard;

    /// <summary>
    /// True for the hashed owner of NSEC3 records: not a name of the zone's namespace (RFC 5155 §7.2.9), so lookups
    /// pass over it; only the NSEC3 chain reaches it.
    /// </summary>
    public bool IsNsec3Owner { get; internal set; }

    public RRset? Get(RecordType type)
    {
        foreach (var rrset in _rrsets)
        {
            if (rrset.Type == type)
            {
                return rrset;
            }
        }
        return null;
    }

    internal void SetRRsets(RRset[] rrsets)
    {
        _rrsets = rrsets;
        Cname = Get(RecordType.CNAME);
        Dname = Get(RecordType.DNAME);
    }

    public override string ToString() => Name.ToString();
}
