using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// One owner name in a zone with its RRsets. Empty non-terminals (RFC 4592 §2.2.2) are nodes without RRsets,
/// so they exist for lookups and are never mistaken for missing names.
/// </summary>
public sealed class ZoneNode
{
    // A zone holds millions of nodes: the yes/no facts share one octet, and CNAME and DNAME are found among the
    // node's RRsets (one or two of them) when a flag says they are there, instead of two more references per node.
    [Flags]
    private enum Facts : byte
    {
        None = 0,
        Apex = 1,
        Delegation = 2,
        Occluded = 4,
        HasCname = 8,
        HasDname = 16,
    }

    // Most names own one or two RRsets (A and AAAA, say): those are held in the node itself, and only a node with
    // more keeps an array, which saves an array per node in a large zone.
    private const int InlineRRsets = 2;

    [System.Runtime.CompilerServices.InlineArray(InlineRRsets)]
    private struct InlineRRsetArray
    {
        private RRset _first;
    }

    private InlineRRsetArray _inline;
    private RRset[]? _more;
    // The types of the inline RRsets (the first in the low half), so that Get finds one without reading RRset objects
    // (a cache miss each in a large zone); an empty slot reads as type 0, which no RRset has. Fits the padding.
    private uint _inlineTypes;
    private byte _inlineCount;
    private Facts _facts;

    internal ZoneNode(DnsName name, RRset[] rrsets)
    {
        Name = name;
        SetRRsets(rrsets);
    }


    public DnsName Name { get; }

    /// <summary>
    /// The node one label up (null at the apex). A node an update left unchanged is shared with the next version
    /// (<see cref="ZoneUpdate"/>), so its parent may be an earlier version's node of that name: read its name only.
    /// </summary>
    public ZoneNode? Parent { get; internal set; }

    public ReadOnlySpan<RRset> RRsets => _more ?? ((ReadOnlySpan<RRset>)_inline)[.._inlineCount];

    public bool IsApex
    {
        get => Has(Facts.Apex);
        internal set => Set(Facts.Apex, value);
    }

    /// <summary>True for a zone cut: NS records at a name other than the apex (RFC 1034 §4.2.1).</summary>
    public bool IsDelegation
    {
        get => Has(Facts.Delegation);
        internal set => Set(Facts.Delegation, value);
    }

    /// <summary>True when the node lies below a zone cut or a DNAME: its data is glue or occluded, not authoritative.</summary>
    public bool IsOccluded
    {
        get => Has(Facts.Occluded);
        internal set => Set(Facts.Occluded, value);
    }

    /// <summary>The node "*." + this name, if the zone has it (RFC 4592 §2.1.1).</summary>
    public ZoneNode? WildcardChild { get; internal set; }

    public RRset? Cname => Has(Facts.HasCname) ? Get(RecordType.CNAME) : null;

    public RRset? Dname => Has(Facts.HasDname) ? Get(RecordType.DNAME) : null;

    public bool IsEmptyNonTerminal => _more is null && _inlineCount == 0;

    public bool IsWildcard => Name.IsWildcard;

    /// <summary>
    /// True for the hashed owner of NSEC3 records: not a name of the zone's namespace (RFC 5155 §7.2.9), so lookups
    /// pass over it; only the NSEC3 chain reaches it.
    /// </summary>
    public bool IsNsec3Owner { get; internal set; }

    public RRset? Get(RecordType type)
    {
        if (_more is null)
        {
            return (ushort)_inlineTypes == (ushort)type ? _inline[0]
                : (ushort)(_inlineTypes >> 16) == (ushort)type ? _inline[1]
                : null;
        }
        foreach (var rrset in _more)
        {
            if (rrset.Type == type)
            {
                return rrset;
            }
        }
        return null;
    }

    internal void SetRRsets(RRset[] rrsets) => SetRRsets(rrsets, rrsets);

    /// <summary>
    /// A node of the same name, place and marks holding <paramref name="rrsets"/> instead: the next version's, when only
    /// some of its RRsets changed (<see cref="ZoneUpdate"/>); this one, served, is left as it is.
    /// </summary>
    internal ZoneNode With(ReadOnlySpan<RRset> rrsets)
    {
        var copy = new ZoneNode(Name, []) { Parent = Parent, WildcardChild = WildcardChild, IsNsec3Owner = IsNsec3Owner };
        copy.CopyRRsets(rrsets);
        copy._facts = (copy._facts & (Facts.HasCname | Facts.HasDname)) | (_facts & (Facts.Apex | Facts.Delegation | Facts.Occluded));
        return copy;
    }

    /// <summary>Sets a copy of <paramref name="rrsets"/>: the builder passes its scratch space.</summary>
    internal void CopyRRsets(ReadOnlySpan<RRset> rrsets) => SetRRsets(rrsets);

    /// <param name="array">The same RRsets as an array when there are more than fit inline; kept, not copied.</param>
    private void SetRRsets(ReadOnlySpan<RRset> rrsets, RRset[]? array = null)
    {
        _inline = default;
        _inlineTypes = 0;
        if (rrsets.Length <= InlineRRsets)
        {
            rrsets.CopyTo(_inline);
            _inlineCount = (byte)rrsets.Length;
            _more = null;
            for (int i = 0; i < rrsets.Length; i++)
            {
                _inlineTypes |= (uint)rrsets[i].Type << (16 * i);
            }
        }
        else
        {
            _inlineCount = 0;
            _more = array ?? rrsets.ToArray();
        }
        _facts &= ~(Facts.HasCname | Facts.HasDname);
        foreach (var rrset in rrsets)
        {
            _facts |= rrset.Type switch
            {
                RecordType.CNAME => Facts.HasCname,
                RecordType.DNAME => Facts.HasDname,
                _ => Facts.None,
            };
        }
    }

    /// <summary>
    /// Says whether the node will hold a CNAME or DNAME before its RRsets are set: <see cref="ZoneAdjust"/> marks
    /// occlusion and <see cref="ZoneChecks"/> checks the zone rules on the records as read, before the nodes hold them (<see cref="SetRRsets(RRset[])"/> sets the same facts again).
    /// </summary>
    internal void MarkTypes(bool hasCname, bool hasDname) =>
        _facts = (_facts & ~(Facts.HasCname | Facts.HasDname)) | (hasCname ? Facts.HasCname : Facts.None) | (hasDname ? Facts.HasDname : Facts.None);

    /// <summary>True when the node has (or, while the zone is built, will have) a DNAME.</summary>
    internal bool HasDnameRecords => Has(Facts.HasDname);

    private bool Has(Facts fact) => (_facts & fact) != 0;

    private void Set(Facts fact, bool value) => _facts = value ? _facts | fact : _facts & ~fact;

    public override string ToString() => Name.ToString();
}
