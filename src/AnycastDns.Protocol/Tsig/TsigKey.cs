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
