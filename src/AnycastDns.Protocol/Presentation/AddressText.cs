using System.Globalization;
using System.Text;

namespace AnycastDns.Protocol.Presentation;

/// <summary>IPv4 and IPv6 addresses as dig prints them, and as zone files write them.</summary>
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

    /// <summary>Dotted-quad only: four decimal parts 0-255 without leading zeros (no "1.2.3" or octal forms).</summary>
    public static bool TryParseIPv4(ReadOnlySpan<char> text, Span<byte> destination)
    {
        int part = 0, value = 0, digits = 0;
        for (int i = 0; i <= text.Length; i++)
        {
            if (i == text.Length || text[i] == '.')
            {
                if (digits == 0 || part > 3)
                {
                    return false;
                }
                destination[part++] = (byte)value;
                value = 0;
                digits = 0;
                continue;
            }
            char c = text[i];
            if (!char.IsAsciiDigit(c) || (digits == 1 && value == 0))
            {
                return false;
            }
            value = value * 10 + (c - '0');
            digits++;
            if (value > 255)
            {
                return false;
            }
        }
        return part == 4;
    }

    /// <summary>
    /// RFC 4291 §2.2 text forms: eight groups of one to four hex digits, one run of zero groups written "::", the last
    /// two groups written as a strict dotted quad; no zone index, brackets or prefix length. Parsed in place (a zone of
    /// half a million AAAA records made an IPAddress and its array for each).
    /// </summary>
    public static bool TryParseIPv6(ReadOnlySpan<char> text, Span<byte> destination)
    {
        Span<ushort> groups = stackalloc ushort[8];
        Span<byte> quad = stackalloc byte[4];
        int count = 0, gap = -1, i = 0;
        if (text.StartsWith("::"))
        {
            gap = 0;
            i = 2;
        }
        while (i < text.Length)
        {
            int digits = 0, value = 0;
            while (i + digits < text.Length && char.IsAsciiHexDigit(text[i + digits]) && digits <= 4)
            {
                value = (value << 4) | HexValue(text[i + digits]);
                digits++;
            }
            if (i + digits < text.Length && text[i + digits] == '.')
            {
                // The dotted quad ends the address and stands for its last two groups.
                if (count > 6 || !TryParseIPv4(text[i..], quad))
                {
                    return false;
                }
                groups[count++] = (ushort)(quad[0] << 8 | quad[1]);
                groups[count++] = (ushort)(quad[2] << 8 | quad[3]);
                i = text.Length;
                break;
            }
            if (digits is 0 or > 4 || count == 8)
            {
                return false;
            }
            groups[count++] = (ushort)value;
            i += digits;
            if (i == text.Length)
            {
                break;
            }
            if (text[i] != ':' || ++i == text.Length)
            {
                return false; // not a separator, or one that ends the text
            }
            if (text[i] == ':')
            {
                if (gap >= 0)
                {
                    return false; // "::" at most once
                }
                gap = count;
                i++;
            }
        }
        if (gap < 0 ? count != 8 : count > 7)
        {
            return false;
        }
        destination[..16].Clear();
        int tail = gap < 0 ? 0 : count - gap;
        for (int g = 0; g < count; g++)
        {
            int at = gap >= 0 && g >= gap ? 8 - tail + (g - gap) : g;
            destination[at * 2] = (byte)(groups[g] >> 8);
            destination[at * 2 + 1] = (byte)groups[g];
        }
        return true;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
