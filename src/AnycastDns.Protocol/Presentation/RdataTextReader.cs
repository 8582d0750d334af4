using System.Buffers;

namespace AnycastDns.Protocol.Presentation;

/// <summary>
/// Reads the fields of one record's RDATA from its tokens and appends their wire form (RFC 1035 §5.1 and each type's
/// RFC). Every failure is a <see cref="PresentationException"/> naming the token at fault and what was expected.
/// </summary>
internal sealed class RdataTextReader
{
    private const int MaxShownToken = 48;

    private PresentationTokens _tokens = null!;

    public RdataBuffer Output { get; } = new();

    public DnsName Origin { get; private set; } = DnsName.Root;

    public int Index { get; set; }

    public PresentationTokens Tokens => _tokens;

    public bool AtEnd => Index >= _tokens.Count;

    public void Start(PresentationTokens tokens, int first, DnsName origin)
    {
        _tokens = tokens;
        Index = first;
        Origin = origin;
        Output.Clear();
    }

    /// <summary>
    /// Lets go of the tokens, and so of the text they are slices of: the reader lives on in a thread-static, and a
    /// zone file's whole text (about 100 MB for a million names) must not live on with it.
    /// </summary>
    public void Finish()
    {
        _tokens = null!;
        Origin = DnsName.Root;
    }

    // ---- errors --------------------------------------------------------------------------------------------------

    public PresentationException Fail(int index, string message) => new(index, message);

    public PresentationException Expected(int index, string what) =>
        new(index, $"expected {what}, got {Show(index)}");

    public PresentationException Missing(string what) =>
        new(_tokens.Count, $"expected {what}, but the record ends here");

    public string Show(int index)
    {
        var text = _tokens[index];
        string shown = text.Length > MaxShownToken ? string.Concat(text[..MaxShownToken], "...") : new string(text);
        return _tokens.IsQuoted(index) ? $"\"{shown}\"" : $"'{shown}'";
    }

    // ---- tokens --------------------------------------------------------------------------------------------------

    /// <summary>The next token, unquoted: fields other than strings are never written in quotes.</summary>
    public ReadOnlySpan<char> Take(string what)
    {
        if (AtEnd)
        {
            throw Missing(what);
        }
        if (_tokens.IsQuoted(Index))
        {
            throw Fail(Index, $"expected {what}, got the quoted string {Show(Index)}");
        }
        return _tokens[Index++];
    }

    /// <summary>The next token, quoted or not.</summary>
    public ReadOnlySpan<char> TakeAny(string what)
    {
        if (AtEnd)
        {
            throw Missing(what);
        }
        return _tokens[Index++];
    }

    public void ExpectEnd(RecordType type)
    {
        if (!AtEnd)
        {
            throw Fail(Index, $"unexpected {Show(Index)} after the end of the {RecordTypeNames.ToText(type)} data");
        }
    }

    // ---- numbers -------------------------------------------------------------------------------------------------

