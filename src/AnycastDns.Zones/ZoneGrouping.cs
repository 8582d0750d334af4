using System.Runtime.InteropServices;
using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// A zone's records gathered by owner and type as they come, each owner's node in the zone's table from its first
/// record on. The first step of a build; the records that cannot be in a zone at all are errors here.
/// </summary>
/// <remarks>
/// The records stay in their <see cref="RecordArena"/>: an owner is a slot (its node and its first RRset), an RRset a
/// slot (its type, its first and last record, how many), and the records of an RRset a chain through the arena
/// (<see cref="RecordArena.Entry.Next"/>), so that a million names make no object besides their nodes.
/// </remarks>
internal sealed class ZoneGrouping
{
    // Up to this many records, duplicates are looked for one by one; a set of the RDATA is only worth it for larger RRsets.
    private const int LinearSearchLimit = 8;

    private struct OwnerSlot
    {
        public ZoneNode Node;
        public int FirstSet;
        // The node is the version served's, standing in until a build makes the owner its own (MakeOwnNodes).
        public bool Served;
    }

    internal struct SetSlot
    {
        public int First;
        public int Last;
        public int Count;
        public int NextSet;
        public RecordType Type;
    }

    private readonly ChunkedList<OwnerSlot> _owners;
    // The RRsets' slots hold no references: outside the GC heap, as the records are (a million of them, alive until the
    // build ends, were young survivors every collection of a reload copied).
    private readonly NativeChunkedList<SetSlot> _sets = new(firstChunkShift: 4, mostChunkShift: 14);

    // Owners whose records do not stand together are met again: found by node, in a table made at the first such.
    private Dictionary<ZoneNode, int>? _ownerOfNode;

    // The RDATA of RRsets past LinearSearchLimit records, by RRset slot, for finding duplicates.
    private Dictionary<int, HashSet<int>>? _largeSets;

    // The owner slot of the last record grouped, and its owner name as the arena numbers them.
    private int _previousOwner = -1;
    private int _previousName = -1;

    // A reload's: the version served's nodes, which stand in for the owners whose names the reader took from it.
    private readonly Dictionary<DnsName, ZoneNode>? _served;

    /// <param name="expectedOwners">About how many owners will come: the node table is made that large.</param>
    /// <param name="served">
    /// For a reload, the node table of the version served: an owner whose name the reader took from it (the same
    /// <see cref="DnsName"/>, <see cref="ZoneFileParser.ServedNames"/>) is grouped under the served node instead of a new
    /// one, which a reload that shares nodes (<see cref="ZoneUpdate"/>) never needs; a build makes its own first
    /// (<see cref="MakeOwnNodes"/>). A million-name reload then makes no object per owner while it reads.
    /// </param>
    public ZoneGrouping(RecordArena arena, DnsName origin, int expectedOwners, Dictionary<DnsName, ZoneNode>? served = null)
    {
        Arena = arena;
        Origin = origin;
        _served = served;
        // A reload's owner slots hold the served nodes, old to the GC: large chunks (ChunkedList<T>.ForReferences).
        _owners = ChunkedList<OwnerSlot>.ForReferences(firstChunkShift: 4, toOldObjects: served is not null);
        // The owners' nodes go into the zone's own table as the records are grouped, so that a million names are
        // hashed into one table, not into an owner table first and a node table after.
        Nodes = new Dictionary<DnsName, ZoneNode>(expectedOwners, DnsNameComparer.Instance);
    }

    public RecordArena Arena { get; }

    public DnsName Origin { get; }

    public Dictionary<DnsName, ZoneNode> Nodes { get; }

    public List<ZoneDiagnostic> Diagnostics { get; } = new();

    /// <summary>The owners, in the order first met.</summary>
    public int OwnerCount => _owners.Count;

    public OwnerData Owner(int index) => new(this, index);

    public OwnerList Owners => new(this);

    internal ZoneNode OwnerNode(int owner) => _owners[owner].Node;

    /// <summary>The version served's node when the owner is grouped under it (a reload), else null.</summary>
    internal ZoneNode? ServedNode(int owner)
    {
        ref var slot = ref _owners[owner];
        return slot.Served ? slot.Node : null;
    }

    internal int FirstSet(int owner) => _owners[owner].FirstSet;

    internal ref SetSlot Set(int set) => ref _sets[set];

