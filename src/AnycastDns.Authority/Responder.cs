using System.Text;
using AnycastDns.Protocol;
using AnycastDns.Zones;

// The answer path stack-allocates name buffers for every query and always writes before it reads them; zeroing
// them first (the default) is wasted work on the hot path.
[module: System.Runtime.CompilerServices.SkipLocalsInit]

namespace AnycastDns.Authority;

/// <summary>
/// Turns one query into one response, written straight into the caller's buffer without allocating.
/// This is the whole of "what happens to a query": message checks, EDNS, class dispatch, the answer, then OPT.
/// Thread-safe: it keeps no per-query state.
/// </summary>
public sealed class Responder
{
    /// <summary>RFC 1035 §4.2.1: without EDNS a UDP message is at most 512 octets.</summary>
    public const int ClassicUdpLimit = 512;

    /// <summary>A buffer of this size holds any response (TCP's 2-octet length field).</summary>
    public const int MaxResponseSize = ushort.MaxValue;

    private readonly ZoneSetHolder _zones;
    private readonly ResponderOptions _options;
    private readonly Chaos _chaos;
    private readonly byte[] _nsid;
    private readonly ushort _keepaliveUnits;
    private readonly Cookies.CookieSecretsHolder _cookies;

    /// <summary>
    /// <paramref name="cookies"/> holds the secrets of server cookies (RFC 7873 §7.1), shared by every PoP; without it
    /// this responder makes its own random one, and its cookies verify only here.
    /// </summary>
    public Responder(ZoneSetHolder zones, ResponderOptions options, Cookies.CookieSecretsHolder? cookies = null)
    {
        _zones = zones;
        _options = options;
        _cookies = cookies ?? new Cookies.CookieSecretsHolder(Cookies.CookieSecrets.CreateRandom());
        _chaos = new Chaos(options.PopId, options.VersionString, _cookies);
        var nsid = Encoding.UTF8.GetBytes(options.PopId);
        _nsid = nsid.Length > 512 ? nsid[..512] : nsid;
        // RFC 7828 §3.1: TIMEOUT in units of 100 milliseconds.
        _keepaliveUnits = (ushort)Math.Clamp(options.TcpIdleTimeout.TotalMilliseconds / 100, 0, ushort.MaxValue);
    }

    public Responder(ZoneSet zones, ResponderOptions options)
        : this(new ZoneSetHolder(zones), options)
    {
    }

    public ZoneSetHolder Zones => _zones;

    /// <summary>The timers of the secondary zones (<c>Secondary:Zones</c>), or null when there are none.</summary>
    public IZoneExpiry? SecondaryExpiry { get; set; }

    /// <summary>The longest response <see cref="Respond"/> writes for <see cref="Transport.Udp"/>: a UDP response buffer this long always suffices.</summary>
    public int MaxUdpResponse => Math.Max(ClassicUdpLimit, (int)_options.MaxUdpPayload);

    /// <summary>
    /// Answers <paramref name="query"/> into <paramref name="response"/> and returns the response length,
    /// or 0 when the message must not be answered (a response, or shorter than a header).
    /// </summary>
    public int Respond(ReadOnlySpan<byte> query, Span<byte> response, Transport transport) =>
        Respond(query, response, transport, [], out _);

    /// <summary>
    /// Answers <paramref name="query"/> from <paramref name="clientAddress"/> (4 or 16 octets; it goes into server
    /// cookies, RFC 9018 §4.3) into <paramref name="response"/>, says in <paramref name="decision"/> what was decided,
    /// and returns the response length, or 0 when the message must not be answered.
    /// </summary>
    public int Respond(ReadOnlySpan<byte> query, Span<byte> response, Transport transport, ReadOnlySpan<byte> clientAddress, out ResponseDecision decision) =>
        Write(query, response, transport, clientAddress, limited: false, 0, out decision);

    /// <summary>
    /// As <see cref="Respond(ReadOnlySpan{byte}, Span{byte}, Transport, ReadOnlySpan{byte}, out ResponseDecision)"/>,
    /// leaving <paramref name="reserve"/> octets below the message's size limit (the client's UDP payload size, or
    /// 65,535) for a record the caller appends: a TSIG record (RFC 8945 §5.3), so that the signed answer still fits,
    /// and an answer that does not is truncated before it is signed.
    /// </summary>
    public int Respond(ReadOnlySpan<byte> query, Span<byte> response, Transport transport, ReadOnlySpan<byte> clientAddress, int reserve, out ResponseDecision decision) =>
        Write(query, response, transport, clientAddress, limited: false, reserve, out decision);

