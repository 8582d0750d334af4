namespace AnycastDns.Protocol.Tsig;

/// <summary>
/// A TSIG key (RFC 8945 §4.1): its name, its algorithm and the shared secret. The secret stays inside this assembly's
/// MAC computation: nothing public reads it, and <see cref="ToString"/> leaves it out, so no log line or status page
/// can show it.
/// </summary>
public sealed class TsigKey
{
    private readonly byte[] _secret;

    public TsigKey(DnsName name, TsigAlgorithm algorithm, ReadOnlySpan<byte> secret)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (secret.IsEmpty)
        {
            throw new ArgumentException("a TSIG secret cannot be empty", nameof(secret));
        }
        Name = name.ToLowerCase();
        Algorithm = algorithm;
        _secret = secret.ToArray();
    }

    /// <summary>The key's name, lower case: as it goes into the MAC (RFC 8945 §4.3.3, canonical form).</summary>
    public DnsName Name { get; }

    public TsigAlgorithm Algorithm { get; }

    /// <summary>False for HMAC-SHA1: such a key verifies what an old peer signed, and this server signs nothing with it.</summary>
    public bool CanSign => Algorithm != TsigAlgorithm.HmacSha1;

    internal ReadOnlySpan<byte> Secret => _secret;

    /// <summary>The name and the algorithm, never the secret.</summary>
    public override string ToString() => $"{Name} ({TsigAlgorithms.Name(Algorithm)})";
}

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
