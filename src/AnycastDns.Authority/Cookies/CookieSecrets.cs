using System.Buffers.Binary;
using System.Security.Cryptography;

namespace AnycastDns.Authority.Cookies;

/// <summary>
/// The server secrets of DNS cookies (RFC 7873 §7.1, RFC 9018 §5): the first makes every new server cookie, and a
/// received cookie is valid if any of them made it. So a secret is rolled over (RFC 9018 §5) by adding the new one
/// second everywhere, then moving it first everywhere, then dropping the old one, and no cookie in use stops verifying
/// on the way. For anycast every PoP holds the same list, so that a cookie made at one verifies at all. Immutable.
/// </summary>
public sealed class CookieSecrets
{
    /// <summary>RFC 9018 §4.4: SipHash-2-4 takes a 128-bit key, which is the secret.</summary>
    public const int SecretLength = SipHash24.KeyLength;

    /// <summary>
    /// At most this many: every received cookie that does not verify is hashed with each of them, so a long list is
    /// work an attacker can ask for. A rollover needs two, three while one is half-deployed.
    /// </summary>
    public const int MaxCount = 8;

    /// <summary>The keys as SipHash takes them: the two little-endian halves of each secret, in order.</summary>
    private readonly ulong[] _keys;

    /// <summary>The secrets, the first making cookies; each <see cref="SecretLength"/> octets, 1 to <see cref="MaxCount"/> of them.</summary>
    public CookieSecrets(IReadOnlyList<byte[]> secrets)
        : this(secrets, isRandom: false)
    {
    }

    private CookieSecrets(IReadOnlyList<byte[]> secrets, bool isRandom)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (secrets.Count is 0 or > MaxCount)
        {
            throw new ArgumentException($"expected 1 to {MaxCount} cookie secrets, got {secrets.Count}", nameof(secrets));
        }
        _keys = new ulong[secrets.Count * 2];
        var fingerprints = new string[secrets.Count];
        for (int i = 0; i < secrets.Count; i++)
        {
            var secret = secrets[i];
            if (secret is not { Length: SecretLength })
            {
                throw new ArgumentException($"cookie secret {i + 1}: expected {SecretLength} octets, got {secret?.Length ?? 0}", nameof(secrets));
            }
            _keys[2 * i] = BinaryPrimitives.ReadUInt64LittleEndian(secret);
            _keys[2 * i + 1] = BinaryPrimitives.ReadUInt64LittleEndian(secret.AsSpan(8));
            fingerprints[i] = FingerprintOf(secret);
        }
        Fingerprints = fingerprints;
        IsRandom = isRandom;
    }

    /// <summary>One secret from the system's cryptographic generator, for a server that was given none.</summary>
    public static CookieSecrets CreateRandom() => new([RandomNumberGenerator.GetBytes(SecretLength)], isRandom: true);

    /// <summary>How many secrets verify cookies.</summary>
    public int Count => Fingerprints.Count;

    /// <summary>True for <see cref="CreateRandom"/>'s secret: one that no other server holds.</summary>
    public bool IsRandom { get; }

    /// <summary>The fingerprint of the secret that makes cookies (see <see cref="Fingerprints"/>).</summary>
    public string Fingerprint => Fingerprints[0];

    /// <summary>
    /// Per secret, in order, the first 8 hex digits of its SHA-256: enough to see that two servers hold different
    /// secrets, and nothing that helps find one (a 128-bit random secret is not found from 32 bits of its hash).
    /// </summary>
    public IReadOnlyList<string> Fingerprints { get; }

    /// <summary>The SipHash key halves of secret <paramref name="index"/>.</summary>
    internal (ulong K0, ulong K1) Key(int index) => (_keys[2 * index], _keys[2 * index + 1]);

    private static string FingerprintOf(ReadOnlySpan<byte> secret)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(secret, hash);
        return Convert.ToHexStringLower(hash[..4]);
    }
}

/// <summary>
/// The cookie secrets in force. Replacing <see cref="Current"/> swaps them all at once; a query that already read the
/// old set finishes with it.
/// </summary>
public sealed class CookieSecretsHolder(CookieSecrets initial)
{
    private CookieSecrets _current = initial ?? throw new ArgumentNullException(nameof(initial));

    public CookieSecrets Current
    {
        get => Volatile.Read(ref _current);
        set => Volatile.Write(ref _current, value ?? throw new ArgumentNullException(nameof(value)));
    }
}