    /// <summary>
    /// The reply to a query that response rate limiting lets through as a "slip": no records, TC and AA set, so that
    /// a real resolver retries over TCP; when the query carried a client cookie, BADCOOKIE with a fresh server cookie
    /// instead, so that it retries over UDP with the cookie, which is never limited (RFC 7873 §5.2.3, as BIND does).
    /// </summary>
    public int RespondLimited(ReadOnlySpan<byte> query, Span<byte> response, ReadOnlySpan<byte> clientAddress, out ResponseDecision decision) =>
        Write(query, response, Transport.Udp, clientAddress, limited: true, 0, out decision);

    private int Write(ReadOnlySpan<byte> query, Span<byte> response, Transport transport, ReadOnlySpan<byte> clientAddress, bool limited, int reserve, out ResponseDecision decision)
    {
        decision = default;
        Span<byte> nameBuffer = stackalloc byte[DnsName.MaxLength + 1];
        var verdict = Query.Parse(query, nameBuffer, transport, out var q);
        if (verdict == QueryVerdict.Drop || response.Length < Header.Length)
        {
            return 0;
        }

        var r = new Response(response);
        // RFC 1035 §4.1.1: ID, OPCODE and RD are copied; RFC 4035 §3.1.6 copies CD as well.
        r.Header.Id = q.Header.Id;
        r.Header.Flags = (ushort)(Header.QrBit | (q.Header.Flags & (0x7800 | Header.RdBit | Header.CdBit)));
        int limit = Limit(q, transport) - reserve;
        r.Writer.Limit = limit;
        r.Writer.WriteHeader(r.Header);
        // RFC 5001 §2.1: honouring an NSID request is the server's choice. A long identity (up to 255 octets) and a long
        // question can overrun 512 octets together: the identity is left out rather than the query left unanswered.
        if (q.NsidRequested && Header.Length + q.Name.Length + 4 + OptLength(q, transport) > limit)
        {
            q.NsidRequested = false;
        }
        Span<byte> serverCookieBuffer = stackalloc byte[Cookies.ServerCookie.Length];
        decision.Cookie = CheckCookie(q, clientAddress, serverCookieBuffer, out int serverCookieLength);
        ReadOnlySpan<byte> serverCookie = serverCookieBuffer[..serverCookieLength];

        switch (verdict)
        {
            case QueryVerdict.NotImp:
                return Finish(ref r, q, (int)ResponseCode.NotImp, transport, serverCookie, ref decision);
            case QueryVerdict.FormErr:
                if (q.HasQuestion && !WriteQuestion(ref r, q))
                {
                    return 0;
                }
                return Finish(ref r, q, (int)ResponseCode.FormErr, transport, serverCookie, ref decision);
            case QueryVerdict.BadVers:
                WriteQuestion(ref r, q);
                return Finish(ref r, q, (int)ResponseCode.BadVers, transport, serverCookie, ref decision);
        }

        if (!WriteQuestion(ref r, q))
        {
            return 0;
        }
        if (limited)
        {
            if (!q.ClientCookie.IsEmpty)
            {
                return Finish(ref r, q, (int)ResponseCode.BadCookie, transport, serverCookie, ref decision);
            }
            r.Header.Set(Header.AaBit, true);
            r.Truncated = true;
            return Finish(ref r, q, r.Header.Rcode, transport, serverCookie, ref decision);
        }
        // Keep room for the OPT record so that it is never the part that does not fit (RFC 6891 §7).
        r.Writer.Limit = limit - OptLength(q, transport);
        switch ((RecordClass)q.Class)
        {
            // QCLASS * (RFC 1035 §3.2.5) matches our only data class, IN, as NSD and Knot answer it.
            case RecordClass.IN or RecordClass.ANY:
                AnswerInternet(ref r, q, transport);
                break;
            case RecordClass.CH:
                _chaos.Write(ref r, q.Name, q.Type, _zones.Current);
                if (r.Header.Rcode == (int)ResponseCode.Refused)
                {
                    r.ExtendedError = ExtendedErrorCode.NotSupported;
                }
                break;
            default:
                r.Header.SetRcode((int)ResponseCode.Refused);
                r.ExtendedError = ExtendedErrorCode.NotSupported;
                break;
        }
        r.Writer.Limit = limit;
        return Finish(ref r, q, r.Header.Rcode, transport, serverCookie, ref decision);
    }

    /// <summary>
    /// The largest UDP response <paramref name="query"/> may get: its EDNS payload size within 512 and the server's
    /// <c>MaxUdpPayload</c>, or 512 without EDNS (RFC 1035 §4.2.1, RFC 6891 §6.2.5). Reads the query again: for the
    /// few answers written outside the responder (to signed queries), not for every query.
    /// </summary>
    public int UdpLimit(ReadOnlySpan<byte> query)
    {
        Span<byte> nameBuffer = stackalloc byte[DnsName.MaxLength + 1];
        Query.Parse(query, nameBuffer, Transport.Udp, out var q);
        return Limit(q, Transport.Udp);
    }

