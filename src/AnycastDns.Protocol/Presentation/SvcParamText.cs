using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace AnycastDns.Protocol.Presentation;

/// <summary>
/// The SvcParams of SVCB and HTTPS records (RFC 9460 §2.1, §7, §8; dohpath from RFC 9461 §5): <c>key=value</c>
/// tokens in text, (key, length, value) triples in strictly increasing key order on the wire.
/// </summary>
internal static class SvcParamText
{
    public const int Mandatory = 0, Alpn = 1, NoDefaultAlpn = 2, Port = 3, Ipv4Hint = 4, Ech = 5, Ipv6Hint = 6, DohPath = 7;

    /// <summary>RFC 9460 §14.3.2: 65535 is the reserved "Invalid key".</summary>
    private const int InvalidKey = 65535;

    private static readonly string[] Names = ["mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint", "dohpath"];

    public static string KeyName(int key) =>
        key < Names.Length ? Names[key] : "key" + key.ToString(CultureInfo.InvariantCulture);

    /// <summary>The key number for a name or keyNNNNN, or -1.</summary>
    public static int ParseKey(ReadOnlySpan<char> text)
    {
        for (int i = 0; i < Names.Length; i++)
        {
            // Keys are lower case in presentation form (RFC 9460 §2.1).
            if (text.SequenceEqual(Names[i]))
            {
                return i;
            }
        }
        if (text.Length > 3 && text.StartsWith("key", StringComparison.Ordinal)
            && RdataTextReader.TryParseDecimal(text[3..], ushort.MaxValue, out ulong number) && number != InvalidKey)
        {
            return (int)number;
        }
        return -1;
    }

    // ---- text to wire -------------------------------------------------------------------------------------------

    private readonly record struct Param(int Key, int ValueStart, int ValueLength, int TokenIndex);

    public static void Parse(RdataTextReader r)
    {
        var values = new RdataBuffer();
        var scratch = new RdataBuffer();
        var parameters = new List<Param>();
        var tokens = r.Tokens;
        while (!r.AtEnd)
        {
            int index = r.Index;
            if (tokens.IsQuoted(index))
            {
                throw r.Fail(index, $"expected a SvcParam (key=value), got the quoted string {r.Show(index)}");
            }
            var token = tokens[index];
            r.Index++;
            int equals = token.IndexOf('=');
            var keyText = equals < 0 ? token : token[..equals];
            int key = ParseKey(keyText);
            if (key < 0)
            {
                throw r.Fail(index, $"unknown SvcParam key '{keyText}' (expected mandatory, alpn, no-default-alpn, port, ipv4hint, ech, ipv6hint, dohpath or keyNNNNN)");
            }
            bool hasValue = equals >= 0;
            var valueText = hasValue ? token[(equals + 1)..] : default;
            // key="quoted value": the lexer leaves the quoted part as the next token, attached to this one.
            if (hasValue && valueText.IsEmpty && !r.AtEnd && tokens.IsQuoted(r.Index) && tokens.IsAttached(r.Index))
            {
                valueText = tokens[r.Index];
                r.Index++;
            }
            scratch.Clear();
            string? error = CharacterText.Decode(valueText, scratch);
            if (error is not null)
            {
                throw r.Fail(index, $"the value of {keyText}: {error}");
            }
            int start = values.Length;
            bool generic = key < Names.Length && !keyText.SequenceEqual(Names[key]);
            error = ParseValue(key, generic, hasValue, scratch.Written, values);
            if (error is not null)
            {
                throw r.Fail(index, error);
            }
            if (values.Length - start > ushort.MaxValue)
            {
                throw r.Fail(index, $"the value of {KeyName(key)} is longer than 65535 octets");
            }
            parameters.Add(new Param(key, start, values.Length - start, index));
        }
        // Keys go on the wire in strictly increasing order (RFC 9460 §2.2); a key may appear once.
        parameters.Sort((a, b) => a.Key != b.Key ? a.Key.CompareTo(b.Key) : a.TokenIndex.CompareTo(b.TokenIndex));
        for (int i = 1; i < parameters.Count; i++)
        {
            if (parameters[i].Key == parameters[i - 1].Key)
            {
                throw r.Fail(parameters[i].TokenIndex, $"the SvcParam {KeyName(parameters[i].Key)} appears more than once (RFC 9460 §2.2)");
            }
        }
        CheckConsistency(r, parameters, values);
        foreach (var p in parameters)
        {
            r.Output.U16(p.Key);
            r.Output.U16(p.ValueLength);
            r.Output.Bytes(values.Written.Slice(p.ValueStart, p.ValueLength));
        }
    }