    public static bool TryParseDecimal(ReadOnlySpan<char> text, ulong max, out ulong value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 20)
        {
            return false;
        }
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
            ulong next = value * 10 + (ulong)(c - '0');
            if (next / 10 != value || next > max)
            {
                return false;
            }
            value = next;
        }
        return true;
    }

    public uint Number(string what, uint max)
    {
        var text = Take(what);
        if (!TryParseDecimal(text, max, out ulong value))
        {
            throw Expected(Index - 1, what);
        }
        return (uint)value;
    }

    public void U8(string what) => Output.U8((int)Number(what + " (0-255)", byte.MaxValue));

    public void U16(string what) => Output.U16((int)Number(what + " (0-65535)", ushort.MaxValue));

    public void U32(string what) => Output.U32(Number(what + " (0-4294967295)", uint.MaxValue));

    /// <summary>A time interval with optional units (1h30m, 2d, 1w; RFC 2308 §4 practice) as in SOA timers.</summary>
    public void Interval(string what)
    {
        var text = Take(what);
        if (!TtlText.TryParse(text, out uint value, out string? error))
        {
            throw Fail(Index - 1, $"expected {what} (seconds, or units such as 1h30m), got {Show(Index - 1)}: {error}");
        }
        Output.U32(value);
    }

    /// <summary>DNSSEC algorithm number or mnemonic (RFC 4034 §2.2, §A.1; RFC 8624).</summary>
    public void Algorithm(string what)
    {
        var text = Take(what);
        if (TryParseDecimal(text, byte.MaxValue, out ulong value))
        {
            Output.U8((int)value);
            return;
        }
        int number = DnssecAlgorithms.FromMnemonic(text);
        if (number < 0)
        {
            throw Expected(Index - 1, what + " (0-255 or a mnemonic such as ECDSAP256SHA256)");
        }
        Output.U8(number);
    }

    public RecordType Type(string what)
    {
        var text = Take(what);
        if (!RecordTypeNames.TryParseType(text, out var type))
        {
            throw Expected(Index - 1, what);
        }
        Output.U16((ushort)type);
        return type;
    }

    /// <summary>RRSIG expiration/inception: YYYYMMDDHHmmSS in UTC or seconds since 1970 (RFC 4034 §3.2).</summary>
    public void SignatureTime(string what)
    {
        var text = Take(what);
        if (!SignatureTimeText.TryParse(text, out uint value))
        {
            throw Expected(Index - 1, what + " (YYYYMMDDHHmmSS or seconds since 1970)");
        }
        Output.U32(value);
    }

    // ---- names ---------------------------------------------------------------------------------------------------

    /// <summary>A domain name, written to the RDATA as it stands (no object made: a zone has a million of them).</summary>
    public void Name(string what)
    {
        var text = Take(what);
        if (text is "@")
        {
            Output.Bytes(Origin.Wire);
            return;
        }
        Span<byte> wire = stackalloc byte[DnsName.ParseBufferLength];
        if (!DnsName.TryParseWire(text, Origin, wire, out int length, out string? error))
        {
            throw Fail(Index - 1, $"expected {what}, got {Show(Index - 1)}: {error}");
        }
        Output.Bytes(wire[..length]);
    }

    // ---- strings -------------------------------------------------------------------------------------------------

    /// <summary>A &lt;character-string&gt;: one length octet and up to 255 octets (RFC 1035 §3.3).</summary>
    public void CharacterString(string what)
    {
        if (AtEnd)
        {
            throw Missing(what);
        }
        int index = Index;
        var text = _tokens[Index++];
        int at = Output.Length;
        Output.U8(0);
        string? error = CharacterText.Decode(text, Output);
        if (error is not null)
        {
            throw Fail(index, $"{what} {Show(index)}: {error}");
        }
        int length = Output.Length - at - 1;
        if (length > 255)
        {
            throw Fail(index, $"{what} {Show(index)} is {length} octets long; a character-string holds at most 255 (RFC 1035 §3.3)");
        }
        Output.SetU8(at, length);
    }

    /// <summary>One token's octets with no length prefix (CAA value, URI target): the field runs to the end of the RDATA.</summary>
    public int OctetsToEnd(string what)
    {
        if (AtEnd)
        {
            throw Missing(what);
        }
        int index = Index;
        int at = Output.Length;
        string? error = CharacterText.Decode(_tokens[Index++], Output);
        if (error is not null)
        {
            throw Fail(index, $"{what} {Show(index)}: {error}");
        }
        return Output.Length - at;
    }

    // ---- addresses -----------------------------------------------------------------------------------------------

    public void IPv4(string what)
    {
        var text = Take(what);
        if (!AddressText.TryParseIPv4(text, Output.Extend(4)))
        {
            throw Expected(Index - 1, what);
        }
    }

    public void IPv6(string what)
    {
        var text = Take(what);
        if (!AddressText.TryParseIPv6(text, Output.Extend(16)))
        {
            throw Expected(Index - 1, what);
        }
    }

    // ---- binary --------------------------------------------------------------------------------------------------

    /// <summary>Hex digits spread over all remaining tokens (white space may split a digest anywhere; RFC 4034 §5.3).</summary>
    public int HexToEnd(string what, int minimumOctets)
    {
        if (AtEnd)
        {
            if (minimumOctets == 0)
            {
                return 0;
            }
            throw Missing(what);
        }
        int at = Output.Length;
        int high = -1;
        int last = Index;
        while (!AtEnd)
        {
            last = Index;
            var text = Take(what);
            foreach (char c in text)
            {
                int v = BinaryText.HexValue(c);
                if (v < 0)
                {
                    throw Fail(last, $"expected {what} in hexadecimal, got {Show(last)}: '{c}' is not a hex digit");
                }
                if (high < 0)
                {
                    high = v;
                }
                else
                {
                    Output.U8((high << 4) | v);
                    high = -1;
                }
            }
        }
        if (high >= 0)
        {
            throw Fail(last, $"{what} has an odd number of hex digits");
        }
        int length = Output.Length - at;
        if (length < minimumOctets)
        {
            throw Fail(last, $"{what} is {length} octets long; at least {minimumOctets} expected");
        }
        return length;
    }

    /// <summary>One token of hex digits, or "-" for none: the NSEC3 salt (RFC 5155 §3.3).</summary>
    public void Salt()
    {
        const string what = "a salt (hex digits, or - for none)";
        var text = Take(what);
        int at = Output.Length;
        Output.U8(0);
        if (text is "-")
        {
            return;
        }
        if (text.Length % 2 != 0 || text.Length > 510)
        {
            throw Expected(Index - 1, what + " of at most 255 octets");
        }
        for (int i = 0; i < text.Length; i += 2)
        {
            int hi = BinaryText.HexValue(text[i]), lo = BinaryText.HexValue(text[i + 1]);
            if (hi < 0 || lo < 0)
            {
                throw Expected(Index - 1, what);
            }
            Output.U8((hi << 4) | lo);
        }
        Output.SetU8(at, text.Length / 2);
    }

    private static readonly SearchValues<char> Base64Chars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");

    /// <summary>Base64 spread over all remaining tokens (RFC 4034 §2.2: white space allowed within).</summary>
    public int Base64ToEnd(string what)
    {
        if (AtEnd)
        {
            throw Missing(what);
        }
        int first = Index;
        int total = 0;
        for (int i = Index; i < _tokens.Count; i++)
        {
            var text = _tokens[i];
            int bad = text.IndexOfAnyExcept(Base64Chars);
            if (bad >= 0 || _tokens.IsQuoted(i))
            {
                throw Fail(i, bad >= 0
                    ? $"expected {what} in base64, got {Show(i)}: '{text[bad]}' is not a base64 character"
                    : $"expected {what} in base64, got the quoted string {Show(i)}");
            }
            total += text.Length;
        }
        char[] rented = ArrayPool<char>.Shared.Rent(total);
        try
        {
            int pos = 0;
            for (int i = Index; i < _tokens.Count; i++)
            {
                _tokens[i].CopyTo(rented.AsSpan(pos));
                pos += _tokens[i].Length;
            }
            var chars = rented.AsSpan(0, total);
            int at = Output.Length;
            var target = Output.Extend(total / 4 * 3 + 3);
            if (total % 4 != 0 || !Convert.TryFromBase64Chars(chars, target, out int written))
            {
                throw Fail(first, $"{what} is not valid base64: its length or padding is wrong");
            }
            Output.Length = at + written;
            Index = _tokens.Count;
            return written;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>Base64 in one token, decoded to <paramref name="output"/> (SVCB ech).</summary>
    public static bool TryDecodeBase64(ReadOnlySpan<char> text, RdataBuffer output)
    {
        if (text.IsEmpty || text.Length % 4 != 0 || text.ContainsAnyExcept(Base64Chars))
        {
            return false;
        }
        int at = output.Length;
        var target = output.Extend(text.Length / 4 * 3);
        if (!Convert.TryFromBase64Chars(text, target, out int written))
        {
            output.Length = at;
            return false;
        }
        output.Length = at + written;
        return true;
    }

    /// <summary>Base32hex in one token with a length octet in front: the NSEC3 next hashed owner name (RFC 5155 §3.3).</summary>
    public void Base32HexWithLength(string what)
    {
        var text = Take(what);
        int at = Output.Length;
        Output.U8(0);
        string? error = BinaryText.DecodeBase32Hex(text, Output);
        if (error is not null)
        {
            throw Fail(Index - 1, $"expected {what}, got {Show(Index - 1)}: {error}");
        }
        int length = Output.Length - at - 1;
        if (length is 0 or > 255)
        {
            throw Fail(Index - 1, $"{what} must be 1 to 255 octets, got {length}");
        }
        Output.SetU8(at, length);
    }

    /// <summary>The type list of NSEC, NSEC3 and CSYNC in window-block form (RFC 4034 §4.1.2), from all remaining tokens.</summary>
    public void TypeBitmap()
    {
        int count = _tokens.Count - Index;
        if (count == 0)
        {
            return;
        }
        Span<ushort> types = count <= 256 ? stackalloc ushort[count] : new ushort[count];
        for (int i = 0; i < count; i++)
        {
            var text = Take("a record type");
            if (!RecordTypeNames.TryParseType(text, out var type))
            {
                throw Expected(Index - 1, "a record type (a mnemonic or TYPEnnn)");
            }
            types[i] = (ushort)type;
        }
        types.Sort();
        TypeBitmapWire.Write(types, Output);
    }

    public void EuiAddress(int octets)
    {
        string what = octets == 6 ? "an EUI-48 address (xx-xx-xx-xx-xx-xx)" : "an EUI-64 address (xx-xx-xx-xx-xx-xx-xx-xx)";
        var text = Take(what);
        // RFC 7043 §3.2, §4.2: hex pairs joined by hyphens.
        if (text.Length != octets * 3 - 1)
        {
            throw Expected(Index - 1, what);
        }
        var target = Output.Extend(octets);
        for (int i = 0; i < octets; i++)
        {
            int hi = BinaryText.HexValue(text[i * 3]), lo = BinaryText.HexValue(text[i * 3 + 1]);
            if (hi < 0 || lo < 0 || (i < octets - 1 && text[i * 3 + 2] != '-'))
            {
                throw Expected(Index - 1, what);
            }
            target[i] = (byte)((hi << 4) | lo);
        }
    }
}
