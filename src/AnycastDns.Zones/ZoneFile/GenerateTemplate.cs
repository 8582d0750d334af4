using System.Globalization;
using System.Text;

namespace AnycastDns.Zones;

/// <summary>
/// The range and the templates of BIND's $GENERATE (BIND 9 ARM, "BIND primary file extension: the $GENERATE
/// directive"). In a template, <c>$</c> is the current value; <c>${offset[,width[,base]]}</c> adds offset and pads to
/// width in base d (decimal), o (octal), x/X (hex) or n/N (nibbles, least significant first, one per label, for
/// ip6.arpa; the width counts the dots). <c>\$</c> and, for compatibility, <c>$$</c> are a literal '$'.
/// </summary>
internal static class GenerateTemplate
{
    /// <summary>A line that expands beyond this many records is surely a typo (a /8 of reverse entries is 2^24).</summary>
    public const long MaxRecords = 1 << 24;

    private const int MaxWidth = 255;

    public static bool TryParseRange(ReadOnlySpan<char> text, out long start, out long stop, out long step, out string? error)
    {
        start = stop = 0;
        step = 1;
        error = null;
        int dash = text.IndexOf('-');
        int slash = text.IndexOf('/');
        if (dash <= 0 || (slash >= 0 && slash < dash))
        {
            error = "the range needs the form start-stop or start-stop/step";
            return false;
        }
        var stopText = slash < 0 ? text[(dash + 1)..] : text[(dash + 1)..slash];
        if (!TryParseNumber(text[..dash], out start) || !TryParseNumber(stopText, out stop)
            || (slash >= 0 && !TryParseNumber(text[(slash + 1)..], out step)))
        {
            error = "start, stop and step must be decimal numbers from 0 to 2147483647";
            return false;
        }
        if (start > stop)
        {
            error = $"start {start} is after stop {stop}";
            return false;
        }
        if (step == 0)
        {
            error = "the step must be at least 1";
            return false;
        }
        if ((stop - start) / step + 1 > MaxRecords)
        {
            error = $"the range would make more than {MaxRecords} records";
            return false;
        }
        return true;
    }

    private static bool TryParseNumber(ReadOnlySpan<char> text, out long value)
    {
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value <= int.MaxValue;
    }

    /// <summary>Appends <paramref name="template"/> with each '$' replaced for <paramref name="value"/>; returns an error or null.</summary>
    public static string? Substitute(ReadOnlySpan<char> template, long value, StringBuilder output)
    {
        for (int i = 0; i < template.Length; i++)
        {
            char c = template[i];
            if (c == '\\')
            {
                // Other escapes are left for the name or RDATA reader; "\$" reaches it as an escaped, literal '$'.
                output.Append(c);
                if (i + 1 < template.Length)
                {
                    output.Append(template[++i]);
                }
                continue;
            }
            if (c != '$')
            {
                output.Append(c);
                continue;
            }
            if (i + 1 < template.Length && template[i + 1] == '$')
            {
                output.Append("\\$");
                i++;
                continue;
            }
            if (i + 1 < template.Length && template[i + 1] == '{')
            {
                int close = template[(i + 2)..].IndexOf('}');
                if (close < 0)
                {
                    return "a '${' modifier has no closing '}'";
                }
                string? error = AppendModified(template.Slice(i + 2, close), value, output);
                if (error is not null)
                {
                    return error;
                }
                i += 2 + close;
                continue;
            }
            output.Append(value);
        }
        return null;
    }

    private static string? AppendModified(ReadOnlySpan<char> modifier, long value, StringBuilder output)
    {
        long offset = 0;
        int width = 0;
        char radix = 'd';
        int part = 0;
        foreach (var range in modifier.Split(','))
        {
            var text = modifier[range];
            switch (part++)
            {
                case 0:
                    if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out offset) || Math.Abs(offset) > int.MaxValue)
                    {
                        return $"the offset '{text}' in '${{{modifier}}}' is not an integer";
                    }
                    break;
                case 1:
                    if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out width) || width > MaxWidth)
                    {
                        return $"the width '{text}' in '${{{modifier}}}' is not a number from 0 to {MaxWidth}";
                    }
                    break;
                case 2:
                    if (text.Length != 1 || "doxXnN".IndexOf(text[0], StringComparison.Ordinal) < 0)
                    {
                        return $"the base '{text}' in '${{{modifier}}}' is not one of d, o, x, X, n, N";
                    }
                    radix = text[0];
                    break;
                default:
                    return $"'${{{modifier}}}' has more than offset, width and base";
            }
        }
        long v = value + offset;
        if (v < 0 && radix != 'd')
        {
            return $"'${{{modifier}}}' makes the negative value {v}, which base '{radix}' cannot show";
        }
        switch (radix)
        {
            case 'd':
                string digits = Math.Abs(v).ToString(CultureInfo.InvariantCulture);
                if (v < 0)
                {
                    output.Append('-');
                }
                output.Append('0', Math.Max(0, width - digits.Length - (v < 0 ? 1 : 0))).Append(digits);
                break;
            case 'o':
                Pad(output, Convert.ToString(v, 8), width);
                break;
            case 'x':
            case 'X':
                Pad(output, v.ToString(radix == 'x' ? "x" : "X", CultureInfo.InvariantCulture), width);
                break;
            default:
                AppendNibbles(output, v, width, radix == 'N');
                break;
        }
        return null;
    }

    private static void Pad(StringBuilder output, string digits, int width) =>
        output.Append('0', Math.Max(0, width - digits.Length)).Append(digits);

    /// <summary>
    /// Hex digits least significant first, each its own label: 0x1a2 is "2.a.1". Zero nibbles are added until the
    /// text, dots included, reaches <paramref name="width"/>.
    /// </summary>
    private static void AppendNibbles(StringBuilder output, long value, int width, bool upper)
    {
        string digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        int left = width;
        do
        {
            output.Append(digits[(int)(value & 15)]);
            value >>= 4;
            left--;
            if (left > 0 || value != 0)
            {
                output.Append('.');
                left--;
            }
        }
        while (value != 0 || left > 0);
    }
}
