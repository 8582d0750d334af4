using System.Text;

namespace AnycastDns.Protocol.Presentation;

/// <summary>Hexadecimal, base64 and base32hex (RFC 4648 §§4, 7, 8) as RDATA fields spell binary data.</summary>
internal static class BinaryText
{
    private const string UpperHex = "0123456789ABCDEF";
    private const string Base32HexAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

    public static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Upper-case hex, as BIND and Knot print digests and keys.</summary>
    public static void AppendHex(StringBuilder sb, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            sb.Append(UpperHex[b >> 4]).Append(UpperHex[b & 15]);
        }
    }

    public static void AppendBase64(StringBuilder sb, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }
        Span<char> chars = data.Length <= 1536 ? stackalloc char[(data.Length + 2) / 3 * 4] : new char[(data.Length + 2) / 3 * 4];
        Convert.TryToBase64Chars(data, chars, out int written);
        sb.Append(chars[..written]);
    }

    /// <summary>Base32 with the extended-hex alphabet and no padding, the NSEC3 next-hashed-owner form (RFC 5155 §3.3).</summary>
    public static void AppendBase32Hex(StringBuilder sb, ReadOnlySpan<byte> data)
    {
        int buffer = 0, bits = 0;
        foreach (byte b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                sb.Append(Base32HexAlphabet[(buffer >> bits) & 31]);
            }
        }
        if (bits > 0)
        {
            sb.Append(Base32HexAlphabet[(buffer << (5 - bits)) & 31]);
        }
    }

    /// <summary>Decodes unpadded base32hex into <paramref name="output"/>; returns an error message or null.</summary>
    public static string? DecodeBase32Hex(ReadOnlySpan<char> text, RdataBuffer output)
    {
        int buffer = 0, bits = 0;
        foreach (char c in text)
        {
            int v = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'A' and <= 'V' => c - 'A' + 10,
                >= 'a' and <= 'v' => c - 'a' + 10,
                _ => -1,
            };
            if (v < 0)
            {
                return c == '=' ? "padding is not used in this field" : $"'{c}' is not a base32hex digit (0-9, A-V)";
            }
            buffer = (buffer << 5) | v;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                output.U8(buffer >> bits);
                buffer &= (1 << bits) - 1;
            }
        }
        // Five or more bits left over means a digit too many; left-over bits must be zero (RFC 4648 §6).
        if (bits >= 5 || buffer != 0)
        {
            return "the base32hex text has a length or trailing bits that no octet string encodes";
        }
        return null;
    }
}
