using System.Buffers.Binary;
using System.Security.Cryptography;
using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// The NSEC3 chain a zone's NSEC3PARAM names (RFC 5155 §4): its hash parameters and the hashed owners in hash order,
/// built at load. At query time a name is hashed into a stack buffer (RFC 5155 §5) and the matching or covering NSEC3
/// is found by binary search: no scan, no allocation.
/// </summary>
public sealed class Nsec3Chain
{
    /// <summary>The only NSEC3 hash algorithm defined: SHA-1 (RFC 5155 §11).</summary>
    public const byte Sha1 = 1;

    /// <summary>Octets of a SHA-1 hash.</summary>
    public const int HashLength = 20;

    /// <summary>The Opt-Out flag of NSEC3 RDATA (RFC 5155 §3.1.2.1).</summary>
    public const byte OptOutFlag = 1;

    private readonly byte[] _salt;
    private readonly byte[] _hashes;
    private readonly ZoneNode[] _owners;

    private Nsec3Chain(ushort iterations, byte[] salt, byte[] hashes, ZoneNode[] owners)
    {
        Iterations = iterations;
        _salt = salt;
        _hashes = hashes;
        _owners = owners;
    }

    public ushort Iterations { get; }

    public ReadOnlySpan<byte> Salt => _salt;

    public int Count => _owners.Length;

    /// <summary>
    /// Marks every NSEC3 owner of <paramref name="zone"/> as such, and builds the chain of those whose NSEC3 carries the
    /// parameters of <paramref name="nsec3param"/> (the apex NSEC3PARAM RDATA). Null when no NSEC3 matches them.
    /// </summary>
    internal static Nsec3Chain? Build(Zone zone, ReadOnlySpan<byte> nsec3param)
    {
        bool usable = TryReadParameters(nsec3param, out byte algorithm, out ushort iterations, out var salt) && algorithm == Sha1;
        var hashes = new List<(byte[] Hash, ZoneNode Owner)>();
        Span<byte> hash = stackalloc byte[HashLength];
        foreach (var node in zone.Nodes)
        {
            if (node.Get(RecordType.NSEC3) is not { } nsec3)
            {
                continue;
            }
            node.IsNsec3Owner = true;
            if (!usable || node.Parent != zone.Apex || !TryDecodeOwnerHash(node.Name.Label(0), hash))
            {
                continue;
            }
            for (int i = 0; i < nsec3.Count; i++)
            {
                if (TryReadParameters(nsec3.Rdata(i), out byte a, out ushort n, out var s) && a == algorithm && n == iterations && s.SequenceEqual(salt))
                {
                    hashes.Add((hash.ToArray(), node));
                    break;
                }
            }
        }
        if (!usable || hashes.Count == 0)
        {
            return null;
        }
        hashes.Sort((x, y) => x.Hash.AsSpan().SequenceCompareTo(y.Hash));
        var flat = new byte[hashes.Count * HashLength];
        var owners = new ZoneNode[hashes.Count];
        for (int i = 0; i < owners.Length; i++)
        {
            hashes[i].Hash.CopyTo(flat, i * HashLength);
            owners[i] = hashes[i].Owner;
        }
        return new Nsec3Chain(iterations, salt.ToArray(), flat, owners);
    }

    /// <summary>Reads the hash algorithm, iterations and salt that NSEC3 and NSEC3PARAM RDATA both start with (RFC 5155 §3.2, §4.2).</summary>
    public static bool TryReadParameters(ReadOnlySpan<byte> rdata, out byte algorithm, out ushort iterations, out ReadOnlySpan<byte> salt)
    {
        algorithm = 0;
        iterations = 0;
        salt = default;
        if (rdata.Length < 5 || rdata.Length < 5 + rdata[4])
        {
            return false;
        }
        algorithm = rdata[0];
        iterations = BinaryPrimitives.ReadUInt16BigEndian(rdata[2..]);
        salt = rdata.Slice(5, rdata[4]);
        return true;
    }

    /// <summary>True when the NSEC3 RDATA has the Opt-Out flag (RFC 5155 §3.1.2.1).</summary>
    public static bool IsOptOut(ReadOnlySpan<byte> nsec3Rdata) => nsec3Rdata.Length > 1 && (nsec3Rdata[1] & OptOutFlag) != 0;