    /// <summary>Groups the arena's records from <paramref name="from"/> up to <paramref name="to"/>, in order.</summary>
    public void Add(int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            Add(i);
        }
    }

    private void Add(int record)
    {
        ref var entry = ref Arena[record];
        // The reader hands consecutive records of one owner the same DnsName, which the arena numbers once: no need
        // to check or hash it again.
        bool sameOwner = _previousOwner >= 0 && entry.Owner == _previousName;
        DnsName owner = Arena.Owner(record);
        if (!sameOwner && !owner.IsSubdomainOf(Origin))
        {
            ZoneChecks.Error(Diagnostics, Arena.Location(record), $"{owner} is outside the zone {Origin}");
            return;
        }
        if (entry.Class != RecordClass.IN)
        {
            ZoneChecks.Error(Diagnostics, Arena.Location(record), $"class {RecordTypeNames.ToText(entry.Class)} is not served; only IN zones are");
            return;
        }
        if (entry.Type is RecordType.OPT or RecordType.TSIG or RecordType.TKEY or RecordType.ANY or RecordType.AXFR
            or RecordType.IXFR or RecordType.MAILA or RecordType.MAILB)
        {
            ZoneChecks.Error(Diagnostics, Arena.Location(record), $"{RecordTypeNames.ToText(entry.Type)} is a meta-type and cannot appear in a zone (RFC 6895 §3.1)");
            return;
        }
        int slot = sameOwner ? _previousOwner : OwnerSlotOf(owner);
        AddToOwner(slot, record, ref entry);
        _previousOwner = slot;
        _previousName = entry.Owner;
    }

    private int OwnerSlotOf(DnsName owner)
    {
        ref var node = ref CollectionsMarshal.GetValueRefOrAddDefault(Nodes, owner, out bool known);
        if (!known)
        {
            // The served node only for the served name itself: a name whose case changed is a new node.
            ZoneNode? servedNode = null;
            bool served = _served?.TryGetValue(owner, out servedNode) == true && ReferenceEquals(servedNode!.Name, owner);
            node = served ? servedNode! : new ZoneNode(owner, []);
            _owners.Add(new OwnerSlot { Node = node, FirstSet = -1, Served = served });
            _ownerOfNode?.Add(node, _owners.Count - 1);
            return _owners.Count - 1;
        }
        if (_ownerOfNode is null)
        {
            _ownerOfNode = new Dictionary<ZoneNode, int>(_owners.Count, ReferenceEqualityComparer.Instance);
            for (int i = 0; i < _owners.Count; i++)
            {
                _ownerOfNode.Add(_owners[i].Node, i);
            }
        }
        return _ownerOfNode[node!];
    }

    private void AddToOwner(int owner, int record, ref RecordArena.Entry entry)
    {
        ref var ownerSlot = ref _owners[owner];
        int set = ownerSlot.FirstSet, last = -1;
        while (set >= 0 && _sets[set].Type != entry.Type)
        {
            last = set;
            set = _sets[set].NextSet;
        }
        if (set < 0)
        {
            Arena.Hold(record);
            _sets.Add(new SetSlot { First = record, Last = record, Count = 1, NextSet = -1, Type = entry.Type });
            if (last < 0)
            {
                ownerSlot.FirstSet = _sets.Count - 1;
            }
            else
            {
                _sets[last].NextSet = _sets.Count - 1;
            }
            return;
        }
        // RFC 2181 §5: an RRset holds each RR once; duplicates are dropped like BIND and Knot do.
        if (IsDuplicate(set, record))
        {
            Diagnostics.Add(new ZoneDiagnostic(Arena.Location(record), Severity.Warning,
                $"duplicate {RecordTypeNames.ToText(entry.Type)} record at {Arena.Owner(record)} dropped"));
            return;
        }
        Arena.Hold(record);
        ref var setSlot = ref _sets[set];
        Arena[setSlot.Last].Next = record;
        setSlot.Last = record;
        setSlot.Count++;
    }

    private bool IsDuplicate(int set, int record)
    {
        ref var slot = ref _sets[set];
        var comparer = CanonicalRdataComparer.ForType(slot.Type);
        var rdata = Arena.Rdata(record);
        HashSet<int>? seen = null;
        if (_largeSets?.TryGetValue(set, out seen) != true && slot.Count < LinearSearchLimit)
        {
            for (int r = slot.First; r >= 0; r = Arena[r].Next)
            {
                if (comparer.Equals(Arena.Rdata(r), rdata))
                {
                    return true;
                }
            }
            return false;
        }
        if (seen is null)
        {
            seen = new HashSet<int>(slot.Count * 2, new RdataOfRecords(Arena, comparer));
            for (int r = slot.First; r >= 0; r = Arena[r].Next)
            {
                seen.Add(r);
            }
            (_largeSets ??= new()).Add(set, seen);
        }
        return !seen.Add(record);
    }

    /// <summary>Records compared and hashed by their RDATA, as <see cref="CanonicalRdataComparer"/> compares RDATA.</summary>
    private sealed class RdataOfRecords(RecordArena arena, CanonicalRdataComparer comparer) : IEqualityComparer<int>
    {
        public bool Equals(int x, int y) => comparer.Equals(arena.Rdata(x), arena.Rdata(y));

        public int GetHashCode(int record) => comparer.GetHashCode(arena.Rdata(record));
    }

    /// <summary>
    /// Makes room for <paramref name="more"/> nodes (the empty non-terminals), and gives back what a guess of the
    /// owners' number (<see cref="ZoneLoader"/> guesses from the file's size) set aside beyond half as many again.
    /// </summary>
    /// <remarks>
    /// Trimming copies the table, and the copy is made while the zone's records as read are still held: on a million
    /// names, 29 MiB more at the load's peak to keep 8 MiB less after it (a guess of 1.33 M slots for 1.05 M names), so a
    /// table up to half too large is kept.
    /// </remarks>
    public void FitNodeTable(int more)
    {
        int needed = Nodes.Count + more;
        if (Nodes.EnsureCapacity(needed) > needed + needed / 2)
        {
            Nodes.TrimExcess(needed);
        }
    }

    /// <summary>
    /// Gives each owner grouped under a served node (a reload's) a node of its own, for a build to fill: the version
    /// served is never changed.
    /// </summary>
    public void MakeOwnNodes()
    {
        if (_served is null)
        {
            return;
        }
        for (int i = 0; i < _owners.Count; i++)
        {
            ref var slot = ref _owners[i];
            if (slot.Served)
            {
                var node = new ZoneNode(slot.Node.Name, []);
                Nodes[node.Name] = node;
                slot.Node = node;
                slot.Served = false;
            }
        }
        // Keyed by the nodes replaced; the grouping is over.
        _ownerOfNode = null;
    }

    /// <summary>Lets the records as read go once the nodes hold them and nothing reads them any more.</summary>
    public void Release()
    {
        Arena.Release();
        _owners.Clear();
        _sets.Dispose();
        _ownerOfNode = null;
        _largeSets = null;
        _previousOwner = -1;
    }

    /// <summary>The owners in the order first met, for <c>foreach</c>.</summary>
    internal readonly struct OwnerList(ZoneGrouping grouping)
    {
        public Enumerator GetEnumerator() => new(grouping);

        public struct Enumerator(ZoneGrouping grouping)
        {
            private int _index = -1;

            public readonly OwnerData Current => new(grouping, _index);

            public bool MoveNext() => ++_index < grouping.OwnerCount;
        }
    }
}

