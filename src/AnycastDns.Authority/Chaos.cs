using System.Text;
using AnycastDns.Authority.Cookies;
using AnycastDns.Protocol;

namespace AnycastDns.Authority;

/// <summary>
/// The CHAOS-class names that identify a server (RFC 4892 §2): id.server and hostname.bind name the PoP,
/// version.server and version.bind the software. Ours besides: <c>&lt;origin&gt;.zones.server</c> names one zone
/// served as a TXT of three strings — origin, SOA serial, ZONEMD SHA-384 digest (RFC 8976) — so that any PoP can show
/// which data it serves. <c>zones.server</c> answers first a summary TXT, <c>"zones" "&lt;count&gt;" "&lt;digest&gt;"</c>,
/// one SHA-384 over every zone's origin, serial and digest (<see cref="ZoneSetIdentity"/> says what is hashed), and then
/// every zone's TXT, in canonical order, when all of them fit in one 64 KiB message (about 400 zones), else the
/// summary alone. Why both: on a fleet of a few zones an operator reads the list from <c>dig</c>, as before, and the
/// summary costs one line; past what one message holds a partial list would mislead, and a TC bit would be
/// useless over TCP, so the summary alone answers — it compares two PoPs exactly in one record, and the per-zone
/// detail is one query per zone away (<c>&lt;origin&gt;.zones.server</c>) or on the status endpoint's paged
/// <c>/zones</c>. The choice depends on the snapshot only, never on the transport, so UDP and TCP give the same RRset
/// (UDP sets TC when it does not fit). Until the summary of a new snapshot is made (every zone's digest, off this
/// path), <c>zones.server</c> is SERVFAIL. <c>cookies.server</c> says where its DNS cookie
/// secrets come from (<c>file</c> or <c>random</c>) and gives their fingerprints, the one making cookies first, so that
/// fleet-check sees PoPs whose cookies would not verify at each other. Anything else in class CH is REFUSED, as NSD
/// and Knot do.
/// </summary>
internal sealed class Chaos
{
    private static readonly byte[] IdServer = DnsName.Parse("id.server.").Wire.ToArray();
    private static readonly byte[] HostnameBind = DnsName.Parse("hostname.bind.").Wire.ToArray();
    private static readonly byte[] VersionServer = DnsName.Parse("version.server.").Wire.ToArray();
    private static readonly byte[] VersionBind = DnsName.Parse("version.bind.").Wire.ToArray();
    private static readonly byte[] ZonesServer = DnsName.Parse("zones.server.").Wire.ToArray();
    private static readonly byte[] CookiesServer = DnsName.Parse("cookies.server.").Wire.ToArray();

    /// <summary>The identity TXT of each zone, made once per loaded zone; reloaded zones are new keys, old ones are collected.</summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Zones.Zone, byte[]> _zoneTexts = new();

    /// <summary>The TXT of each set of cookie secrets, made once per set.</summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<CookieSecrets, byte[]> _cookieTexts = new();

    private readonly byte[] _identity;
    private readonly byte[]? _version;
    private readonly CookieSecretsHolder? _cookies;

    /// <param name="popId">The PoP identity.</param>
    /// <param name="version">The version text; empty or null refuses version queries.</param>
    /// <param name="cookies">The cookie secrets in force; null refuses <c>cookies.server</c>.</param>
    public Chaos(string popId, string? version, CookieSecretsHolder? cookies = null)
    {
        _identity = ToTxtRdata(popId);
        _version = string.IsNullOrEmpty(version) ? null : ToTxtRdata(version);
        _cookies = cookies;
    }

