using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// A zone's records gathered by owner and type as they come, each owner's node in the zone's table from its first
/// record on. The first step of a build; the records that cannot be in a zone at all are errors here.
/// </summary>
internal sealed class ZoneGrouping
{
    // Owners whose records do not stand together are met again: found by node, in a table made at the first such.
    private Dictionary<ZoneNode, OwnerData>? _ownerOfNode;
    private OwnerData? _previous;

    /// <param name="expectedOwners">About how many owners will come: the node table is made that large.</param>
    public ZoneGrouping(DnsName origin, int expectedOwners)
    {
        Origin = origin;
        // The owners' nodes go into the zone's own table as the records are grouped, so that a million names are
        // hashed into one table, not into an owner table first and a node table after.
        Nodes = new Dictionary<DnsName, ZoneNode>(expectedOwners, DnsNameComparer.Instance);
        Owners = new List<OwnerData>(expectedOwners);
    }

    public DnsName Origin { get; }

    public Dictionary<DnsName, ZoneNode> Nodes { get; }

    public List<OwnerData> Owners { get; }

    public List<ZoneDiagnostic> Diagnostics { get; } = new();

    public void Add(ZoneRecord record)
    {
        // The reader hands consecutive records of one owner the same DnsName: no need to check or hash it again.
        bool sameOwner = _previous is not null && ReferenceEquals(_previous.Name, record.Owner);
        if (!sameOwner && !record.Owner.IsSubdomainOf(Origin))
        {
            ZoneChecks.Error(Diagnostics, record.Location, $"{record.Owner} is outside the zone {Origin}");
            return;
        }
        if (record.Class != RecordClass.IN)
        {
            ZoneChecks.Error(Diagnostics, record.Location, $"class {RecordTypeNames.ToText(record.Class)} is not served; only IN zones are");
            return;
        }
        if (record.Type is RecordType.OPT or RecordType.TSIG or RecordType.TKEY or RecordType.ANY or RecordType.AXFR
            or RecordType.IXFR or RecordType.MAILA or RecordType.MAILB)
        {
            ZoneChecks.Error(Diagnostics, record.Location, $"{RecordTypeNames.ToText(record.Type)} is a meta-type and cannot appear in a zone (RFC 6895 §3.1)");
            return;
        }
        var owner = sameOwner ? _previous! : null;
        if (owner is null)
        {
            ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(Nodes, record.Owner, out bool known);
            if (!known)
            {
                owner = new OwnerData(record.Owner);
                slot = owner.Node;
                Owners.Add(owner);
                _ownerOfNode?.Add(owner.Node, owner);
            }
            else
            {
                if (_ownerOfNode is null)
                {
                    _ownerOfNode = new Dictionary<ZoneNode, OwnerData>(Owners.Count, ReferenceEqualityComparer.Instance);
                    foreach (var o in Owners)
                    {
                        _ownerOfNode.Add(o.Node, o);
                    }
                }
                owner = _ownerOfNode[slot!];
            }
        }
        owner.Add(record, Diagnostics);
        _previous = owner;
    }

    /// <summary>
    /// The owners, in the order first met, handed over: the grouping keeps no reference to them, so that the build
    /// can let each go once its node is made.
    /// </summary>
    public OwnerData[] ReleaseOwners()
    {
        var owners = Owners.ToArray();
        Owners.Clear();
        Owners.TrimExcess();
        _ownerOfNode = null;
        _previous = null;
        return owners;
    }

    /// <summary>
    /// Makes room for <paramref name="more"/> nodes (the empty non-terminals), and gives back what a guess of the
    /// owners' number (<see cref="ZoneLoader"/> guesses from the file's size) set aside beyond a quarter too many.
    /// </summary>
    public void FitNodeTable(int more)
    {
        int needed = Nodes.Count + more;
        if (Nodes.EnsureCapacity(needed) > needed + needed / 4)
        {
            Nodes.TrimExcess(needed);
        }
    }
}

/// <summary>Records of one owner, gathered by type, before they become a node.</summary>
internal sealed class OwnerData(DnsName name)
{
    // Most owners have one or two RRsets; this is made once per owner of a zone of millions.
    private RRsetData[] _sets = new RRsetData[2];
    private int _count;

    public DnsName Name { get; } = name;

    /// <summary>The node these records become, in the zone's table from the first record on.</summary>
    public ZoneNode Node { get; } = new(name, []);

    public ReadOnlySpan<RRsetData> Sets => _sets.AsSpan(0, _count);

    public SourceLocation FirstLocation => _sets[0][0].Location;

