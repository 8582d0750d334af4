using System.Buffers.Binary;
using AnycastDns.Authority.Cookies;
using AnycastDns.TestSupport;

namespace AnycastDns.Authority.Tests.Cookies;

/// <summary>
/// SipHash-2-4 against the 64 vectors of the SipHash paper (Aumasson and Bernstein 2012, Appendix A, and the reference
/// implementation's vectors.h): key 00 01 .. 0f, message i the i octets 00 01 .. (i-1), output the hash's 8 octets in
/// little-endian order. The table was computed here with this independent Python implementation of the paper's
/// pseudo-code (run with /usr/bin/python3) and compared, all 64, with a copy of the reference implementation's table:
/// <code>
/// M = (1 &lt;&lt; 64) - 1
/// def rotl(x, b): return ((x &lt;&lt; b) | (x &gt;&gt; (64 - b))) &amp; M
/// def siphash24(key, msg):
///     k0 = int.from_bytes(key[:8], 'little'); k1 = int.from_bytes(key[8:], 'little')
///     v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d, k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]
///     def rnd():
///         v[0] = (v[0] + v[1]) &amp; M; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32)
///         v[2] = (v[2] + v[3]) &amp; M; v[3] = rotl(v[3], 16); v[3] ^= v[2]
///         v[0] = (v[0] + v[3]) &amp; M; v[3] = rotl(v[3], 21); v[3] ^= v[0]
///         v[2] = (v[2] + v[1]) &amp; M; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32)
///     tail = len(msg) % 8
///     blocks = [int.from_bytes(msg[i:i+8], 'little') for i in range(0, len(msg) - tail, 8)]
///     blocks.append(int.from_bytes(msg[len(msg) - tail:], 'little') | ((len(msg) &amp; 0xff) &lt;&lt; 56))
///     for m in blocks:
///         v[3] ^= m; rnd(); rnd(); v[0] ^= m
///     v[2] ^= 0xff
///     for _ in range(4): rnd()
///     return (v[0] ^ v[1] ^ v[2] ^ v[3]).to_bytes(8, 'little')
/// for n in range(64): print(siphash24(bytes(range(16)), bytes(range(n))).hex())
/// </code>
/// </summary>
public class SipHash24Tests
{
    private static readonly string[] PaperVectors =
    [
        "310e0edd47db6f72", "fd67dc93c539f874", "5a4fa9d909806c0d", "2d7efbd796666785",
        "b7877127e09427cf", "8da699cd64557618", "cee3fe586e46c9cb", "37d1018bf50002ab",
        "6224939a79f5f593", "b0e4a90bdf82009e", "f3b9dd94c5bb5d7a", "a7ad6b22462fb3f4",
        "fbe50e86bc8f1e75", "903d84c02756ea14", "eef27a8e90ca23f7", "e545be4961ca29a1",
        "db9bc2577fcc2a3f", "9447be2cf5e99a69", "9cd38d96f0b3c14b", "bd6179a71dc96dbb",
        "98eea21af25cd6be", "c7673b2eb0cbf2d0", "883ea3e395675393", "c8ce5ccd8c030ca8",
        "94af49f6c650adb8", "eab8858ade92e1bc", "f315bb5bb835d817", "adcf6b0763612e2f",
        "a5c91da7acaa4dde", "716595876650a2a6", "28ef495c53a387ad", "42c341d8fa92d832",
        "ce7cf2722f512771", "e37859f94623f3a7", "381205bb1ab0e012", "ae97a10fd434e015",
        "b4a31508beff4d31", "81396229f0907902", "4d0cf49ee5d4dcca", "5c73336a76d8bf9a",
        "d0a704536ba93e0e", "925958fcd6420cad", "a915c29bc8067318", "952b79f3bc0aa6d4",
        "f21df2e41d4535f9", "87577519048f53a9", "10a56cf5dfcd9adb", "eb75095ccd986cd0",
        "51a9cb9ecba312e6", "96afadfc2ce666c7", "72fe52975a4364ee", "5a1645b276d592a1",
        "b274cb8ebf87870a", "6f9bb4203de7b381", "eaecb2a30b22a87f", "9924a43cc1315724",
        "bd838d3aafbf8db7", "0b1a2a3265d51aea", "135079a3231ce660", "932b2846e4d70666",
        "e1915f5cb1eca46c", "f325965ca16d629f", "575ff28e60381be5", "724506eb4c328a95",
    ];

    private static readonly byte[] PaperKey = [.. Enumerable.Range(0, 16).Select(i => (byte)i)];

    public static TheoryData<int> Lengths() => [.. Enumerable.Range(0, 64)];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Matches_the_paper_vector_for_a_message_of_this_length(int length)
    {
        byte[] message = [.. Enumerable.Range(0, length).Select(i => (byte)i)];
        Span<byte> output = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(output, SipHash24.Hash(PaperKey, message));
        Assert.Equal(PaperVectors[length], Convert.ToHexStringLower(output));
    }

    [Fact]
    public void The_key_halves_are_read_little_endian()
    {
        byte[] message = [0, 1, 2];
        Assert.Equal(SipHash24.Hash(PaperKey, message), SipHash24.Hash(0x0706050403020100UL, 0x0f0e0d0c0b0a0908UL, message));
    }

    [Fact]
    public void A_key_of_another_length_is_refused()
    {
        Assert.Throws<ArgumentException>(() => SipHash24.Hash(new byte[15], []));
    }

    [Fact]
    public void Hashing_allocates_nothing()
    {
        byte[] message = new byte[32];
        ulong sum = 0;
        Assert.Equal(0, Allocations.PerBatch(1000, i => sum += SipHash24.Hash(PaperKey, message.AsSpan(0, i % 33))));
        Assert.NotEqual(0UL, sum);
    }
}
