using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// An immutable snapshot of every zone served. It is built off the hot path and replaced as a whole,
/// so a query sees one consistent set from start to end.
/// </summary>
public sealed class ZoneSet
{
    public static readonly ZoneSet Empty = new([]);

    private readonly Dictionary<DnsName, Zone> _zones;
    private readonly Dictionary<DnsName, Zone>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly int _minLabels;
    private readonly Dictionary<DnsName, DnsName>? _notReady;

    /// <param name="notReady">Origins whose file is there but has never loaded: their names are not answered from a parent zone or refused, but SERVFAIL.</param>
    public ZoneSet(IEnumerable<Zone> zones, IEnumerable<DnsName>? notReady = null)
    {
        _zones = new Dictionary<DnsName, Zone>(DnsNameComparer.Instance);
        _minLabels = int.MaxValue;
        foreach (var zone in zones)
        {
            if (!_zones.TryAdd(zone.Origin, zone))
            {
                throw new ArgumentException($"zone {zone.Origin} given twice", nameof(zones));
            }
            _minLabels = Math.Min(_minLabels, zone.Origin.LabelCount);
        }
        _lookup = _zones.GetAlternateLookup<ReadOnlySpan<byte>>();
        foreach (var origin in notReady ?? [])
        {
            if (!_zones.ContainsKey(origin))
            {
                (_notReady ??= new Dictionary<DnsName, DnsName>(DnsNameComparer.Instance))[origin] = origin;
            }
        }
        var sorted = new List<Zone>(_zones.Values);
        sorted.Sort(ByOrigin);
        Zones = sorted;
    }

    private ZoneSet(Dictionary<DnsName, Zone> zones, List<Zone> sorted, Dictionary<DnsName, DnsName>? notReady)
    {
        _zones = zones;
        _lookup = _zones.GetAlternateLookup<ReadOnlySpan<byte>>();
        _minLabels = int.MaxValue;
        foreach (var zone in sorted)
        {
            _minLabels = Math.Min(_minLabels, zone.Origin.LabelCount);
        }
        _notReady = notReady is { Count: > 0 } ? notReady : null;
        Zones = sorted;
    }

    private static readonly Comparer<Zone> ByOrigin = Comparer<Zone>.Create((a, b) => a.Origin.CompareTo(b.Origin));

    /// <summary>
    /// This snapshot with a few zones changed, made without sorting or hashing the others again: one zone re-read among
    /// 100,000 costs copies of two tables, not a new snapshot built from every zone. <paramref name="drop"/> are origins no
    /// longer served nor waiting; then <paramref name="serve"/> are added or replace the version of their origin, and
    /// <paramref name="notReady"/> are origins whose file has never loaded. The result equals a snapshot built whole from
    /// the same zones (<c>ZoneCatalogTests</c> compares them). Cost: the copies, plus a shift of the ordered list per zone
    /// added or dropped, so a caller with many changes builds whole.
    /// </summary>
    public ZoneSet With(IEnumerable<DnsName> drop, IEnumerable<Zone> serve, IEnumerable<DnsName> notReady)
    {
        var zones = new Dictionary<DnsName, Zone>(_zones, DnsNameComparer.Instance);
        var sorted = new List<Zone>(Zones);
        var waiting = _notReady is null ? null : new Dictionary<DnsName, DnsName>(_notReady, DnsNameComparer.Instance);
        foreach (var origin in drop)
        {
            if (zones.Remove(origin, out var gone))
            {
                sorted.RemoveAt(sorted.BinarySearch(gone, ByOrigin));
            }
            waiting?.Remove(origin);
        }
        foreach (var zone in serve)
        {
            int at = sorted.BinarySearch(zone, ByOrigin);
            if (zones.TryAdd(zone.Origin, zone))
            {
                sorted.Insert(~at, zone);
            }
            else
            {
                zones[zone.Origin] = zone;
                sorted[at] = zone;
            }
            waiting?.Remove(zone.Origin);
        }
        foreach (var origin in notReady)
        {
            if (!zones.ContainsKey(origin))
            {
                (waiting ??= new Dictionary<DnsName, DnsName>(DnsNameComparer.Instance))[origin] = origin;
            }
        }
        return new ZoneSet(zones, sorted, waiting);
    }

    /// <summary>Zones in canonical order of their origins.</summary>
    public IReadOnlyList<Zone> Zones { get; }

    public int Count => _zones.Count;

    /// <summary>Origins of zone files that have never loaded, in no particular order.</summary>
    public IEnumerable<DnsName> NotReady => _notReady?.Keys ?? Enumerable.Empty<DnsName>();

    /// <summary>
    /// The origin of a never-loaded zone that contains <paramref name="name"/> and is closer to it than any zone served
    /// (<paramref name="served"/>, from <see cref="FindZone"/>), or null. Cheap when every file has loaded.
    /// </summary>
    public DnsName? FindNotReady(ReadOnlySpan<byte> name, Zone? served)
    {
        if (_notReady is null)
        {
            return null;
        }
        var lookup = _notReady.GetAlternateLookup<ReadOnlySpan<byte>>();
        int stop = served is null ? name.Length : name.Length - served.Origin.Length;
        for (int offset = 0; offset < stop; offset += name[offset] + 1)
        {
            if (lookup.TryGetValue(name[offset..], out var origin))
            {
                return origin;
            }
            if (name[offset] == 0)
            {
                break;
            }
        }
        return null;
    }

    public Zone? this[DnsName origin] => _zones.GetValueOrDefault(origin);

    /// <summary>True when <paramref name="origin"/> is the origin of a zone file that has never loaded.</summary>
    public bool IsNotReady(DnsName origin) => _notReady?.ContainsKey(origin) == true;

    /// <summary>The zone with the longest origin that contains <paramref name="name"/> (an uncompressed wire name), or null.</summary>
    public Zone? FindZone(ReadOnlySpan<byte> name)
    {
        if (_zones.Count == 0)
        {
            return null;
        }
        int labels = WireName.CountLabels(name);
        int offset = 0;
        while (labels >= _minLabels)
        {
            if (_lookup.TryGetValue(name[offset..], out var zone))
            {
                return zone;
            }
            if (name[offset] == 0)
            {
                break;
            }
            offset += name[offset] + 1;
            labels--;
        }
        return null;
    }
}
