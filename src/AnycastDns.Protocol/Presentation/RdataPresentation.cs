using System.Globalization;
using System.Text;

namespace AnycastDns.Protocol.Presentation;

/// <summary>
/// RDATA in presentation format (RFC 1035 §5.1 and each type's RFC) to uncompressed wire form and back. Every type
/// also takes the generic form <c>\# length hex</c> of RFC 3597 §5; types without a known text format take only that.
/// Output text follows what dig and kdig print, so it can be diffed against them and read back by any master-file reader.
/// </summary>
public static class RdataPresentation
{
    [ThreadStatic]
    private static RdataTextReader? t_reader;

    // ---- text to wire -------------------------------------------------------------------------------------------

    /// <summary>Parses RDATA text such as <c>10 mail</c>; relative names are completed with <paramref name="origin"/>.</summary>
    /// <exception cref="PresentationException">The text is not valid RDATA of <paramref name="type"/>.</exception>
    public static byte[] Parse(RecordType type, string text, DnsName origin) =>
        Parse(type, PresentationTokens.Split(text), 0, origin);

    /// <summary>
    /// Parses the RDATA fields <c>tokens[first..]</c> of one record into uncompressed wire RDATA. Relative names are
    /// completed with <paramref name="origin"/>, and "@" stands for it.
    /// </summary>
    /// <exception cref="PresentationException">The tokens are not valid RDATA of <paramref name="type"/>; its TokenIndex indexes <paramref name="tokens"/>.</exception>
    public static byte[] Parse(RecordType type, PresentationTokens tokens, int first, DnsName origin) =>
        ParseToScratch(type, tokens, first, origin).ToArray();

