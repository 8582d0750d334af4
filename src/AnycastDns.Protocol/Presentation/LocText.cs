using System.Globalization;
using System.Text;

namespace AnycastDns.Protocol.Presentation;

/// <summary>
/// LOC records (RFC 1876): <c>d1 [m1 [s1]] N|S d2 [m2 [s2]] E|W alt[m] [siz[m] [hp[m] [vp[m]]]]</c> in text;
/// on the wire a version octet, three precision octets and three 32-bit coordinates.
/// </summary>
internal static class LocText
{
    private const uint Equator = 1u << 31;         // RFC 1876 §2: latitude and longitude are offset by 2^31
    private const long AltitudeBase = 10000000;    // centimetres below the WGS 84 reference (100 000 m)
    private const long MaxAltitude = 4284967295;   // 2^32 - 1 - AltitudeBase, in centimetres
    private const long MaxPrecision = 9000000000;  // 9e9 cm (90 000 km), the largest mantissa-exponent value

    // ---- text to wire -------------------------------------------------------------------------------------------

    public static void Parse(RdataTextReader r)
    {
        uint latitude = Coordinate(r, 90, 'N', 'S', "latitude");
        uint longitude = Coordinate(r, 180, 'E', 'W', "longitude");
        long altitude = Meters(r, "an altitude in metres (-100000.00 to 42849672.95)", -AltitudeBase, MaxAltitude);
        // RFC 1876 §3 defaults: size 1 m, horizontal precision 10 000 m, vertical precision 10 m.
        long size = r.AtEnd ? 100 : Meters(r, "a size in metres (0 to 90000000.00)", 0, MaxPrecision);
        long horizontal = r.AtEnd ? 1000000 : Meters(r, "a horizontal precision in metres (0 to 90000000.00)", 0, MaxPrecision);
        long vertical = r.AtEnd ? 1000 : Meters(r, "a vertical precision in metres (0 to 90000000.00)", 0, MaxPrecision);
        var o = r.Output;
        o.U8(0);
        o.U8(Precision(size));
        o.U8(Precision(horizontal));
        o.U8(Precision(vertical));
        o.U32(latitude);
        o.U32(longitude);
        o.U32((uint)(altitude + AltitudeBase));
    }

    private static uint Coordinate(RdataTextReader r, int maxDegrees, char positive, char negative, string what)
    {
        string hemispheres = $"{positive} or {negative}";
        uint degrees = r.Number($"the {what} degrees (0-{maxDegrees})", (uint)maxDegrees);
        long thousandths = degrees * 3600000L;
        int hemisphere = Hemisphere(r, positive, negative);
        if (hemisphere == 0)
        {
            thousandths += r.Number($"the {what} minutes (0-59) or {hemispheres}", 59) * 60000L;
            hemisphere = Hemisphere(r, positive, negative);
            if (hemisphere == 0)
            {
                thousandths += Seconds(r, $"the {what} seconds (0-59.999) or {hemispheres}");
                hemisphere = Hemisphere(r, positive, negative);
                if (hemisphere == 0)
                {
                    throw r.AtEnd ? r.Missing(hemispheres) : r.Expected(r.Index, hemispheres);
                }
            }
        }
        if (thousandths > maxDegrees * 3600000L)
        {
            throw r.Fail(r.Index - 1, $"the {what} is beyond {maxDegrees} degrees");
        }
        return (uint)(Equator + hemisphere * thousandths);
    }

    /// <summary>+1 or -1 after consuming a hemisphere letter, 0 (consuming nothing) when the next token is not one.</summary>
    private static int Hemisphere(RdataTextReader r, char positive, char negative)
    {
        if (r.AtEnd || r.Tokens.IsQuoted(r.Index) || r.Tokens[r.Index].Length != 1)
        {
            return 0;
        }
        char c = char.ToUpperInvariant(r.Tokens[r.Index][0]);
        if (c != positive && c != negative)
        {
            return 0;
        }
        r.Index++;
        return c == positive ? 1 : -1;
    }

    private static long Seconds(RdataTextReader r, string what)
    {
        var text = r.Take(what);
        if (!TryParseFixed(text, 3, out long value, out bool negative) || negative || value >= 60000)
        {
            throw r.Expected(r.Index - 1, what);
        }
        return value;
    }

    private static long Meters(RdataTextReader r, string what, long min, long max)
    {
        var text = r.Take(what);
        if (text.Length > 0 && text[^1] is 'm' or 'M')
        {
            text = text[..^1];
        }
        if (!TryParseFixed(text, 2, out long value, out bool negative) || (negative ? -value : value) < min || value > max)
        {
            throw r.Expected(r.Index - 1, what);
        }
        return negative ? -value : value;
    }