/// <summary>The records of one owner as read, gathered by type, before they become a node: a view into the grouping.</summary>
internal readonly struct OwnerData(ZoneGrouping grouping, int index)
{
    public DnsName Name => Node.Name;

    /// <summary>The node these records become, in the zone's table from the first record on.</summary>
    public ZoneNode Node => grouping.OwnerNode(index);

    /// <summary>The version served's node, in a reload, when these records were grouped under it (<see cref="ZoneGrouping.MakeOwnNodes"/>).</summary>
    public ZoneNode? ServedNode => grouping.ServedNode(index);

    /// <summary>The RRsets in the order their types were first met.</summary>
    public RRsetList Sets => new(grouping, grouping.FirstSet(index));

    public int SetCount
    {
        get
        {
            int n = 0;
            for (int set = grouping.FirstSet(index); set >= 0; set = grouping.Set(set).NextSet)
            {
                n++;
            }
            return n;
        }
    }

    public SourceLocation FirstLocation => grouping.Arena.Location(grouping.Set(grouping.FirstSet(index)).First);

    public RRsetData? Find(RecordType type)
    {
        for (int set = grouping.FirstSet(index); set >= 0; set = grouping.Set(set).NextSet)
        {
            if (grouping.Set(set).Type == type)
            {
                return new RRsetData(grouping, set);
            }
        }
        return null;
    }

    /// <summary>An owner's RRsets, for <c>foreach</c>.</summary>
    internal readonly struct RRsetList(ZoneGrouping grouping, int first)
    {
        public Enumerator GetEnumerator() => new(grouping, first);

        public struct Enumerator(ZoneGrouping grouping, int first)
        {
            private int _current = -1;
            private int _next = first;

            public readonly RRsetData Current => new(grouping, _current);

            public bool MoveNext()
            {
                if (_next < 0)
                {
                    return false;
                }
                _current = _next;
                _next = grouping.Set(_current).NextSet;
                return true;
            }
        }
    }
}