    /// <summary>RFC 9460 §8: every key listed in mandatory is present; §7.1.1: no-default-alpn needs alpn.</summary>
    private static void CheckConsistency(RdataTextReader r, List<Param> parameters, RdataBuffer values)
    {
        bool HasKey(int key) => parameters.Exists(p => p.Key == key);
        foreach (var p in parameters)
        {
            if (p.Key == Mandatory)
            {
                var list = values.Written.Slice(p.ValueStart, p.ValueLength);
                for (int i = 0; i < list.Length; i += 2)
                {
                    int listed = BinaryPrimitives.ReadUInt16BigEndian(list[i..]);
                    if (!HasKey(listed))
                    {
                        throw r.Fail(p.TokenIndex, $"mandatory lists {KeyName(listed)}, which the record does not have (RFC 9460 §8)");
                    }
                }
            }
            else if (p.Key == NoDefaultAlpn && !HasKey(Alpn))
            {
                throw r.Fail(p.TokenIndex, "no-default-alpn needs an alpn parameter beside it (RFC 9460 §7.1.1)");
            }
        }
    }

    /// <summary>Appends the wire value of one parameter; returns an error message or null.</summary>
    private static string? ParseValue(int key, bool generic, bool hasValue, ReadOnlySpan<byte> value, RdataBuffer output)
    {
        string name = KeyName(key);
        if (generic || key >= Names.Length)
        {
            // keyNNNNN: the value is the wire octets as written; for a key this codec knows it must still be well formed.
            output.Bytes(value);
            return ValidWireValue(key, value) ? null : $"the value of key{key} is not a well-formed {name} value";
        }
        if (key is not NoDefaultAlpn && value.IsEmpty)
        {
            return $"{name} needs a value ({name}=...)";
        }
        switch (key)
        {
            case Mandatory:
                return ParseMandatory(value, output);
            case Alpn:
                return ParseAlpn(value, output);
            case NoDefaultAlpn:
                return hasValue ? "no-default-alpn takes no value" : null;
            case Port:
                if (!RdataTextReader.TryParseDecimal(Latin1(value), ushort.MaxValue, out ulong port))
                {
                    return $"expected a port number (0-65535) for port, got '{Latin1(value)}'";
                }
                output.U16((int)port);
                return null;
            case Ipv4Hint:
            case Ipv6Hint:
                return ParseAddresses(key, value, output);
            case Ech:
                // An ECHConfigList in base64 (RFC 9460 §7.3; draft-ietf-tls-svcb-ech).
                return RdataTextReader.TryDecodeBase64(Latin1(value), output) ? null : $"expected base64 for ech, got '{Latin1(value)}'";
            case DohPath:
                output.Bytes(value);
                return ValidDohPath(value) ? null : "dohpath must be a relative URI template in UTF-8 that starts with '/' and has a 'dns' variable (RFC 9461 §5)";
            default:
                output.Bytes(value);
                return null;
        }
    }

    private static string? ParseMandatory(ReadOnlySpan<byte> value, RdataBuffer output)
    {
        int start = output.Length;
        ReadOnlySpan<char> text = Latin1(value);
        foreach (var range in text.Split(','))
        {
            var item = text[range];
            int key = ParseKey(item);
            if (key < 0)
            {
                return $"mandatory lists '{item}', which is not a SvcParam key";
            }
            if (key == Mandatory)
            {
                return "mandatory must not list itself (RFC 9460 §8)";
            }
            output.U16(key);
        }
        // Sorted, no duplicates (RFC 9460 §8).
        var keys = output.Written[start..];
        Span<ushort> sorted = keys.Length <= 512 ? stackalloc ushort[keys.Length / 2] : new ushort[keys.Length / 2];
        for (int i = 0; i < sorted.Length; i++)
        {
            sorted[i] = BinaryPrimitives.ReadUInt16BigEndian(keys[(2 * i)..]);
        }
        sorted.Sort();
        for (int i = 0; i < sorted.Length; i++)
        {
            if (i > 0 && sorted[i] == sorted[i - 1])
            {
                return $"mandatory lists {KeyName(sorted[i])} twice (RFC 9460 §8)";
            }
            BinaryPrimitives.WriteUInt16BigEndian(keys[(2 * i)..], sorted[i]);
        }
        return null;
    }