    /// <summary>Parses [-]digits[.fraction] with at most <paramref name="decimals"/> fraction digits, scaled by 10^decimals.</summary>
    private static bool TryParseFixed(ReadOnlySpan<char> text, int decimals, out long value, out bool negative)
    {
        value = 0;
        negative = text.Length > 0 && text[0] == '-';
        if (negative)
        {
            text = text[1..];
        }
        int dot = text.IndexOf('.');
        var whole = dot < 0 ? text : text[..dot];
        var fraction = dot < 0 ? default : text[(dot + 1)..];
        if (whole.IsEmpty || whole.Length > 11 || fraction.Length > decimals || (dot >= 0 && fraction.IsEmpty))
        {
            return false;
        }
        foreach (char c in whole)
        {
            if (!char.IsAsciiDigit(c)) return false;
            value = value * 10 + (c - '0');
        }
        for (int i = 0; i < decimals; i++)
        {
            char c = i < fraction.Length ? fraction[i] : '0';
            if (!char.IsAsciiDigit(c)) return false;
            value = value * 10 + (c - '0');
        }
        return true;
    }

    /// <summary>
    /// Centimetres to the mantissa-exponent octet of RFC 1876 §2 (value = mantissa × 10^exponent cm), truncating as
    /// the RFC's reference code does: 15 m is stored as 10 m.
    /// </summary>
    private static int Precision(long centimetres)
    {
        int exponent = 0;
        long power = 1;
        while (exponent < 9 && centimetres >= power * 10)
        {
            power *= 10;
            exponent++;
        }
        long mantissa = Math.Min(9, centimetres / power);
        return (int)(mantissa << 4) | exponent;
    }

    // ---- wire to text -------------------------------------------------------------------------------------------

    public static bool TryFormat(ReadOnlySpan<byte> rdata, StringBuilder sb)
    {
        var w = new WireCursor(rdata);
        byte version = w.U8();
        byte size = w.U8(), horizontal = w.U8(), vertical = w.U8();
        uint latitude = w.U32(), longitude = w.U32(), altitude = w.U32();
        // Only version 0 is defined (RFC 1876 §2); other versions have another layout.
        if (!w.Complete || version != 0 || !ValidPrecision(size) || !ValidPrecision(horizontal) || !ValidPrecision(vertical))
        {
            return false;
        }
        long lat = (long)latitude - Equator, lon = (long)longitude - Equator;
        if (Math.Abs(lat) > 90 * 3600000L || Math.Abs(lon) > 180 * 3600000L)
        {
            return false;
        }
        AppendCoordinate(sb, lat, 'N', 'S');
        sb.Append(' ');
        AppendCoordinate(sb, lon, 'E', 'W');
        long alt = (long)altitude - AltitudeBase;
        sb.Append(' ');
        if (alt < 0)
        {
            sb.Append('-');
        }
        long absolute = Math.Abs(alt);
        sb.Append(CultureInfo.InvariantCulture, $"{absolute / 100}.{absolute % 100:00}m ");
        AppendPrecision(sb, size);
        sb.Append(' ');
        AppendPrecision(sb, horizontal);
        sb.Append(' ');
        AppendPrecision(sb, vertical);
        return true;
    }

    /// <summary>Mantissa and exponent 0-9; a zero mantissa only with exponent 0, the one way to write zero.</summary>
    private static bool ValidPrecision(byte b) => b >> 4 <= 9 && (b & 15) <= 9 && (b >> 4 != 0 || (b & 15) == 0);

    private static void AppendCoordinate(StringBuilder sb, long thousandths, char positive, char negative)
    {
        char hemisphere = thousandths < 0 ? negative : positive;
        long v = Math.Abs(thousandths);
        sb.Append(CultureInfo.InvariantCulture, $"{v / 3600000} {v / 60000 % 60} {v / 1000 % 60}.{v % 1000:000} {hemisphere}");
    }

    /// <summary>Whole metres when the exponent reaches metres, else "0.cc" (dig's style).</summary>
    private static void AppendPrecision(StringBuilder sb, byte b)
    {
        int mantissa = b >> 4, exponent = b & 15;
        if (exponent >= 2)
        {
            long metres = mantissa;
            for (int i = 2; i < exponent; i++)
            {
                metres *= 10;
            }
            sb.Append(metres).Append('m');
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture, $"0.{mantissa * (exponent == 1 ? 10 : 1):00}m");
        }
    }
}