    /// <summary>
    /// As <see cref="Parse(RecordType, PresentationTokens, int, DnsName)"/>, but the RDATA is left in a buffer of this
    /// thread's, valid until its next parse: a zone loader copies it into its own store, so a million records are not a
    /// million arrays that live only until the zone is built.
    /// </summary>
    /// <exception cref="PresentationException">The tokens are not valid RDATA of <paramref name="type"/>.</exception>
    public static ReadOnlySpan<byte> ParseToScratch(RecordType type, PresentationTokens tokens, int first, DnsName origin)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(origin);
        var r = t_reader ??= new RdataTextReader();
        r.Start(tokens, first, origin);
        try
        {
            if (first < tokens.Count && !tokens.IsQuoted(first) && tokens[first] is "\\#")
            {
                ParseGeneric(r, type);
            }
            else if (!HasTextFormat(type))
            {
                throw new PresentationException(first,
                    $"{RecordTypeNames.ToText(type)} has no presentation format known here; write its RDATA in the RFC 3597 form \\# <length> <hex>");
            }
            else
            {
                ParseFields(r, type);
                r.ExpectEnd(type);
            }
            if (r.Output.Length > RdataBuffer.MaxRdataLength)
            {
                throw new PresentationException(first, $"the RDATA is {r.Output.Length} octets long; at most 65535 fit (RFC 1035 §3.2.1)");
            }
            return r.Output.Written;
        }
        finally
        {
            r.Finish();
        }
    }

    /// <summary>True when <paramref name="type"/> has a type-specific text format here (all types accept <c>\#</c>).</summary>
    public static bool HasTextFormat(RecordType type) => type switch
    {
        RecordType.A or RecordType.AAAA or RecordType.NS or RecordType.MD or RecordType.MF or RecordType.CNAME
            or RecordType.SOA or RecordType.MB or RecordType.MG or RecordType.MR or RecordType.PTR or RecordType.HINFO
            or RecordType.MINFO or RecordType.MX or RecordType.TXT or RecordType.RP or RecordType.AFSDB or RecordType.RT
            or RecordType.KEY or RecordType.SIG or RecordType.LOC or RecordType.SRV or RecordType.NAPTR or RecordType.KX
            or RecordType.DNAME or RecordType.DS or RecordType.SSHFP or RecordType.RRSIG or RecordType.NSEC
            or RecordType.DNSKEY or RecordType.DHCID or RecordType.NSEC3 or RecordType.NSEC3PARAM or RecordType.TLSA
            or RecordType.SMIMEA or RecordType.CDS or RecordType.CDNSKEY or RecordType.OPENPGPKEY or RecordType.CSYNC
            or RecordType.ZONEMD or RecordType.SVCB or RecordType.HTTPS or RecordType.SPF or RecordType.L32
            or RecordType.LP or RecordType.EUI48 or RecordType.EUI64 or RecordType.URI or RecordType.CAA
            or RecordType.AVC or RecordType.TA or RecordType.DLV => true,
        _ => false,
    };

    /// <summary>RFC 3597 §5: <c>\# length hex...</c>; for a known type the octets must also be well formed.</summary>
    private static void ParseGeneric(RdataTextReader r, RecordType type)
    {
        int marker = r.Index++;
        uint length = r.Number("the RDATA length in octets (0-65535) after \\#", ushort.MaxValue);
        int got = r.HexToEnd("the RDATA", 0);
        if (got != length)
        {
            throw r.Fail(marker + 1, $"\\# announces {length} octets but {got} follow");
        }
        if (HasTextFormat(type) && !TryFormat(type, r.Output.Written, new StringBuilder()))
        {
            throw r.Fail(marker, $"the \\# octets are not well-formed {RecordTypeNames.ToText(type)} RDATA");
        }
    }

    private static void ParseFields(RdataTextReader r, RecordType type)
    {
        switch (type)
        {
            case RecordType.A:
                r.IPv4("an IPv4 address");
                break;
            case RecordType.AAAA:
                r.IPv6("an IPv6 address");
                break;
            case RecordType.NS:
                r.Name("a name server's domain name");
                break;
            case RecordType.CNAME:
                r.Name("the canonical name (a domain name)");
                break;
            case RecordType.DNAME:
                r.Name("the target domain name");
                break;
            case RecordType.PTR or RecordType.MD or RecordType.MF or RecordType.MB or RecordType.MG or RecordType.MR:
                r.Name("a domain name");
                break;
            case RecordType.SOA:
                // RFC 1035 §3.3.13; the four timers take units (RFC 2308 §4 practice).
                r.Name("the primary name server (MNAME)");
                r.Name("the responsible mailbox (RNAME)");
                r.U32("a serial number");
                r.Interval("a refresh interval");
                r.Interval("a retry interval");
                r.Interval("an expire time");
                r.Interval("a minimum (negative caching) TTL");
                break;
            case RecordType.MX:
                r.U16("a preference");
                r.Name("a mail exchange's domain name");
                break;
            case RecordType.KX:
                r.U16("a preference");
                r.Name("a key exchanger's domain name");
                break;
            case RecordType.RT:
                r.U16("a preference");
                r.Name("an intermediate host's domain name");
                break;
            case RecordType.AFSDB:
                r.U16("a subtype");
                r.Name("a server's domain name");
                break;
            case RecordType.LP:
                r.U16("a preference");
                r.Name("a locator's domain name");
                break;
            case RecordType.L32:
                r.U16("a preference");
                r.IPv4("a 32-bit locator in IPv4 form");
                break;
            case RecordType.TXT or RecordType.SPF or RecordType.AVC:
                // One or more character-strings (RFC 1035 §3.3.14).
                do
                {
                    r.CharacterString("a character-string");
                }
                while (!r.AtEnd);
                break;
            case RecordType.HINFO:
                r.CharacterString("a CPU type (character-string)");
                r.CharacterString("an operating system (character-string)");
                break;
            case RecordType.MINFO:
                r.Name("the responsible mailbox (RMAILBX)");
                r.Name("the error mailbox (EMAILBX)");
                break;
            case RecordType.RP:
                r.Name("the responsible person's mailbox");
                r.Name("the domain name of a TXT record");
                break;
            case RecordType.SRV:
                // RFC 2782.
                r.U16("a priority");
                r.U16("a weight");
                r.U16("a port");
                r.Name("a target domain name");
                break;
            case RecordType.NAPTR:
                // RFC 3403 §4.
                r.U16("an order");
                r.U16("a preference");
                r.CharacterString("flags (character-string)");
                r.CharacterString("services (character-string)");
                r.CharacterString("a regular expression (character-string)");
                r.Name("a replacement domain name");
                break;
            case RecordType.CAA:
                ParseCaa(r);
                break;
            case RecordType.DS or RecordType.CDS or RecordType.TA or RecordType.DLV:
                // RFC 4034 §5.3; CDS RFC 7344 §3.2 (0 0 0 00 is the delete request of RFC 8078 §4).
                r.U16("a key tag");
                r.Algorithm("an algorithm");
                r.U8("a digest type");
                r.HexToEnd("a digest", 1);
                break;
            case RecordType.DNSKEY or RecordType.CDNSKEY or RecordType.KEY:
                // RFC 4034 §2.2.
                r.U16("flags");
                r.U8("a protocol");
                r.Algorithm("an algorithm");
                r.Base64ToEnd("a public key");
                break;
            case RecordType.RRSIG or RecordType.SIG:
                // RFC 4034 §3.2.
                r.Type("the type covered");
                r.Algorithm("an algorithm");
                r.U8("a label count");
                r.Interval("an original TTL");
                r.SignatureTime("a signature expiration");
                r.SignatureTime("a signature inception");
                r.U16("a key tag");
                r.Name("the signer's name");
                r.Base64ToEnd("a signature");
                break;
            case RecordType.NSEC:
                // RFC 4034 §4.2.
                r.Name("the next owner name");
                r.TypeBitmap();
                break;
            case RecordType.NSEC3:
                // RFC 5155 §3.3.
                r.U8("a hash algorithm");
                r.U8("flags");
                r.U16("an iteration count");
                r.Salt();
                r.Base32HexWithLength("the next hashed owner name in base32hex");
                r.TypeBitmap();
                break;
            case RecordType.NSEC3PARAM:
                // RFC 5155 §4.3.
                r.U8("a hash algorithm");
                r.U8("flags");
                r.U16("an iteration count");
                r.Salt();
                break;
            case RecordType.TLSA or RecordType.SMIMEA:
                // RFC 6698 §2.2, RFC 8162 §2.
                r.U8("a certificate usage");
                r.U8("a selector");
                r.U8("a matching type");
                r.HexToEnd("certificate association data", 1);
                break;
            case RecordType.SSHFP:
                // RFC 4255 §3.2.
                r.U8("an algorithm");
                r.U8("a fingerprint type");
                r.HexToEnd("a fingerprint", 1);
                break;
            case RecordType.SVCB or RecordType.HTTPS:
                // RFC 9460 §2.1.
                r.U16("a priority");
                r.Name("a target name");
                SvcParamText.Parse(r);
                break;
            case RecordType.ZONEMD:
                // RFC 8976 §2.3; §2.2.4: a digest is at least 12 octets.
                r.U32("a serial number");
                r.U8("a scheme");
                r.U8("a hash algorithm");
                r.HexToEnd("a digest", 12);
                break;
            case RecordType.URI:
                // RFC 7553 §4.
                r.U16("a priority");
                r.U16("a weight");
                if (r.OctetsToEnd("a target URI") == 0)
                {
                    throw r.Fail(r.Index - 1, "the URI target is empty (RFC 7553 §4.5)");
                }
                break;
            case RecordType.LOC:
                LocText.Parse(r);
                break;
            case RecordType.CSYNC:
                // RFC 7477 §2.1.
                r.U32("an SOA serial");
                r.U16("flags");
                r.TypeBitmap();
                break;
            case RecordType.EUI48:
                r.EuiAddress(6);
                break;
            case RecordType.EUI64:
                r.EuiAddress(8);
                break;
            case RecordType.OPENPGPKEY:
                // RFC 7929 §2.3.
                r.Base64ToEnd("a public key");
                break;
            case RecordType.DHCID:
                // RFC 4701 §3.4.
                r.Base64ToEnd("DHCID data");
                break;
            default:
                throw new InvalidOperationException($"no text parser for {type}");
        }
    }

    /// <summary>RFC 8659 §4.1: flags, a tag of ASCII letters and digits, and a value that runs to the end.</summary>
    private static void ParseCaa(RdataTextReader r)
    {
        r.U8("flags");
        const string what = "a property tag (letters and digits, such as issue)";
        var tag = r.Take(what);
        if (tag.IsEmpty || tag.Length > 255 || !IsAsciiLettersOrDigits(tag))
        {
            throw r.Expected(r.Index - 1, what);
        }
        r.Output.U8(tag.Length);
        foreach (char c in tag)
        {
            r.Output.U8(c);
        }
        r.OctetsToEnd("a property value");
    }

    private static bool IsAsciiLettersOrDigits(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c)) return false;
        }
        return true;
    }

    private static bool IsAsciiLettersOrDigits(ReadOnlySpan<byte> text)
    {
        foreach (byte c in text)
        {
            if (!char.IsAsciiLetterOrDigit((char)c)) return false;
        }
        return true;
    }

    // ---- wire to text -------------------------------------------------------------------------------------------

    /// <summary>
    /// Presentation text for uncompressed wire RDATA, as dig/kdig print it. Malformed RDATA and types without a text
    /// format come out in the generic form <c>\# length hex</c> (RFC 3597 §5), so the result always parses back.
    /// </summary>
    public static string Format(RecordType type, ReadOnlySpan<byte> rdata) =>
        Append(new StringBuilder(rdata.Length * 2 + 16), type, rdata).ToString();

    /// <summary>Appends what <see cref="Format"/> returns to <paramref name="sb"/> (a zone written record by record).</summary>
    public static StringBuilder Append(StringBuilder sb, RecordType type, ReadOnlySpan<byte> rdata)
    {
        ArgumentNullException.ThrowIfNull(sb);
        int start = sb.Length;
        if (HasTextFormat(type) && TryFormat(type, rdata, sb))
        {
            return sb;
        }
        sb.Length = start;
        return AppendGeneric(sb, rdata);
    }

    /// <summary>The RFC 3597 §5 generic form: <c>\# 4 C0000201</c>.</summary>
    public static string FormatGeneric(ReadOnlySpan<byte> rdata) => AppendGeneric(new StringBuilder(rdata.Length * 2 + 12), rdata).ToString();

    private static StringBuilder AppendGeneric(StringBuilder sb, ReadOnlySpan<byte> rdata)
    {
        sb.Append("\\# ").Append(rdata.Length);
        if (rdata.Length > 0)
        {
            sb.Append(' ');
            BinaryText.AppendHex(sb, rdata);
        }
        return sb;
    }

    /// <summary>True when <paramref name="rdata"/> is well formed for <paramref name="type"/> (types without a text format: always).</summary>
    public static bool IsWellFormed(RecordType type, ReadOnlySpan<byte> rdata) =>
        !HasTextFormat(type) || TryFormat(type, rdata, new StringBuilder());

    private static bool TryFormat(RecordType type, ReadOnlySpan<byte> rdata, StringBuilder sb)
    {
        var w = new WireCursor(rdata);
        switch (type)
        {
            case RecordType.A:
                if (rdata.Length != 4) return false;
                AddressText.AppendIPv4(sb, w.Bytes(4));
                break;
            case RecordType.AAAA:
                if (rdata.Length != 16) return false;
                AddressText.AppendIPv6(sb, w.Bytes(16));
                break;
            case RecordType.NS or RecordType.CNAME or RecordType.DNAME or RecordType.PTR or RecordType.MD or RecordType.MF
                or RecordType.MB or RecordType.MG or RecordType.MR:
                AppendName(sb, w.Name());
                break;
            case RecordType.SOA:
                AppendName(sb, w.Name());
                sb.Append(' ');
                AppendName(sb, w.Name());
                for (int i = 0; i < 5; i++)
                {
                    sb.Append(' ').Append(w.U32());
                }
                break;
            case RecordType.MX or RecordType.KX or RecordType.RT or RecordType.AFSDB or RecordType.LP:
                sb.Append(w.U16()).Append(' ');
                AppendName(sb, w.Name());
                break;
            case RecordType.L32:
                sb.Append(w.U16()).Append(' ');
                if (w.Remaining != 4) return false;
                AddressText.AppendIPv4(sb, w.Bytes(4));
                break;
            case RecordType.TXT or RecordType.SPF or RecordType.AVC:
                if (rdata.IsEmpty) return false;
                while (w.Remaining > 0 && !w.Failed)
                {
                    if (sb.Length > 0) sb.Append(' ');
                    CharacterText.AppendQuoted(sb, w.CharacterString());
                }
                break;
            case RecordType.HINFO:
                CharacterText.AppendQuoted(sb, w.CharacterString());
                sb.Append(' ');
                CharacterText.AppendQuoted(sb, w.CharacterString());
                break;
            case RecordType.MINFO or RecordType.RP:
                AppendName(sb, w.Name());
                sb.Append(' ');
                AppendName(sb, w.Name());
                break;
            case RecordType.SRV:
                sb.Append(w.U16()).Append(' ').Append(w.U16()).Append(' ').Append(w.U16()).Append(' ');
                AppendName(sb, w.Name());
                break;
            case RecordType.NAPTR:
                sb.Append(w.U16()).Append(' ').Append(w.U16());
                for (int i = 0; i < 3; i++)
                {
                    sb.Append(' ');
                    CharacterText.AppendQuoted(sb, w.CharacterString());
                }
                sb.Append(' ');
                AppendName(sb, w.Name());
                break;
            case RecordType.CAA:
            {
                sb.Append(w.U8()).Append(' ');
                var tag = w.CharacterString();
                if (tag.IsEmpty || !IsAsciiLettersOrDigits(tag)) return false;
                sb.Append(Encoding.ASCII.GetString(tag)).Append(' ');
                CharacterText.AppendQuoted(sb, w.Rest());
                break;
            }
            case RecordType.DS or RecordType.CDS or RecordType.TA or RecordType.DLV:
                sb.Append(w.U16()).Append(' ').Append(w.U8()).Append(' ').Append(w.U8()).Append(' ');
                if (!AppendHexRest(sb, ref w, 1)) return false;
                break;
            case RecordType.DNSKEY or RecordType.CDNSKEY or RecordType.KEY:
                sb.Append(w.U16()).Append(' ').Append(w.U8()).Append(' ').Append(w.U8()).Append(' ');
                if (!AppendBase64Rest(sb, ref w)) return false;
                break;
            case RecordType.RRSIG or RecordType.SIG:
                sb.Append(RecordTypeNames.ToText((RecordType)w.U16())).Append(' ');
                sb.Append(w.U8()).Append(' ').Append(w.U8()).Append(' ').Append(w.U32()).Append(' ');
                sb.Append(SignatureTimeText.Format(w.U32())).Append(' ');
                sb.Append(SignatureTimeText.Format(w.U32())).Append(' ');
                sb.Append(w.U16()).Append(' ');
                AppendName(sb, w.Name());
                sb.Append(' ');
                if (!AppendBase64Rest(sb, ref w)) return false;
                break;
            case RecordType.NSEC:
                AppendName(sb, w.Name());
                if (w.Failed || !TypeBitmapWire.TryFormat(w.Rest(), sb)) return false;
                break;
            case RecordType.NSEC3:
            {
                sb.Append(w.U8()).Append(' ').Append(w.U8()).Append(' ').Append(w.U16()).Append(' ');
                AppendSalt(sb, w.CharacterString());
                var next = w.CharacterString();
                if (next.IsEmpty) return false;
                sb.Append(' ');
                BinaryText.AppendBase32Hex(sb, next);
                if (w.Failed || !TypeBitmapWire.TryFormat(w.Rest(), sb)) return false;
                break;
            }
            case RecordType.NSEC3PARAM:
                sb.Append(w.U8()).Append(' ').Append(w.U8()).Append(' ').Append(w.U16()).Append(' ');
                AppendSalt(sb, w.CharacterString());
                break;
            case RecordType.TLSA or RecordType.SMIMEA:
                sb.Append(w.U8()).Append(' ').Append(w.U8()).Append(' ').Append(w.U8()).Append(' ');
                if (!AppendHexRest(sb, ref w, 1)) return false;
                break;
            case RecordType.SSHFP:
                sb.Append(w.U8()).Append(' ').Append(w.U8()).Append(' ');
                if (!AppendHexRest(sb, ref w, 1)) return false;
                break;
            case RecordType.SVCB or RecordType.HTTPS:
                sb.Append(w.U16()).Append(' ');
                AppendName(sb, w.Name());
                if (w.Failed || !SvcParamText.TryFormat(w.Rest(), sb)) return false;
                break;
            case RecordType.ZONEMD:
                sb.Append(w.U32()).Append(' ').Append(w.U8()).Append(' ').Append(w.U8()).Append(' ');
                if (!AppendHexRest(sb, ref w, 12)) return false;
                break;
            case RecordType.URI:
                sb.Append(w.U16()).Append(' ').Append(w.U16()).Append(' ');
                if (w.Remaining == 0) return false;
                CharacterText.AppendQuoted(sb, w.Rest());
                break;
            case RecordType.LOC:
                return LocText.TryFormat(rdata, sb);
            case RecordType.CSYNC:
                sb.Append(w.U32()).Append(' ').Append(w.U16());
                if (w.Failed || !TypeBitmapWire.TryFormat(w.Rest(), sb)) return false;
                break;
            case RecordType.EUI48 or RecordType.EUI64:
            {
                int octets = type == RecordType.EUI48 ? 6 : 8;
                if (rdata.Length != octets) return false;
                // RFC 7043 §3.2: hex pairs joined by hyphens; dig prints them in lower case.
                for (int i = 0; i < octets; i++)
                {
                    sb.Append(i == 0 ? "" : "-").Append(rdata[i].ToString("x2", CultureInfo.InvariantCulture));
                }
                return true;
            }
            case RecordType.OPENPGPKEY or RecordType.DHCID:
                if (!AppendBase64Rest(sb, ref w)) return false;
                break;
            default:
                return false;
        }
        return w.Complete;
    }

    private static void AppendName(StringBuilder sb, ReadOnlySpan<byte> wire) => sb.Append(WireName.ToText(wire));

    private static void AppendSalt(StringBuilder sb, ReadOnlySpan<byte> salt)
    {
        if (salt.IsEmpty)
        {
            sb.Append('-');
        }
        else
        {
            BinaryText.AppendHex(sb, salt);
        }
    }

    private static bool AppendHexRest(StringBuilder sb, ref WireCursor w, int minimum)
    {
        if (w.Failed || w.Remaining < minimum) return false;
        BinaryText.AppendHex(sb, w.Rest());
        return true;
    }

    private static bool AppendBase64Rest(StringBuilder sb, ref WireCursor w)
    {
        if (w.Failed || w.Remaining == 0) return false;
        BinaryText.AppendBase64(sb, w.Rest());
        return true;
    }

}