    /// <summary>
    /// A comma-separated list of alpn-ids in which "\," is a comma inside an id and "\\" a backslash: the value-list
    /// escaping of RFC 9460 Appendix A.1, applied after the character-string escapes were decoded.
    /// </summary>
    private static string? ParseAlpn(ReadOnlySpan<byte> value, RdataBuffer output)
    {
        int lengthAt = output.Length;
        output.U8(0);
        for (int i = 0; i <= value.Length; i++)
        {
            if (i == value.Length || value[i] == ',')
            {
                int length = output.Length - lengthAt - 1;
                if (length == 0)
                {
                    return "alpn has an empty protocol id";
                }
                if (length > 255)
                {
                    return "an alpn protocol id is longer than 255 octets";
                }
                output.SetU8(lengthAt, length);
                if (i < value.Length)
                {
                    lengthAt = output.Length;
                    output.U8(0);
                }
                continue;
            }
            if (value[i] == '\\')
            {
                if (++i == value.Length)
                {
                    return "alpn ends with a lone backslash";
                }
            }
            output.U8(value[i]);
        }
        return null;
    }

    private static string? ParseAddresses(int key, ReadOnlySpan<byte> value, RdataBuffer output)
    {
        ReadOnlySpan<char> text = Latin1(value);
        foreach (var range in text.Split(','))
        {
            var item = text[range];
            bool ok = key == Ipv4Hint
                ? AddressText.TryParseIPv4(item, output.Extend(4))
                : AddressText.TryParseIPv6(item, output.Extend(16));
            if (!ok)
            {
                return $"expected {(key == Ipv4Hint ? "IPv4" : "IPv6")} addresses separated by commas for {KeyName(key)}, got '{item}'";
            }
        }
        return null;
    }

