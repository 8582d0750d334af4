namespace AnycastDns.Protocol.Tsig;

/// <summary>The TSIG keys a server knows, found by the key name a request carries (case-insensitive, without allocating).</summary>
public sealed class TsigKeyring
{
    public static readonly TsigKeyring Empty = new([]);

    private readonly Dictionary<DnsName, TsigKey> _keys;
    private readonly Dictionary<DnsName, TsigKey>.AlternateLookup<ReadOnlySpan<byte>> _lookup;

    /// <summary>Throws <see cref="ArgumentException"/> when two keys have the same name.</summary>
    public TsigKeyring(IEnumerable<TsigKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = new Dictionary<DnsName, TsigKey>(DnsNameComparer.Instance);
        foreach (var key in keys)
        {
            if (!_keys.TryAdd(key.Name, key))
            {
                throw new ArgumentException($"two TSIG keys named {key.Name}", nameof(keys));
            }
        }
        _lookup = _keys.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public int Count => _keys.Count;

    public IEnumerable<TsigKey> Keys => _keys.Values;

    /// <summary>The key named <paramref name="name"/> (uncompressed wire form), or null.</summary>
    public TsigKey? Find(ReadOnlySpan<byte> name) => _lookup.TryGetValue(name, out var key) ? key : null;

    public TsigKey? Find(DnsName name) => _keys.GetValueOrDefault(name);
}