    private int Limit(scoped in Query q, Transport transport) =>
        transport == Transport.Tcp ? MaxResponseSize
            : q.HasEdns ? Math.Clamp((int)q.ClientPayloadSize, ClassicUdpLimit, _options.MaxUdpPayload)
            : ClassicUdpLimit;

    private void AnswerInternet(ref Response r, scoped Query q, Transport transport)
    {
        switch (q.Type)
        {
            // Refused here: AXFR over UDP (RFC 5936 §4.2 leaves it undefined), IXFR (not offered yet), and an AXFR the
            // server's transfer policy does not allow. An allowed AXFR over TCP never gets here: the TCP listener hands
            // it to the zone transfers (AnycastDns.Server.Transfers), which stream the zone.
            case RecordType.AXFR or RecordType.IXFR:
                r.Header.SetRcode((int)ResponseCode.Refused);
                r.ExtendedError = ExtendedErrorCode.Prohibited;
                return;
            // TYPE 0 is reserved (RFC 6895 §3.1) and names no data: NOTIMP, as Knot answers. Other meta-types (OPT,
            // TSIG, TKEY) and MAILA/MAILB get the plain lookup, so NODATA, as NSD and Knot answer.
            case 0:
                r.Header.SetRcode((int)ResponseCode.NotImp);
                return;
        }
        var zones = _zones.Current;
        var zone = zones.FindZone(q.Name);
        if (zones.FindNotReady(q.Name, zone) is { } loading)
        {
            // The zone's file is there but has never loaded: SERVFAIL, not an answer from a parent or REFUSED, so that
            // a resolver tries another server (RFC 8914 §4.15, as NSD answers a zone it has not loaded).
            r.Header.SetRcode((int)ResponseCode.ServFail);
            // A secondary zone past its EXPIRE (RFC 1034 §4.3.5) is known and was served: EDE 24, as NSD answers it.
            r.ZoneExpired = SecondaryExpiry?.IsExpired(loading) == true;
            r.ExtendedError = r.ZoneExpired ? ExtendedErrorCode.InvalidData : ExtendedErrorCode.NotReady;
            r.Bucket = loading;
            return;
        }
        if (zone is null)
        {
            // Not authoritative and not a resolver: REFUSED (RFC 1035 §4.1.1, as NSD and Knot answer), EDE 20 (RFC 8914 §4.21).
            r.Header.SetRcode((int)ResponseCode.Refused);
            r.ExtendedError = ExtendedErrorCode.NotAuthoritative;
            return;
        }
        if (q.Type == RecordType.DS && !zone.Origin.IsRoot && q.Name.Length == zone.Origin.Length)
        {
            // RFC 4035 §3.1.4.1: the DS RRset at a zone apex is the parent's; answer from the parent if we serve it.
            zone = zones.FindZone(q.Name[(q.Name[0] + 1)..]) ?? zone;
        }
        r.Zone = zone.Origin;
        // RFC 3225 §3, RFC 4035 §3.1: DNSSEC records only for a DO query, and only a signed zone has them.
        r.Dnssec = q.DnssecOk && zone.IsSigned;
        if (q.ExpireRequested)
        {
            // RFC 7314 §3: a primary answers with its SOA EXPIRE, and every PoP serves the zone as its primary does. Asked
            // for on a query of another type, the option still comes with any answer from the zone, as Knot sends it:
            // the value is the zone's whatever the question.
            // RFC 7314 §4: a secondary sends the time left before its copy expires.
            long left = SecondaryExpiry?.SecondsToExpiry(zone) ?? -1;
            r.Expire = left >= 0 ? left : Expiry.Of(zone);
        }
        bool minimalAny = _options.MinimalAnyOverUdp && transport == Transport.Udp;
        AuthoritativeAnswer.Write(ref r, zone, q.Name, q.Type, minimalAny);
        r.AddAdditionalAddresses();
    }

    private static bool WriteQuestion(ref Response r, scoped Query q)
    {
        // The name goes back exactly as it came, case included (DNS 0x20).
        if (!r.Writer.WriteName(q.Name) || !r.Writer.WriteUInt16((ushort)q.Type) || !r.Writer.WriteUInt16(q.Class))
        {
            return false;
        }
        r.Header.QuestionCount = 1;
        return true;
    }

