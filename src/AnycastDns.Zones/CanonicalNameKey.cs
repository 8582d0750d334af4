using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// A name's position in the canonical order of RFC 4034 §6.1 as an octet string, so that finding the NSEC that covers
/// a name is a binary search with plain span comparisons. The key holds the labels below the zone's origin, rightmost
/// first, lower-cased, each ended by 0x00; octets 0x00 and 0x01 inside a label are escaped as 0x01 0x01 and
/// 0x01 0x02, so 0x00 only ends labels. A shorter label then sorts before any it is a prefix of, and a name before the
/// names below it, as §6.1 orders them.
/// </summary>
public static class CanonicalNameKey
{
    /// <summary>The longest key: every octet of a 255-octet name escaped.</summary>
    public const int MaxLength = 2 * DnsName.MaxLength;

    /// <summary>
    /// Writes the key of <paramref name="name"/> (an uncompressed wire name at or below an origin of
    /// <paramref name="originLabels"/> labels) into <paramref name="key"/> and returns its length. Allocates nothing.
    /// </summary>
    public static int Write(ReadOnlySpan<byte> name, int originLabels, Span<byte> key)
    {
        Span<byte> starts = stackalloc byte[128];
        int labels = 0;
        for (int pos = 0; name[pos] != 0; pos += name[pos] + 1)
        {
            starts[labels++] = (byte)pos;
        }
        int used = 0;
        for (int l = labels - originLabels - 1; l >= 0; l--)
        {
            int at = starts[l];
            foreach (byte octet in name.Slice(at + 1, name[at]))
            {
                byte lower = WireName.ToLower(octet);
                if (lower <= 1)
                {
                    key[used++] = 1;
                    key[used++] = (byte)(lower + 1);
                }
                else
                {
                    key[used++] = lower;
                }
            }
            key[used++] = 0;
        }
        return used;
    }

    /// <summary>The key of <paramref name="name"/> as an array, for the chains built at load.</summary>
    public static byte[] Of(DnsName name, int originLabels)
    {
        Span<byte> key = stackalloc byte[MaxLength];
        return key[..Write(name.Wire, originLabels, key)].ToArray();
    }
}
