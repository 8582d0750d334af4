using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace AnycastDns.Authority.Cookies;

/// <summary>
/// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): a 64-bit keyed hash of a short
/// message under a 128-bit key, two compression rounds per 8-octet block and four finalization rounds. RFC 9018 §4.4
/// makes it the hash of version 1 server cookies; .NET has no public implementation. Allocates nothing.
/// </summary>
internal static class SipHash24
{
    /// <summary>The key length in octets.</summary>
    public const int KeyLength = 16;

    /// <summary>
    /// The hash of <paramref name="message"/> under the key whose two little-endian halves are <paramref name="k0"/>
    /// and <paramref name="k1"/>. The paper writes the output as the 8 octets of this value in little-endian order.
    /// </summary>
    public static ulong Hash(ulong k0, ulong k1, ReadOnlySpan<byte> message)
    {
        ulong v0 = k0 ^ 0x736f6d6570736575UL; // "somepseudorandomlygeneratedbytes"
        ulong v1 = k1 ^ 0x646f72616e646f6dUL;
        ulong v2 = k0 ^ 0x6c7967656e657261UL;
        ulong v3 = k1 ^ 0x7465646279746573UL;

        int whole = message.Length & ~7;
        for (int at = 0; at < whole; at += 8)
        {
            ulong m = BinaryPrimitives.ReadUInt64LittleEndian(message[at..]);
            v3 ^= m;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }

        // The last block: the 0-7 octets left, little-endian, with the message length (mod 256) in the top octet.
        ulong last = (ulong)(byte)message.Length << 56;
        var tail = message[whole..];
        for (int i = 0; i < tail.Length; i++)
        {
            last |= (ulong)tail[i] << (8 * i);
        }
        v3 ^= last;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= last;

        v2 ^= 0xff;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        return v0 ^ v1 ^ v2 ^ v3;
    }

    /// <summary>The hash of <paramref name="message"/> under a 16-octet <paramref name="key"/>.</summary>
    public static ulong Hash(ReadOnlySpan<byte> key, ReadOnlySpan<byte> message)
    {
        if (key.Length != KeyLength)
        {
            ThrowKeyLength();
        }
        return Hash(BinaryPrimitives.ReadUInt64LittleEndian(key), BinaryPrimitives.ReadUInt64LittleEndian(key[8..]), message);
    }

    /// <summary>One SipRound: the ARX network of the paper's §2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1;
        v1 = BitOperations.RotateLeft(v1, 13);
        v1 ^= v0;
        v0 = BitOperations.RotateLeft(v0, 32);
        v2 += v3;
        v3 = BitOperations.RotateLeft(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = BitOperations.RotateLeft(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = BitOperations.RotateLeft(v1, 17);
        v1 ^= v2;
        v2 = BitOperations.RotateLeft(v2, 32);
    }

    private static void ThrowKeyLength() => throw new ArgumentException($"a SipHash key is {KeyLength} octets", "key");
}
