using System.Globalization;
using System.Text;

namespace AnycastDns.Protocol.Presentation;

/// <summary>IPv4 and IPv6 addresses as dig prints them.</summary>
internal static class AddressText
{
    public static void AppendIPv4(StringBuilder sb, ReadOnlySpan<byte> a) =>
        sb.Append(a[0]).Append('.').Append(a[1]).Append('.').Append(a[2]).Append('.').Append(a[3]);

    /// <summary>
    /// RFC 5952 §4: lower-case hex, no leading zeros, the longest run of two or more zero groups (the first of equal
    /// runs) as "::". Like inet_ntop (and so dig), ::ffff:a.b.c.d and ::a.b.c.d keep the dotted tail (RFC 5952 §5).
    /// </summary>
    public static void AppendIPv6(StringBuilder sb, ReadOnlySpan<byte> a)
    {
        Span<int> words = stackalloc int[8];
        for (int i = 0; i < 8; i++)
        {
            words[i] = (a[2 * i] << 8) | a[2 * i + 1];
        }
        int bestStart = -1, bestLength = 0;
        for (int i = 0; i < 8;)
        {
            if (words[i] != 0)
            {
                i++;
                continue;
            }
            int start = i;
            while (i < 8 && words[i] == 0)
            {
                i++;
            }
            if (i - start > bestLength)
            {
                bestStart = start;
                bestLength = i - start;
            }
        }
        if (bestLength < 2)
        {
            bestStart = -1;
        }
        bool dottedTail = bestStart == 0 && (bestLength == 6 || (bestLength == 5 && words[5] == 0xFFFF));
        int end = dottedTail ? 6 : 8;
        bool needColon = false;
        int w = 0;
        while (w < end)
        {
            if (w == bestStart)
            {
                sb.Append("::");
                w += bestLength;
                needColon = false;
                continue;
            }
            if (needColon)
            {
                sb.Append(':');
            }
            sb.Append(words[w].ToString("x", CultureInfo.InvariantCulture));
            needColon = true;
            w++;
        }
        if (dottedTail)
        {
            if (needColon)
            {
                sb.Append(':');
            }
            AppendIPv4(sb, a[12..]);
        }
    }
}
