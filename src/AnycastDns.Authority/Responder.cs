using System.Buffers.Binary;
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

    public Responder(ZoneSetHolder zones, ResponderOptions options)
    {
        _zones = zones;
        _options = options;
        _chaos = new Chaos(options.PopId, options.VersionString);
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

    /// <summary>The longest response <see cref="Respond"/> writes for <see cref="Transport.Udp"/>: a UDP response buffer this long always suffices.</summary>
    public int MaxUdpResponse => Math.Max(ClassicUdpLimit, (int)_options.MaxUdpPayload);

    /// <summary>
    /// Answers <paramref name="query"/> into <paramref name="response"/> and returns the response length,
    /// or 0 when the message must not be answered (a response, or shorter than a header).
    /// </summary>
    public int Respond(ReadOnlySpan<byte> query, Span<byte> response, Transport transport)
    {
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
        int limit = transport == Transport.Tcp ? MaxResponseSize
            : q.HasEdns ? Math.Clamp((int)q.ClientPayloadSize, ClassicUdpLimit, _options.MaxUdpPayload)
            : ClassicUdpLimit;
        r.Writer.Limit = limit;
        r.Writer.WriteHeader(r.Header);
        // RFC 5001 §2.1: honouring an NSID request is the server's choice. A long identity (up to 255 octets) and a long
        // question can overrun 512 octets together: the identity is left out rather than the query left unanswered.
        if (q.NsidRequested && Header.Length + q.Name.Length + 4 + OptLength(q, transport) > limit)
        {
            q.NsidRequested = false;
        }

        switch (verdict)
        {
            case QueryVerdict.NotImp:
                r.Header.SetRcode((int)ResponseCode.NotImp);
                return Finish(ref r, q, extendedRcode: 0, transport);
            case QueryVerdict.FormErr:
                r.Header.SetRcode((int)ResponseCode.FormErr);
                if (q.HasQuestion && !WriteQuestion(ref r, q))
                {
                    return 0;
                }
                return Finish(ref r, q, extendedRcode: 0, transport);
            case QueryVerdict.BadVers:
                WriteQuestion(ref r, q);
                // RFC 6891 §6.1.3: BADVERS is 16, carried as extended RCODE 1 with the header's 4 bits 0.
                return Finish(ref r, q, extendedRcode: (int)ResponseCode.BadVers >> 4, transport);
        }

        if (!WriteQuestion(ref r, q))
        {
            return 0;
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
                break;
            default:
                r.Header.SetRcode((int)ResponseCode.Refused);
                break;
        }
        r.Writer.Limit = limit;
        return Finish(ref r, q, extendedRcode: 0, transport);
    }

    private void AnswerInternet(ref Response r, scoped Query q, Transport transport)
    {
        switch (q.Type)
        {
            // Zone transfers are not offered (RFC 5936 §4.2: a refused AXFR is REFUSED; over UDP, RFC 1995 §2 allows only IXFR).
            case RecordType.AXFR or RecordType.IXFR:
                r.Header.SetRcode((int)ResponseCode.Refused);
                return;
            // TYPE 0 is reserved (RFC 6895 §3.1) and names no data: NOTIMP, as Knot answers. Other meta-types (OPT,
            // TSIG, TKEY) and MAILA/MAILB get the plain lookup, so NODATA, as NSD and Knot answer.
            case 0:
                r.Header.SetRcode((int)ResponseCode.NotImp);
                return;
        }
        var zones = _zones.Current;
        var zone = zones.FindZone(q.Name);
        if (zone is null)
        {
            // Not authoritative and not a resolver: REFUSED (RFC 1035 §4.1.1, as NSD and Knot answer).
            r.Header.SetRcode((int)ResponseCode.Refused);
            return;
        }
        if (q.Type == RecordType.DS && !zone.Origin.IsRoot && q.Name.Length == zone.Origin.Length)
        {
            // RFC 4035 §3.1.4.1: the DS RRset at a zone apex is the parent's; answer from the parent if we serve it.
            zone = zones.FindZone(q.Name[(q.Name[0] + 1)..]) ?? zone;
        }
        // RFC 3225 §3, RFC 4035 §3.1: DNSSEC records only for a DO query, and only a signed zone has them.
        r.Dnssec = q.DnssecOk && zone.IsSigned;
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

    private int OptLength(in Query q, Transport transport)
    {
        if (!q.HasEdns)
        {
            return 0;
        }
        int length = 11;
        if (q.NsidRequested)
        {
            length += 4 + _nsid.Length;
        }
        if (q.KeepaliveRequested && transport == Transport.Tcp)
        {
            length += 6;
        }
        return length;
    }

    private int Finish(ref Response r, scoped Query q, int extendedRcode, Transport transport)
    {
        // RFC 6891 §7: an OPT in the response only when the query had one.
        if (q.HasEdns)
        {
            int optLength = OptLength(q, transport);
            var w = r.Writer;
            if (w.Position + optLength > w.Limit)
            {
                return 0;
            }
            Span<byte> opt = w.Buffer.Slice(w.Position, optLength);
            opt[0] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(opt[1..], (ushort)RecordType.OPT);
            BinaryPrimitives.WriteUInt16BigEndian(opt[3..], _options.MaxUdpPayload);
            // RFC 3225 §3: the DO bit is copied from the query.
            uint ttl = ((uint)extendedRcode << 24) | (q.DnssecOk ? EdnsRecord.DoBit : 0u);
            BinaryPrimitives.WriteUInt32BigEndian(opt[5..], ttl);
            BinaryPrimitives.WriteUInt16BigEndian(opt[9..], (ushort)(optLength - 11));
            int at = 11;
            if (q.NsidRequested)
            {
                BinaryPrimitives.WriteUInt16BigEndian(opt[at..], EdnsOptionCode.Nsid);
                BinaryPrimitives.WriteUInt16BigEndian(opt[(at + 2)..], (ushort)_nsid.Length);
                _nsid.CopyTo(opt[(at + 4)..]);
                at += 4 + _nsid.Length;
            }
            if (q.KeepaliveRequested && transport == Transport.Tcp)
            {
                BinaryPrimitives.WriteUInt16BigEndian(opt[at..], EdnsOptionCode.TcpKeepalive);
                BinaryPrimitives.WriteUInt16BigEndian(opt[(at + 2)..], 2);
                BinaryPrimitives.WriteUInt16BigEndian(opt[(at + 4)..], _keepaliveUnits);
            }
            w.WriteBytes(opt);
            r.Writer = w;
            r.CountAdditional();
        }
        r.Finish();
        return r.Writer.Position;
    }
}