    /// <summary>
    /// The hash of <paramref name="name"/> under the chain's parameters: IH(salt, name, iterations) of RFC 5155 §5, the
    /// name in canonical (lower-case) wire form. Writes <see cref="HashLength"/> octets; allocates nothing.
    /// </summary>
    public void Hash(ReadOnlySpan<byte> name, Span<byte> hash)
    {
        Span<byte> input = stackalloc byte[DnsName.MaxLength + byte.MaxValue];
        name.CopyTo(input);
        WireName.ToLowerInPlace(input[..name.Length]);
        _salt.CopyTo(input[name.Length..]);
#pragma warning disable CA5350 // RFC 5155 §5 defines the NSEC3 hash as SHA-1; it is not used for secrecy here.
        SHA1.HashData(input[..(name.Length + _salt.Length)], hash);
        for (int i = 0; i < Iterations; i++)
        {
            hash[..HashLength].CopyTo(input);
            _salt.CopyTo(input[HashLength..]);
            SHA1.HashData(input[..(HashLength + _salt.Length)], hash);
        }
#pragma warning restore CA5350
    }

    /// <summary>The owner of the NSEC3 whose hashed owner is <paramref name="hash"/>, or null.</summary>
    public ZoneNode? Matching(ReadOnlySpan<byte> hash)
    {
        int at = Predecessor(hash);
        return at >= 0 && HashAt(at).SequenceEqual(hash[..HashLength]) ? _owners[at] : null;
    }

    /// <summary>
    /// The owner of the NSEC3 that covers <paramref name="hash"/>: the last hashed owner before it, or the last of all
    /// when it sorts first, since the chain wraps round (RFC 5155 §3.1.7).
    /// </summary>
    public ZoneNode Covering(ReadOnlySpan<byte> hash)
    {
        int at = Predecessor(hash);
        return at < 0 ? _owners[^1] : _owners[at];
    }

    /// <summary>The owner of the NSEC3 matching <paramref name="name"/>, or null.</summary>
    public ZoneNode? MatchingName(ReadOnlySpan<byte> name)
    {
        Span<byte> hash = stackalloc byte[HashLength];
        Hash(name, hash);
        return Matching(hash);
    }

    /// <summary>The owner of the NSEC3 covering (or, were the name to exist, matching) <paramref name="name"/>.</summary>
    public ZoneNode CoveringName(ReadOnlySpan<byte> name)
    {
        Span<byte> hash = stackalloc byte[HashLength];
        Hash(name, hash);
        return Covering(hash);
    }

    /// <summary>Index of the last hash at or before <paramref name="hash"/>, or -1.</summary>
    private int Predecessor(ReadOnlySpan<byte> hash)
    {
        hash = hash[..HashLength];
        int lo = 0, hi = _owners.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            if (HashAt(mid).SequenceCompareTo(hash) <= 0)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return found;
    }

    private ReadOnlySpan<byte> HashAt(int index) => _hashes.AsSpan(index * HashLength, HashLength);

    /// <summary>Decodes the first label of an NSEC3 owner, base32hex without padding (RFC 4648 §7, RFC 5155 §3), as a SHA-1 hash.</summary>
    private static bool TryDecodeOwnerHash(ReadOnlySpan<byte> label, Span<byte> hash)
    {
        // 20 octets are 160 bits: 32 base32 digits of 5 bits.
        if (label.Length != 32)
        {
            return false;
        }
        int bits = 0, buffer = 0, at = 0;
        foreach (byte c in label)
        {
            int value = c switch
            {
                >= (byte)'0' and <= (byte)'9' => c - '0',
                >= (byte)'a' and <= (byte)'v' => c - 'a' + 10,
                >= (byte)'A' and <= (byte)'V' => c - 'A' + 10,
                _ => -1,
            };
            if (value < 0)
            {
                return false;
            }
            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                hash[at++] = (byte)(buffer >> bits);
                buffer &= (1 << bits) - 1;
            }
        }
        return at == HashLength;
    }
}
