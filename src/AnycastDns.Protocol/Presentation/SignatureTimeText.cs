using System.Globalization;

namespace AnycastDns.Protocol.Presentation;

/// <summary>RRSIG signature expiration and inception times (RFC 4034 §3.2).</summary>
internal static class SignatureTimeText
{
    /// <summary>
    /// YYYYMMDDHHmmSS in UTC, or seconds since 1970 as a decimal integer. Dates past 2106 wrap modulo 2^32, since the
    /// fields compare in serial-number arithmetic (RFC 4034 §3.1.5).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out uint value)
    {
        value = 0;
        if (text.Length == 14)
        {
            foreach (char c in text)
            {
                if (!char.IsAsciiDigit(c))
                {
                    return false;
                }
            }
            int year = int.Parse(text[..4], NumberStyles.None, CultureInfo.InvariantCulture);
            int month = int.Parse(text[4..6], NumberStyles.None, CultureInfo.InvariantCulture);
            int day = int.Parse(text[6..8], NumberStyles.None, CultureInfo.InvariantCulture);
            int hour = int.Parse(text[8..10], NumberStyles.None, CultureInfo.InvariantCulture);
            int minute = int.Parse(text[10..12], NumberStyles.None, CultureInfo.InvariantCulture);
            int second = int.Parse(text[12..14], NumberStyles.None, CultureInfo.InvariantCulture);
            if (year < 1970 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
                || hour > 23 || minute > 59 || second > 59)
            {
                return false;
            }
            long seconds = new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero).ToUnixTimeSeconds();
            value = (uint)(seconds & 0xFFFFFFFF);
            return true;
        }
        if (text.Length > 10 || !RdataTextReader.TryParseDecimal(text, uint.MaxValue, out ulong number))
        {
            return false;
        }
        value = (uint)number;
        return true;
    }

    public static string Format(uint value) =>
        DateTimeOffset.FromUnixTimeSeconds(value).ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
}