    /// <summary>The OPT record of the response to <paramref name="q"/>, with the options the query asked for.</summary>
    private ResponseOpt Opt(in Query q, Transport transport, int rcode, ReadOnlySpan<byte> serverCookie, long expire) =>
        // RFC 3225 §3: the DO bit is copied from the query; RFC 6891 §6.1.3: the RCODE's upper 8 bits go in OPT.
        new(_options.MaxUdpPayload, rcode, q.DnssecOk)
        {
            HasNsid = q.NsidRequested,
            Nsid = _nsid,
            // RFC 7828 §3.3.2: only over TCP.
            KeepaliveTimeout = q.KeepaliveRequested && transport == Transport.Tcp ? _keepaliveUnits : -1,
            // RFC 7873 §5.2: the client cookie echoed with our server cookie, on every response, errors included.
            ClientCookie = q.ClientCookie,
            ServerCookie = serverCookie,
            Expire = expire,
        };

    /// <summary>The most octets the OPT record of the response to <paramref name="q"/> can take (a full server cookie, EXPIRE whenever asked for).</summary>
    private int OptLength(scoped in Query q, Transport transport)
    {
        Span<byte> serverCookie = stackalloc byte[Cookies.ServerCookie.Length];
        return q.HasEdns ? Opt(q, transport, 0, serverCookie, q.ExpireRequested ? 0 : -1).Length : 0;
    }

    /// <summary>
    /// What the query's COOKIE option is worth, and the server cookie to send back in <paramref name="serverCookie"/>
    /// (<paramref name="length"/> octets; none when there is no client cookie, or no client address to bind one to).
    /// A valid cookie younger than 30 minutes is echoed as received; an older one, an invalid one or none gets a fresh
    /// one (RFC 9018 §4.3; RFC 7873 §5.2.3 and §5.2.4 answer as if only the client cookie had come).
    /// </summary>
    private CookieState CheckCookie(scoped in Query q, ReadOnlySpan<byte> clientAddress, Span<byte> serverCookie, out int length)
    {
        length = 0;
        if (q.MalformedCookie)
        {
            return CookieState.Invalid;
        }
        if (q.ClientCookie.IsEmpty)
        {
            return CookieState.None;
        }
        var secrets = _cookies.Current;
        // Seconds since 1970 as a 32-bit serial number (RFC 9018 §4.2 wraps it in 2106, RFC 1982 arithmetic).
        uint now = (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var state = CookieState.ClientOnly;
        if (!q.ServerCookie.IsEmpty)
        {
            var status = Cookies.ServerCookie.Verify(q.ServerCookie, q.ClientCookie, clientAddress, secrets, now);
            if (status == Cookies.ServerCookieStatus.Valid)
            {
                q.ServerCookie.CopyTo(serverCookie);
                length = q.ServerCookie.Length;
                return CookieState.Valid;
            }
            state = status == Cookies.ServerCookieStatus.ValidButStale ? CookieState.Valid : CookieState.Invalid;
        }
        if (Cookies.ServerCookie.TryCreate(serverCookie, q.ClientCookie, clientAddress, secrets, now))
        {
            length = Cookies.ServerCookie.Length;
        }
        return state;
    }

    /// <summary>Writes the OPT record (when the query had one), the final header, and what was decided.</summary>
    private int Finish(ref Response r, scoped Query q, int rcode, Transport transport, scoped ReadOnlySpan<byte> serverCookie, ref ResponseDecision decision)
    {
        r.Header.SetRcode(rcode);
        // RFC 6891 §7: an OPT in the response only when the query had one.
        if (q.HasEdns)
        {
            var w = r.Writer;
            if (w.Position + OptLength(q, transport) > w.Limit)
            {
                return 0;
            }
            var opt = Opt(q, transport, rcode, serverCookie, r.Expire);
            // RFC 8914 §3: optional; left out when it does not fit.
            opt.ExtendedError = r.ExtendedError;
            opt.ExtraText = r.ZoneExpired ? "zone expired"u8 : [];
            OptWriter.TryWrite(ref w, opt);
            r.Writer = w;
            r.CountAdditional();
        }
        r.Finish();

        decision.Length = r.Writer.Position;
        decision.Rcode = (ushort)rcode;
        decision.Truncated = r.Truncated;
        decision.QType = q.HasQuestion ? (ushort)q.Type : (ushort)0;
        decision.QNameLength = r.Header.QuestionCount == 1 ? q.Name.Length : 0;
        decision.Bucket = r.Bucket;
        decision.Zone = r.Zone;
        decision.Class = rcode switch
        {
            (int)ResponseCode.NoError => r.Class == ResponseClass.Dropped ? ResponseClass.Positive : r.Class,
            (int)ResponseCode.NXDomain => ResponseClass.NxDomain,
            _ => ResponseClass.Error,
        };
        return decision.Length;
    }
}