    public void Write(ref Response response, scoped ReadOnlySpan<byte> qname, RecordType qtype, Zones.ZoneSet zones)
    {
        int labels = WireName.CountLabels(qname);
        if (labels >= 2 && WireName.EqualsIgnoreCase(qname[WireName.SkipLabels(qname, labels - 2)..], ZonesServer))
        {
            ZoneIdentity(ref response, qname, qtype, zones);
            return;
        }
        byte[]? text = null;
        if (WireName.EqualsIgnoreCase(qname, IdServer) || WireName.EqualsIgnoreCase(qname, HostnameBind))
        {
            text = _identity;
        }
        else if (WireName.EqualsIgnoreCase(qname, VersionServer) || WireName.EqualsIgnoreCase(qname, VersionBind))
        {
            text = _version;
        }
        else if (_cookies is not null && WireName.EqualsIgnoreCase(qname, CookiesServer))
        {
            text = TextOf(_cookies.Current);
        }
        if (text is null || qtype is not (RecordType.TXT or RecordType.ANY))
        {
            response.Header.SetRcode((int)ResponseCode.Refused);
            return;
        }
        // AA stays off, as Knot answers: no zone holds these names; they describe the server (RFC 4892 §2).
        // TTL 0: the answer describes this server at this moment, and must not be cached for another PoP (RFC 4892 §2.2).
        response.AddRecord(Section.Answer, qname, RecordType.TXT, (ushort)RecordClass.CH, 0, text);
    }

    private void ZoneIdentity(ref Response response, scoped ReadOnlySpan<byte> qname, RecordType qtype, Zones.ZoneSet zones)
    {
        if (qtype is not (RecordType.TXT or RecordType.ANY))
        {
            response.Header.SetRcode((int)ResponseCode.Refused);
            return;
        }
        if (qname.Length == ZonesServer.Length)
        {
            // zones.server: the summary first; then one TXT per zone, in canonical order, when all of them fit in one
            // message (see the class comment). A list too long for UDP truncates, as any large answer does.
            if (!ZoneSetIdentity.TryGet(zones, out var identity))
            {
                // The digests of a snapshot just published are still being computed (seconds for 100,000 zones): not
                // on this thread. SERVFAIL says "ask again", as for a zone not yet loaded (RFC 1035 §4.1.1).
                response.Header.SetRcode((int)ResponseCode.ServFail);
                return;
            }
            if (!response.AddRecord(Section.Answer, qname, RecordType.TXT, (ushort)RecordClass.CH, 0, identity.SummaryText) || !identity.ListFits)
            {
                return;
            }
            foreach (var zone in zones.Zones)
            {
                if (!response.AddRecord(Section.Answer, qname, RecordType.TXT, (ushort)RecordClass.CH, 0, TextOf(zone)))
                {
                    return;
                }
            }
            return;
        }
        // <origin>.zones.server: the origin is the name minus the last two labels, plus the root.
        Span<byte> origin = stackalloc byte[DnsName.MaxLength + 1];
        int prefix = qname.Length - ZonesServer.Length;
        qname[..prefix].CopyTo(origin);
        origin[prefix] = 0;
        var found = zones.FindZone(origin[..(prefix + 1)]);
        if (found is null || found.Origin.Length != prefix + 1)
        {
            response.Header.SetRcode((int)ResponseCode.Refused);
            return;
        }
        response.AddRecord(Section.Answer, qname, RecordType.TXT, (ushort)RecordClass.CH, 0, TextOf(found));
    }

    private byte[] TextOf(Zones.Zone zone) => _zoneTexts.GetValue(zone, static z =>
    {
        string[] strings = [z.Origin.ToString(), z.Serial.ToString(System.Globalization.CultureInfo.InvariantCulture), z.DigestHex];
        var rdata = new List<byte>();
        foreach (var s in strings)
        {
            rdata.AddRange(ToTxtRdata(s));
        }
        return [.. rdata];
    });

    /// <summary>cookies.server: <c>file</c> or <c>random</c>, then the fingerprint of every secret; never a secret.</summary>
    private byte[] TextOf(CookieSecrets secrets) => _cookieTexts.GetValue(secrets, static c =>
    {
        var rdata = new List<byte>(ToTxtRdata(c.IsRandom ? "random" : "file"));
        foreach (string fingerprint in c.Fingerprints)
        {
            rdata.AddRange(ToTxtRdata(fingerprint));
        }
        return [.. rdata];
    });

    /// <summary>TXT RDATA: the text as UTF-8 in character-strings of at most 255 octets (RFC 1035 §3.3.14).</summary>
    internal static byte[] ToTxtRdata(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length == 0)
        {
            return [0];
        }
        var rdata = new List<byte>(bytes.Length + bytes.Length / 255 + 1);
        for (int at = 0; at < bytes.Length; at += 255)
        {
            int n = Math.Min(255, bytes.Length - at);
            rdata.Add((byte)n);
            rdata.AddRange(bytes.AsSpan(at, n));
        }
        return [.. rdata];
    }
}
