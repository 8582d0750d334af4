namespace AnycastDns.Protocol.Presentation;

/// <summary>
/// TTLs and other time intervals in master files: plain seconds (RFC 1035 §5.1) or the unit form that BIND introduced
/// with $TTL (RFC 2308 §4), e.g. <c>1h30m</c>, <c>2d</c>, <c>1W</c>: units s, m, h, d, w in either case.
/// </summary>
public static class TtlText
{
    /// <summary>RFC 2181 §8: a TTL is 31 bits; larger values are to be treated as zero.</summary>
    public const uint MaxTtl = int.MaxValue;

    /// <summary>Parses an interval; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out uint seconds, out string? error)
    {
        seconds = 0;
        error = null;
        if (text.IsEmpty)
        {
            error = "empty time value";
            return false;
        }
        ulong total = 0;
        ulong number = 0;
        bool haveNumber = false, haveUnit = false;
        foreach (char c in text)
        {
            if (char.IsAsciiDigit(c))
            {
                number = number * 10 + (ulong)(c - '0');
                if (number > uint.MaxValue)
                {
                    error = "the value does not fit in 32 bits";
                    return false;
                }
                haveNumber = true;
                continue;
            }
            ulong unit = char.ToLowerInvariant(c) switch
            {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86400,
                'w' => 604800,
                _ => 0,
            };
            if (unit == 0)
            {
                error = $"'{c}' is not a time unit (s, m, h, d, w)";
                return false;
            }
            if (!haveNumber)
            {
                error = $"the unit '{c}' has no number before it";
                return false;
            }
            total += number * unit;
            if (total > uint.MaxValue)
            {
                error = "the value does not fit in 32 bits";
                return false;
            }
            number = 0;
            haveNumber = false;
            haveUnit = true;
        }
        if (haveNumber)
        {
            if (haveUnit)
            {
                // "1h30" is ambiguous (seconds? minutes?): insist on a unit once units are used.
                error = "a number without a unit follows the units (write e.g. 1h30m)";
                return false;
            }
            total = number;
        }
        seconds = (uint)total;
        return true;
    }
}