/// <summary>The records of one RRset in the order read, duplicates dropped: a view into the grouping.</summary>
internal readonly struct RRsetData(ZoneGrouping grouping, int set)
{
    public RecordType Type => grouping.Set(set).Type;

    public int Count => grouping.Set(set).Count;

    /// <summary>Record <paramref name="index"/> in the order read (found by walking from the first: for the first few).</summary>
    public RecordAsRead this[int index]
    {
        get
        {
            int r = grouping.Set(set).First;
            for (int i = 0; i < index; i++)
            {
                r = grouping.Arena[r].Next;
            }
            return new RecordAsRead(grouping.Arena, r);
        }
    }

    public Enumerator GetEnumerator() => new(grouping.Arena, grouping.Set(set).First);

    /// <summary>The records as the reader's public form has them (for ZONEMD's verification, which takes a few).</summary>
    public List<ZoneRecord> ToZoneRecords()
    {
        var records = new List<ZoneRecord>(Count);
        foreach (var record in this)
        {
            records.Add(record.ToZoneRecord());
        }
        return records;
    }

    /// <summary>
    /// The TTL a record of the RRset is served with: the RRset's first (RFC 2181 §5.2), but each RRSIG keeps its own, the
    /// TTL of the RRset it covers (RFC 4034 §3), and the zone digest hashes records with the TTL the zone gave them (RFC
    /// 8976 §3.3.1).
    /// </summary>
    public static uint ServedTtl(RecordType type, uint first, uint own) => type == RecordType.RRSIG ? own : first;

    public RRset ToRRset(RecordStore store, List<ZoneDiagnostic> diagnostics)
    {
        var arena = grouping.Arena;
        ref var slot = ref grouping.Set(set);
        var type = slot.Type;
        uint ttl = arena[slot.First].Ttl;
        // RRSIGs covering different types legitimately carry different TTLs (RFC 4034 §3).
        if (type != RecordType.RRSIG)
        {
            for (int r = arena[slot.First].Next; r >= 0; r = arena[r].Next)
            {
                if (arena[r].Ttl != ttl)
                {
                    // RFC 2181 §5.2: the TTLs of an RRset must match; use the first, as BIND does.
                    diagnostics.Add(new ZoneDiagnostic(arena.Location(r), Severity.Warning,
                        $"TTL {arena[r].Ttl} differs from {ttl} in the {RecordTypeNames.ToText(type)} RRset at {arena.Owner(r)}; using {ttl} (RFC 2181 §5.2)"));
                    break;
                }
            }
        }
        int octets = 0;
        for (int r = slot.First; r >= 0; r = arena[r].Next)
        {
            octets += 10 + arena[r].RdataLength;
        }
        var (block, start) = store.Allocate(octets);
        var records = new RRset.RecordsWriter(type, slot.Count, block, start);
        for (int r = slot.First; r >= 0; r = arena[r].Next)
        {
            records.Add(ServedTtl(type, ttl, arena[r].Ttl), arena.Rdata(r));
        }
        return records.ToRRset();
    }

    /// <summary>The build has copied this RRset's records into the zone and will not read them again (<see cref="RecordArena.Consume"/>).</summary>
    public void Consume()
    {
        var arena = grouping.Arena;
        for (int r = grouping.Set(set).First; r >= 0;)
        {
            int next = arena[r].Next;
            arena.Consume(r);
            r = next;
        }
    }

    public struct Enumerator(RecordArena arena, int first)
    {
        private int _current = -1;
        private int _next = first;

        public readonly RecordAsRead Current => new(arena, _current);

        public bool MoveNext()
        {
            if (_next < 0)
            {
                return false;
            }
            _current = _next;
            _next = arena[_current].Next;
            return true;
        }
    }
}

/// <summary>One record as read, in the arena: a view.</summary>
internal readonly struct RecordAsRead(RecordArena arena, int index)
{
    public DnsName Owner => arena.Owner(index);

    public RecordType Type => arena[index].Type;

    public uint Ttl => arena[index].Ttl;

    public ReadOnlySpan<byte> Rdata => arena.Rdata(index);

    public SourceLocation Location => arena.Location(index);

    public ZoneRecord ToZoneRecord() => arena.ToZoneRecord(index);
}
