using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority.Transfers;

/// <summary>
/// The differences IXFR answers from (RFC 1995 §4): per zone, for each older version still kept, the condensed
/// difference from it to the version served now. Each reload that brings a zone a greater serial computes the
/// difference from the version it replaces (off the query path) and condenses it onto the older ones; an IXFR then
/// only copies records out of one difference.
/// </summary>
/// <remarks>
/// What is kept is bounded twice, whichever bound is hit first: the last <c>versions</c> versions, and differences
/// taking together at most <c>percent</c> % of the zone's own size (the oldest go first). Beyond that an IXFR is
/// answered with the whole zone, as RFC 1995 §4 allows. A change that does not increase the serial (RFC 1982) forgets
/// the zone's history: the same serial would then name two contents. Readers take the zone's entry without a lock:
/// each reload replaces it whole.
/// </remarks>
public sealed class ZoneHistory
{
    private readonly int _versions;
    private readonly int _percent;
    private Dictionary<DnsName, Kept> _zones = new(DnsNameComparer.Instance);

    /// <param name="versions">Older versions kept per zone; 0 keeps none (every IXFR answered with the whole zone).</param>
    /// <param name="percent">The most the kept differences of a zone may take, in percent of the zone's size.</param>
    public ZoneHistory(int versions, int percent)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(versions);
        ArgumentOutOfRangeException.ThrowIfNegative(percent);
        _versions = versions;
        _percent = percent;
    }

    /// <summary>The versions kept for one zone: the serial they lead to, and from each older serial the difference to it.</summary>
    private sealed record Kept(uint CurrentSerial, ZoneDifference[] Differences, long Octets);

    /// <summary>Versions kept over every zone, for metrics.</summary>
    public int Count
    {
        get
        {
            int count = 0;
            foreach (var versions in Volatile.Read(ref _zones).Values)
            {
                count += versions.Differences.Length;
            }
            return count;
        }
    }

    /// <summary>Octets the kept differences take over every zone, for metrics.</summary>
    public long Octets
    {
        get
        {
            long octets = 0;
            foreach (var versions in Volatile.Read(ref _zones).Values)
            {
                octets += versions.Octets;
            }
            return octets;
        }
    }

    /// <summary>Older versions of the zone <paramref name="origin"/> kept.</summary>
    public int Versions(DnsName origin) =>
        Volatile.Read(ref _zones).TryGetValue(origin, out var versions) ? versions.Differences.Length : 0;

    /// <summary>
    /// The difference from <paramref name="serial"/> to the version of <paramref name="zone"/> (the one a query is being
    /// answered from), or null when that older version is not kept.
    /// </summary>
    public ZoneDifference? Find(Zone zone, uint serial)
    {
        ArgumentNullException.ThrowIfNull(zone);
        if (!Volatile.Read(ref _zones).TryGetValue(zone.Origin, out var versions) || versions.CurrentSerial != zone.Serial)
        {
            // Nothing kept, or the history is a reload behind or ahead of the snapshot the query reads.
            return null;
        }
        foreach (var difference in versions.Differences)
        {
            if (difference.FromSerial == serial)
            {
                return difference;
            }
        }
        return null;
    }

    /// <summary>Takes in what a reload changed (<see cref="ZoneChange"/>s in the order they were published). Not thread-safe: one reload at a time.</summary>
    public void Record(IReadOnlyList<ZoneChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        Dictionary<DnsName, Kept>? next = null;
        foreach (var change in changes)
        {
            switch (change.Kind)
            {
                case ZoneChangeKind.Updated when change.Before is { } before && change.After is { } after:
                    next ??= new(_zones, DnsNameComparer.Instance);
                    next.TryGetValue(change.Origin, out var kept);
                    if (Next(kept, before, after) is { } versions)
                    {
                        next[change.Origin] = versions;
                    }
                    else
                    {
                        next.Remove(change.Origin);
                    }
                    break;
                case ZoneChangeKind.Added or ZoneChangeKind.Removed:
                    // A zone served anew, or no longer: nothing older of it can be told apart from what it was before.
                    next ??= new(_zones, DnsNameComparer.Instance);
                    next.Remove(change.Origin);
                    break;
            }
        }
        if (next is not null)
        {
            Volatile.Write(ref _zones, next);
        }
    }

    private Kept? Next(Kept? kept, Zone before, Zone after)
    {
        if (_versions == 0 || !SerialNumber.IsGreater(after.Serial, before.Serial))
        {
            return null;
        }
        var latest = ZoneDifference.Compute(before, after);
        long budget = ZoneDifference.SizeOf(after) * _percent / 100;
        // Newest first, so that the bounds drop the oldest.
        var differences = new List<ZoneDifference>(_versions) { latest };
        long octets = latest.Octets;
        if (octets > budget)
        {
            return null;
        }
        if (kept is not null && kept.CurrentSerial == before.Serial)
        {
            for (int i = kept.Differences.Length - 1; i >= 0 && differences.Count < _versions; i--)
            {
                var older = kept.Differences[i];
                if (older.FromSerial == after.Serial || !SerialNumber.IsGreater(after.Serial, older.FromSerial))
                {
                    break; // the serial came round again: from here on a serial no longer names one version
                }
                var condensed = older.Then(latest);
                if (octets + condensed.Octets > budget)
                {
                    break;
                }
                differences.Add(condensed);
                octets += condensed.Octets;
            }
        }
        differences.Reverse();
        return new Kept(after.Serial, [.. differences], octets);
    }
}
