using System.Text;

namespace AnycastDns.Protocol.Presentation;

/// <summary>
/// Octet strings in presentation text (RFC 1035 §5.1): <c>\DDD</c> is the octet with that decimal value, <c>\X</c> is X,
/// any other character is one octet. The zone reader reads files as ISO-8859-1, so every file byte arrives as one
/// char below 256 and goes to the wire unchanged; a char above 255 (only possible in text built in memory) is written
/// as its UTF-8 octets.
/// </summary>
internal static class CharacterText
{
    /// <summary>Appends the octets <paramref name="text"/> stands for; returns an error message or null.</summary>
    public static string? Decode(ReadOnlySpan<char> text, RdataBuffer output)
    {
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\\')
            {
                if (i + 1 >= text.Length)
                {
                    return "a backslash ends the text with nothing to escape";
                }
                char next = text[i + 1];
                if (char.IsAsciiDigit(next))
                {
                    if (i + 3 >= text.Length || !char.IsAsciiDigit(text[i + 2]) || !char.IsAsciiDigit(text[i + 3]))
                    {
                        return "a \\DDD escape needs exactly three decimal digits";
                    }
                    int value = (next - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
                    if (value > 255)
                    {
                        return "a \\DDD escape above 255";
                    }
                    output.U8(value);
                    i += 3;
                    continue;
                }
                c = next;
                i++;
            }
            if (c <= 0xFF)
            {
                output.U8(c);
            }
            else
            {
                AppendUtf8(text, ref i, output);
            }
        }
        return null;
    }

    private static void AppendUtf8(ReadOnlySpan<char> text, ref int i, RdataBuffer output)
    {
        Rune.DecodeFromUtf16(text[i..], out var rune, out int used);
        Span<byte> utf8 = stackalloc byte[4];
        int count = rune.EncodeToUtf8(utf8);
        output.Bytes(utf8[..count]);
        i += used - 1;
    }

    /// <summary>
    /// Appends <paramref name="octets"/> as a quoted character-string the way dig prints it: <c>"</c> and <c>\</c>
    /// escaped with a backslash, octets outside printable ASCII as <c>\DDD</c>.
    /// </summary>
    public static void AppendQuoted(StringBuilder sb, ReadOnlySpan<byte> octets)
    {
        sb.Append('"');
        AppendEscaped(sb, octets);
        sb.Append('"');
    }

    /// <summary>The body of a quoted string, without the quotes.</summary>
    public static void AppendEscaped(StringBuilder sb, ReadOnlySpan<byte> octets)
    {
        foreach (byte b in octets)
        {
            if (b is (byte)'"' or (byte)'\\')
            {
                sb.Append('\\').Append((char)b);
            }
            else if (b is < 0x20 or > 0x7E)
            {
                AppendDecimalEscape(sb, b);
            }
            else
            {
                sb.Append((char)b);
            }
        }
    }

    public static void AppendDecimalEscape(StringBuilder sb, byte b) =>
        sb.Append('\\').Append((char)('0' + b / 100)).Append((char)('0' + b / 10 % 10)).Append((char)('0' + b % 10));
}
