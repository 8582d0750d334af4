using System.Buffers.Binary;
using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// What changed between two versions of a zone, as IXFR sends it (RFC 1995 §4): the records the older version has and
/// the newer one does not (deleted), and the other way round (added). The apex SOA is left out of both: in IXFR it
/// marks the versions rather than being a change. A record whose TTL changed is deleted and added again, which is how
/// RFC 1995 describes any change to a record. The records are copied out of the zones (owner, TYPE, CLASS, TTL,
/// RDLENGTH, RDATA, uncompressed), so a difference keeps no version of the zone alive.
/// </summary>
public sealed class ZoneDifference
{
    private ZoneDifference(uint fromSerial, byte[] fromSoa, uint toSerial, DifferenceRecords deleted, DifferenceRecords added)
    {
        FromSerial = fromSerial;
        FromSoa = fromSoa;
        ToSerial = toSerial;
        Deleted = deleted;
        Added = added;
    }

    /// <summary>The serial of the older version.</summary>
    public uint FromSerial { get; }

    /// <summary>The older version's SOA record after its owner (TYPE, CLASS, TTL, RDLENGTH, RDATA): it opens the deletions.</summary>
    public byte[] FromSoa { get; }

    /// <summary>The serial of the newer version.</summary>
    public uint ToSerial { get; }

    /// <summary>The records to delete from the older version.</summary>
    public DifferenceRecords Deleted { get; }

    /// <summary>The records to add after the deletions.</summary>
    public DifferenceRecords Added { get; }

    /// <summary>The octets the records of both lists take: what keeping this difference costs.</summary>
    public long Octets => Deleted.Octets + Added.Octets + FromSoa.Length;

    /// <summary>
    /// The difference from <paramref name="before"/> to <paramref name="after"/>: every node of each looked up in the
    /// other, and within a node every record of each RRset looked for in the other's RRset of the same type. Linear in
    /// the two zones' sizes; for a reload, off the query path.
    /// </summary>
    public static ZoneDifference Compute(Zone before, Zone after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var deleted = new DifferenceRecords.Builder();
        var added = new DifferenceRecords.Builder();
        foreach (var node in before.Nodes)
        {
            Missing(node, after.Find(node.Name), deleted);
        }
        foreach (var node in after.Nodes)
        {
            Missing(node, before.Find(node.Name), added);
        }
        return new ZoneDifference(before.Serial, before.Soa.Encoded(0).ToArray(), after.Serial, deleted.Build(), added.Build());
    }

