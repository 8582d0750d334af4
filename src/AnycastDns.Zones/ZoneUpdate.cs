using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// The next version of a zone made from the version served and records deleted and added at some of its owners, as
/// an IXFR brings them (RFC 1995 §4). Only the owners changed are held apart, as lists of their records; every other
/// owner's RRsets go from the version served straight into the new version's build, without an object per record,
/// so applying one changed record to a million-name zone costs one build, not one build plus a copy of every record.
/// The new version goes through the same <see cref="ZoneBuilder"/> checks as a zone file, or, when the changes stay at
/// their owners, shares every node it does not change with the version served (ZoneUpdate.SharedNodes.cs); the
/// version served is never changed.
/// </summary>
public sealed partial class ZoneUpdate
{
    private readonly Zone _current;
    private readonly Dictionary<DnsName, List<Change>> _changed = new(DnsNameComparer.Instance);
    private (uint Ttl, byte[] Rdata)? _soa;

    private readonly record struct Change(RecordType Type, uint Ttl, byte[] Rdata);

    public ZoneUpdate(Zone current)
    {
        ArgumentNullException.ThrowIfNull(current);
        _current = current;
    }

    /// <summary>The origin of the zone updated.</summary>
    public DnsName Origin => _current.Origin;

    /// <summary>The owners changed so far.</summary>
    public int ChangedOwners => _changed.Count;

    /// <summary>
    /// Deletes the record of this owner, type and RDATA (the TTL is not part of a record's identity, RFC 2181 §5.2).
    /// False when the version reached so far does not have it; the apex SOA is replaced with <see cref="SetSoa"/>, not deleted.
    /// </summary>
    public bool Delete(DnsName owner, RecordType type, ReadOnlySpan<byte> rdata)
    {
        var records = Records(owner);
        int at = IndexOf(records, type, rdata);
        if (at < 0)
        {
            return false;
        }
        records.RemoveAt(at);
        return true;
    }

    /// <summary>Adds a record; one already there with the same type and RDATA takes the new TTL.</summary>
    public void Add(DnsName owner, RecordType type, uint ttl, ReadOnlySpan<byte> rdata)
    {
        var records = Records(owner);
        int at = IndexOf(records, type, rdata);
        if (at >= 0)
        {
            records[at] = records[at] with { Ttl = ttl };
            return;
        }
        records.Add(new Change(type, ttl, rdata.ToArray()));
    }

    /// <summary>The new version's apex SOA (the one the last difference reaches).</summary>
    public void SetSoa(uint ttl, ReadOnlySpan<byte> rdata) => _soa = (ttl, rdata.ToArray());

    /// <summary>
    /// Builds the new version: the changed owners' records, then every other owner's as the version served has them.
    /// Null, with the reasons in <paramref name="diagnostics"/>, when it does not pass the checks.
    /// </summary>
    public Zone? Build(List<ZoneDiagnostic> diagnostics, string source, ZoneLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        var soa = _soa ?? (_current.Soa.RecordTtl(0), _current.Soa.Rdata(0).ToArray());
        return BuildSharingNodes(diagnostics, source, soa) ?? BuildWhole(diagnostics, source, options, soa);
    }

    /// <summary>The new version built from every record, as a zone file is: for the changes that may reach beyond their owners.</summary>
    private Zone? BuildWhole(List<ZoneDiagnostic> diagnostics, string source, ZoneLoadOptions? options, (uint Ttl, byte[] Rdata) soa)
    {
        var origin = _current.Origin;
        var location = new SourceLocation(source, 1, 1);
        var arena = new RecordArena();
        // The apex first, its SOA first, as a zone file usually starts; each owner's records stand together, so the
        // grouping meets every owner once.
        arena.Add(origin, RecordType.SOA, RecordClass.IN, soa.Ttl, soa.Rdata, location);
        AddChanged(arena, origin, Records(origin), location);
        foreach (var (owner, records) in _changed)
        {
            if (!owner.Equals(origin))
            {
                AddChanged(arena, owner, records, location);
            }
        }
        foreach (var node in _current.Nodes)
        {
            if (_changed.ContainsKey(node.Name))
            {
                continue;
            }
            foreach (var rrset in node.RRsets)
            {
                for (int i = 0; i < rrset.Count; i++)
                {
                    arena.Add(node.Name, rrset.Type, RecordClass.IN, rrset.RecordTtl(i), rrset.Rdata(i), location);
                }
            }
        }
        var grouping = new ZoneGrouping(arena, origin, _current.NodeCount + _changed.Count);
        grouping.Add(0, arena.Count);
        return ZoneBuilder.Build(grouping, diagnostics, source, options);
    }

    private static void AddChanged(RecordArena arena, DnsName owner, List<Change> records, in SourceLocation location)
    {
        foreach (var record in records)
        {
            arena.Add(owner, record.Type, RecordClass.IN, record.Ttl, record.Rdata, location);
        }
    }

    /// <summary>The owner's records as changed so far: the version served's, copied out when the owner is first changed.</summary>
    private List<Change> Records(DnsName owner)
    {
        if (_changed.TryGetValue(owner, out var records))
        {
            return records;
        }
        records = [];
        var node = _current.Find(owner);
        if (node is not null)
        {
            foreach (var rrset in node.RRsets)
            {
                if (node.IsApex && rrset.Type == RecordType.SOA)
                {
                    continue; // the SOA marks versions; the new one is set, never deleted or added as a record
                }
                for (int i = 0; i < rrset.Count; i++)
                {
                    records.Add(new Change(rrset.Type, rrset.RecordTtl(i), rrset.Rdata(i).ToArray()));
                }
            }
        }
        _changed.Add(node?.Name ?? owner, records); // the name as served keeps its case
        return records;
    }

    private static int IndexOf(List<Change> records, RecordType type, ReadOnlySpan<byte> rdata)
    {
        for (int i = 0; i < records.Count; i++)
        {
            if (records[i].Type == type && rdata.SequenceEqual(records[i].Rdata))
            {
                return i;
            }
        }
        return -1;
    }
}