    public RRsetData? Find(RecordType type)
    {
        foreach (var s in Sets)
        {
            if (s.Type == type) return s;
        }
        return null;
    }

    public void Add(ZoneRecord record, List<ZoneDiagnostic> diagnostics)
    {
        var set = Find(record.Type);
        if (set is null)
        {
            if (_count == _sets.Length)
            {
                Array.Resize(ref _sets, _count * 2);
            }
            set = _sets[_count++] = new RRsetData(record);
            return;
        }
        set.Add(record, diagnostics);
    }

    /// <summary>Lets the records go once the node holds them (an RRset some check still needs stays where it is kept).</summary>
    public void Release()
    {
        _sets = [];
        _count = 0;
    }

    /// <summary>The RRsets, written to <paramref name="rrsets"/> (as many as <see cref="Sets"/>).</summary>
    public void ToRRsets(RecordStore store, Span<RRset> rrsets, List<ZoneDiagnostic> diagnostics)
    {
        for (int i = 0; i < _count; i++)
        {
            rrsets[i] = _sets[i].ToRRset(store, diagnostics);
        }
    }
}

/// <summary>The records of one RRset in the order read, duplicates dropped; the first held without a list.</summary>
internal sealed class RRsetData(ZoneRecord first) : IReadOnlyList<ZoneRecord>
{
    // Up to this many records, duplicates are looked for one by one; a set is only worth it for larger RRsets.
    private const int LinearSearchLimit = 8;

    private List<ZoneRecord>? _more;
    private HashSet<byte[]>? _seen;

    public RecordType Type { get; } = first.Type;

    public IReadOnlyList<ZoneRecord> Records => this;

    public int Count => 1 + (_more?.Count ?? 0);

    public ZoneRecord this[int index] => index == 0 ? first : _more![index - 1];

    public void Add(ZoneRecord record, List<ZoneDiagnostic> diagnostics)
    {
        // RFC 2181 §5: an RRset holds each RR once; duplicates are dropped like BIND and Knot do.
        if (IsDuplicate(record.Rdata))
        {
            diagnostics.Add(new ZoneDiagnostic(record.Location, Severity.Warning, $"duplicate {RecordTypeNames.ToText(record.Type)} record at {record.Owner} dropped"));
            return;
        }
        (_more ??= new List<ZoneRecord>(3)).Add(record);
    }

    private bool IsDuplicate(byte[] rdata)
    {
        var comparer = CanonicalRdataComparer.ForType(Type);
        if (_seen is null && Count < LinearSearchLimit)
        {
            for (int i = 0; i < Count; i++)
            {
                if (comparer.Equals(this[i].Rdata, rdata))
                {
                    return true;
                }
            }
            return false;
        }
        if (_seen is null)
        {
            _seen = new HashSet<byte[]>(Count * 2, comparer);
            for (int i = 0; i < Count; i++)
            {
                _seen.Add(this[i].Rdata);
            }
        }
        return !_seen.Add(rdata);
    }

    public RRset ToRRset(RecordStore store, List<ZoneDiagnostic> diagnostics)
    {
        uint ttl = first.Ttl;
        // RRSIGs covering different types legitimately carry different TTLs (RFC 4034 §3).
        if (Type != RecordType.RRSIG)
        {
            for (int i = 1; i < Count; i++)
            {
                if (this[i].Ttl != ttl)
                {
                    // RFC 2181 §5.2: the TTLs of an RRset must match; use the first, as BIND does.
                    diagnostics.Add(new ZoneDiagnostic(this[i].Location, Severity.Warning,
                        $"TTL {this[i].Ttl} differs from {ttl} in the {RecordTypeNames.ToText(Type)} RRset at {this[i].Owner}; using {ttl} (RFC 2181 §5.2)"));
                    break;
                }
            }
        }
        int octets = 0;
        for (int i = 0; i < Count; i++)
        {
            octets += 10 + this[i].Rdata.Length;
        }
        var (block, start) = store.Allocate(octets);
        var records = new RRset.RecordsWriter(Type, Count, block, start);
        for (int i = 0; i < Count; i++)
        {
            // Each RRSIG keeps its own TTL: it is the TTL of the RRset it covers (RFC 4034 §3), and the zone
            // digest hashes records with the TTL the zone gave them (RFC 8976 §3.3.1).
            records.Add(Type == RecordType.RRSIG ? this[i].Ttl : ttl, this[i].Rdata);
        }
        return records.ToRRset();
    }

    public IEnumerator<ZoneRecord> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