    private static bool ValidDohPath(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty || value[0] != '/' || !Utf8.IsValid(value))
        {
            return false;
        }
        // Look for "dns" among the variables of the template's {...} expressions (RFC 6570 §2.2).
        ReadOnlySpan<char> text = Latin1(value);
        int at = 0;
        while (true)
        {
            int open = text[at..].IndexOf('{');
            if (open < 0)
            {
                return false;
            }
            open += at;
            int close = text[open..].IndexOf('}');
            if (close < 0)
            {
                return false;
            }
            close += open;
            var expression = text[(open + 1)..close];
            if (expression.Length > 0 && "+#./;?&".Contains(expression[0], StringComparison.Ordinal))
            {
                expression = expression[1..];
            }
            foreach (var range in expression.Split(','))
            {
                var variable = expression[range];
                int modifier = variable.IndexOfAny(':', '*');
                if ((modifier < 0 ? variable : variable[..modifier]) is "dns")
                {
                    return true;
                }
            }
            at = close + 1;
        }
    }

    private static string Latin1(ReadOnlySpan<byte> value) => Encoding.Latin1.GetString(value);

    // ---- wire to text -------------------------------------------------------------------------------------------

    /// <summary>Whether a known key's value is well formed on the wire (RFC 9460 §7, RFC 9461 §5).</summary>
    public static bool ValidWireValue(int key, ReadOnlySpan<byte> v)
    {
        switch (key)
        {
            case Mandatory:
                if (v.Length == 0 || v.Length % 2 != 0) return false;
                int previous = -1;
                for (int i = 0; i < v.Length; i += 2)
                {
                    int k = BinaryPrimitives.ReadUInt16BigEndian(v[i..]);
                    if (k <= previous || k == Mandatory) return false;
                    previous = k;
                }
                return true;
            case Alpn:
                if (v.Length == 0) return false;
                for (int i = 0; i < v.Length; i += 1 + v[i])
                {
                    if (v[i] == 0 || i + 1 + v[i] > v.Length) return false;
                }
                return true;
            case NoDefaultAlpn:
                return v.Length == 0;
            case Port:
                return v.Length == 2;
            case Ipv4Hint:
                return v.Length > 0 && v.Length % 4 == 0;
            case Ech:
                return v.Length > 0;
            case Ipv6Hint:
                return v.Length > 0 && v.Length % 16 == 0;
            case DohPath:
                return ValidDohPath(v);
            default:
                return key != InvalidKey;
        }
    }

    /// <summary>
    /// Appends " key=value" for each parameter; false when the parameters are malformed or inconsistent in a way the
    /// text parser refuses (RFC 9460 §2.2 order, §7.1.1 no-default-alpn without alpn, §8 mandatory keys missing).
    /// </summary>
    public static bool TryFormat(ReadOnlySpan<byte> data, StringBuilder sb)
    {
        if (!Consistent(data))
        {
            return false;
        }
        int previous = -1;
        var w = new WireCursor(data);
        while (w.Remaining > 0)
        {
            int key = w.U16();
            var value = w.Bytes(w.U16());
            if (w.Failed || key <= previous || !ValidWireValue(key, value))
            {
                return false;
            }
            previous = key;
            sb.Append(' ').Append(KeyName(key));
            switch (key)
            {
                case Mandatory:
                    sb.Append('=');
                    for (int i = 0; i < value.Length; i += 2)
                    {
                        sb.Append(i == 0 ? "" : ",").Append(KeyName(BinaryPrimitives.ReadUInt16BigEndian(value[i..])));
                    }
                    break;
                case Alpn:
                    AppendAlpn(sb, value);
                    break;
                case NoDefaultAlpn:
                    break;
                case Port:
                    sb.Append('=').Append(BinaryPrimitives.ReadUInt16BigEndian(value));
                    break;
                case Ipv4Hint:
                    sb.Append('=');
                    for (int i = 0; i < value.Length; i += 4)
                    {
                        if (i > 0) sb.Append(',');
                        AddressText.AppendIPv4(sb, value.Slice(i, 4));
                    }
                    break;
                case Ipv6Hint:
                    sb.Append('=');
                    for (int i = 0; i < value.Length; i += 16)
                    {
                        if (i > 0) sb.Append(',');
                        AddressText.AppendIPv6(sb, value.Slice(i, 16));
                    }
                    break;
                case Ech:
                    sb.Append('=');
                    BinaryText.AppendBase64(sb, value);
                    break;
                default:
                    // dohpath and unknown keys: the value as a quoted character-string; an empty unknown value is just the key.
                    if (key == DohPath || value.Length > 0)
                    {
                        sb.Append('=');
                        CharacterText.AppendQuoted(sb, value);
                    }
                    break;
            }
        }
        return true;
    }

    private static bool Consistent(ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<byte> mandatory = default;
        bool hasAlpn = false, hasNoDefaultAlpn = false;
        var w = new WireCursor(data);
        while (w.Remaining > 0 && !w.Failed)
        {
            int key = w.U16();
            var value = w.Bytes(w.U16());
            hasAlpn |= key == Alpn;
            hasNoDefaultAlpn |= key == NoDefaultAlpn;
            if (key == Mandatory)
            {
                mandatory = value;
            }
        }
        if (w.Failed || (hasNoDefaultAlpn && !hasAlpn))
        {
            return false;
        }
        for (int i = 0; i + 1 < mandatory.Length; i += 2)
        {
            if (!HasKey(data, BinaryPrimitives.ReadUInt16BigEndian(mandatory[i..])))
            {
                return false;
            }
        }
        return true;
    }

    private static bool HasKey(ReadOnlySpan<byte> data, int wanted)
    {
        var w = new WireCursor(data);
        while (w.Remaining > 0 && !w.Failed)
        {
            int key = w.U16();
            w.Bytes(w.U16());
            if (key == wanted && !w.Failed)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>alpn="h2,h3": commas and backslashes inside an id get a backslash (RFC 9460 App. A.1), then the whole is a quoted string.</summary>
    private static void AppendAlpn(StringBuilder sb, ReadOnlySpan<byte> value)
    {
        Span<byte> escaped = value.Length <= 512 ? stackalloc byte[value.Length * 2] : new byte[value.Length * 2];
        int n = 0;
        for (int i = 0; i < value.Length; i += 1 + value[i])
        {
            if (i > 0)
            {
                escaped[n++] = (byte)',';
            }
            foreach (byte b in value.Slice(i + 1, value[i]))
            {
                if (b is (byte)',' or (byte)'\\')
                {
                    escaped[n++] = (byte)'\\';
                }
                escaped[n++] = b;
            }
        }
        sb.Append('=');
        CharacterText.AppendQuoted(sb, escaped[..n]);
    }
}