    /// <summary>
    /// This difference followed by <paramref name="next"/> (which must start where this one ends), condensed into one
    /// (RFC 1995 §5): a record this one adds and the next deletes is in neither, nor is a record this one deletes and
    /// the next adds back.
    /// </summary>
    public ZoneDifference Then(ZoneDifference next)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (next.FromSerial != ToSerial)
        {
            throw new ArgumentException($"the next difference starts at serial {next.FromSerial}, not at {ToSerial}", nameof(next));
        }
        var deleted = new DifferenceRecords.Builder();
        var added = new DifferenceRecords.Builder();
        Deleted.CopyExcept(next.Added, deleted);
        next.Deleted.CopyExcept(Added, deleted);
        Added.CopyExcept(next.Deleted, added);
        next.Added.CopyExcept(Deleted, added);
        return new ZoneDifference(FromSerial, FromSoa, next.ToSerial, deleted.Build(), added.Build());
    }

    /// <summary>The size of a zone in the terms of <see cref="Octets"/>: every record with its owner, uncompressed.</summary>
    public static long SizeOf(Zone zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        long octets = 0;
        foreach (var node in zone.Nodes)
        {
            foreach (var rrset in node.RRsets)
            {
                for (int i = 0; i < rrset.Count; i++)
                {
                    octets += 1 + node.Name.Length + rrset.Encoded(i).Length;
                }
            }
        }
        return octets;
    }

    /// <summary>Adds to <paramref name="into"/> every record of <paramref name="node"/> that <paramref name="other"/> lacks.</summary>
    private static void Missing(ZoneNode node, ZoneNode? other, DifferenceRecords.Builder into)
    {
        foreach (var rrset in node.RRsets)
        {
            if (node.IsApex && rrset.Type == RecordType.SOA)
            {
                continue;
            }
            var counterpart = other?.Get(rrset.Type);
            for (int i = 0; i < rrset.Count; i++)
            {
                if (counterpart is null || !Holds(counterpart, rrset.Encoded(i), i))
                {
                    into.Add(node.Name.Wire, rrset.Encoded(i));
                }
            }
        }
    }

    /// <summary>Whether <paramref name="rrset"/> has the record <paramref name="encoded"/> (same TTL and RDATA); looks at <paramref name="hint"/> first, where an unchanged RRset has it.</summary>
    private static bool Holds(RRset rrset, ReadOnlySpan<byte> encoded, int hint)
    {
        if (hint < rrset.Count && rrset.Encoded(hint).SequenceEqual(encoded))
        {
            return true;
        }
        for (int i = 0; i < rrset.Count; i++)
        {
            if (i != hint && rrset.Encoded(i).SequenceEqual(encoded))
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>
/// Records outside any zone, back to back in one array: for each, the owner's length (one octet), the owner in
/// uncompressed wire form, then TYPE, CLASS, TTL, RDLENGTH and RDATA as the zone holds them.
/// </summary>
public sealed class DifferenceRecords
{
    private readonly byte[] _octets;
    private readonly int[] _starts;

    private DifferenceRecords(byte[] octets, int[] starts)
    {
        _octets = octets;
        _starts = starts;
    }

    public int Count => _starts.Length;

    /// <summary>The octets the records take.</summary>
    public int Octets => _octets.Length;

    /// <summary>The owner of record <paramref name="index"/>, uncompressed.</summary>
    public ReadOnlySpan<byte> Owner(int index) => _octets.AsSpan(_starts[index] + 1, _octets[_starts[index]]);

    public RecordType Type(int index) => (RecordType)BinaryPrimitives.ReadUInt16BigEndian(Encoded(index));

    public uint Ttl(int index) => BinaryPrimitives.ReadUInt32BigEndian(Encoded(index)[4..]);

    public ReadOnlySpan<byte> Rdata(int index) => Encoded(index)[10..];

    /// <summary>TYPE, CLASS, TTL, RDLENGTH and RDATA of record <paramref name="index"/>.</summary>
    private ReadOnlySpan<byte> Encoded(int index) => Entry(index)[(1 + _octets[_starts[index]])..];

    /// <summary>Record <paramref name="index"/> whole, owner included: what two records are compared by.</summary>
    private ReadOnlySpan<byte> Entry(int index)
    {
        int end = index + 1 < _starts.Length ? _starts[index + 1] : _octets.Length;
        return _octets.AsSpan(_starts[index], end - _starts[index]);
    }

    /// <summary>Copies every record of this list that <paramref name="except"/> does not hold into <paramref name="into"/>.</summary>
    internal void CopyExcept(DifferenceRecords except, Builder into)
    {
        if (except.Count == 0)
        {
            for (int i = 0; i < Count; i++)
            {
                into.AddEntry(Entry(i));
            }
            return;
        }
        var index = except.Index();
        for (int i = 0; i < Count; i++)
        {
            var entry = Entry(i);
            if (!index.TryGetValue(Hash(entry), out var candidates) || !except.HoldsAny(candidates, entry))
            {
                into.AddEntry(entry);
            }
        }
    }

    private bool HoldsAny(List<int> candidates, ReadOnlySpan<byte> entry)
    {
        foreach (int j in candidates)
        {
            if (Entry(j).SequenceEqual(entry))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The records by hash of their whole entry, for <see cref="CopyExcept"/>.</summary>
    private Dictionary<int, List<int>> Index()
    {
        var index = new Dictionary<int, List<int>>(Count);
        for (int i = 0; i < Count; i++)
        {
            int hash = Hash(Entry(i));
            if (!index.TryGetValue(hash, out var list))
            {
                index[hash] = list = new List<int>(1);
            }
            list.Add(i);
        }
        return index;
    }

    private static int Hash(ReadOnlySpan<byte> entry)
    {
        var hash = new HashCode();
        hash.AddBytes(entry);
        return hash.ToHashCode();
    }

    internal sealed class Builder
    {
        private readonly List<int> _starts = [];
        private byte[] _octets = new byte[256];
        private int _length;

        public void Add(ReadOnlySpan<byte> owner, ReadOnlySpan<byte> encoded)
        {
            Reserve(1 + owner.Length + encoded.Length);
            _starts.Add(_length);
            _octets[_length++] = (byte)owner.Length;
            owner.CopyTo(_octets.AsSpan(_length));
            _length += owner.Length;
            encoded.CopyTo(_octets.AsSpan(_length));
            _length += encoded.Length;
        }

        public void AddEntry(ReadOnlySpan<byte> entry)
        {
            Reserve(entry.Length);
            _starts.Add(_length);
            entry.CopyTo(_octets.AsSpan(_length));
            _length += entry.Length;
        }

        public DifferenceRecords Build() => new(_octets.AsSpan(0, _length).ToArray(), [.. _starts]);

        private void Reserve(int octets)
        {
            if (_length + octets > _octets.Length)
            {
                Array.Resize(ref _octets, Math.Max(_octets.Length * 2, _length + octets));
            }
        }
    }
}
