using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// The owners of a zone's NSEC records in canonical order (RFC 4034 §4.1.1, §6.1), built at load. Finding the NSEC
/// that covers a missing name is a binary search over sort keys: no scan, no allocation.
/// </summary>
public sealed class NsecChain
{
    private readonly byte[][] _keys;
    private readonly ZoneNode[] _owners;
    private readonly int _originLabels;

    private NsecChain(byte[][] keys, ZoneNode[] owners, int originLabels)
    {
        _keys = keys;
        _owners = owners;
        _originLabels = originLabels;
    }

    public int Count => _owners.Length;

    /// <summary>The chain of the nodes that own an NSEC RRset, or null when there are none.</summary>
    internal static NsecChain? Build(Zone zone)
    {
        var owners = new List<ZoneNode>();
        foreach (var node in zone.Nodes)
        {
            // RFC 4035 §2.3: glue and other data below a cut is not in the chain; only authoritative names and cuts are.
            if (node.Get(RecordType.NSEC) is not null && !node.IsOccluded)
            {
                owners.Add(node);
            }
        }
        if (owners.Count == 0)
        {
            return null;
        }
        int originLabels = zone.Origin.LabelCount;
        var keys = new byte[owners.Count][];
        var nodes = owners.ToArray();
        for (int i = 0; i < nodes.Length; i++)
        {
            keys[i] = CanonicalNameKey.Of(nodes[i].Name, originLabels);
        }
        Array.Sort(keys, nodes, KeyOrder.Instance);
        return new NsecChain(keys, nodes, originLabels);
    }

    /// <summary>
    /// The node whose NSEC matches or covers <paramref name="name"/>: the last owner at or before it in canonical order
    /// (RFC 4034 §4.1.1). The apex comes first in the chain, so every name of the zone has one.
    /// </summary>
    public ZoneNode Covering(ReadOnlySpan<byte> name)
    {
        Span<byte> key = stackalloc byte[CanonicalNameKey.MaxLength];
        key = key[..CanonicalNameKey.Write(name, _originLabels, key)];
        if (_keys[0].AsSpan().SequenceCompareTo(key) > 0)
        {
            // Before the first owner: the last NSEC, whose next name wraps round to the apex, covers it.
            return _owners[^1];
        }
        int lo = 0, hi = _keys.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >> 1;
            if (_keys[mid].AsSpan().SequenceCompareTo(key) <= 0)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return _owners[lo];
    }

    private sealed class KeyOrder : IComparer<byte[]>
    {
        public static readonly KeyOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
