using System.Buffers.Binary;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority.Transfers;

/// <summary>What <see cref="AxfrMessages.Open"/> found the request to be.</summary>
public enum AxfrOpening
{
    /// <summary>An AXFR of a zone this server serves: the messages are ready to be written.</summary>
    Transfer,
    /// <summary>Not a well-formed AXFR query (FORMERR, BADVERS, another QTYPE...): the responder answers it as any query.</summary>
    NotATransfer,
    /// <summary>The name is not the apex of a zone served here (RFC 5936 §2.2.1: NOTAUTH).</summary>
    NotAuthoritative,
    /// <summary>The zone's file is there but has never loaded: SERVFAIL, as for a query (RFC 8914 §4.15).</summary>
    NotReady,
}

/// <summary>
/// The messages of one AXFR answer (RFC 5936 §2.2), written one at a time into the caller's buffer: the zone's SOA,
/// every other record of the zone (DNSSEC records, delegations, glue and occluded data included: the zone as loaded),
/// then the SOA again. Each message is packed with as many records as fit below the 65,535 octets of a TCP message,
/// names compressed (RFC 1035 §4.1.4).
/// </summary>
/// <remarks>
/// The zone is the version current when the transfer was opened: a reload meanwhile publishes a new <see cref="Zone"/>
/// and leaves this one whole, so a transfer never mixes versions (RFC 5936 §6). The records are read where the zone
/// holds them; nothing of the zone is copied but the message being written.
/// </remarks>
public sealed class AxfrMessages
{
    private readonly Zone _zone;
    private readonly ushort _id;
    private readonly ushort _flags;
    private readonly byte[] _question;
    private readonly bool _edns;
    private readonly bool _dnssecOk;
    private readonly ushort _udpPayload;
    private readonly long _expire;
    private readonly IEnumerator<ZoneNode> _nodes;

    private Stage _stage;
    private ZoneNode? _node;
    private int _rrset;
    private int _record;

    private enum Stage
    {
        OpeningSoa,
        Records,
        ClosingSoa,
        Done,
    }

    private AxfrMessages(Zone zone, ushort id, ushort flags, byte[] question, bool edns, bool dnssecOk, ushort udpPayload, long expire)
    {
        _expire = expire;
        _zone = zone;
        _id = id;
        _flags = flags;
        _question = question;
        _edns = edns;
        _dnssecOk = dnssecOk;
        _udpPayload = udpPayload;
        _nodes = zone.Nodes.GetEnumerator();
    }

    /// <summary>The zone transferred: the version current when the transfer opened.</summary>
    public Zone Zone => _zone;

    /// <summary>The query's ID, which every message carries (RFC 5936 §2.2.1).</summary>
    public ushort Id => _id;

    /// <summary>Messages written so far.</summary>
    public int Messages { get; private set; }

    /// <summary>Records written so far (the SOA counts twice, RFC 5936 §2.2).</summary>
    public long Records { get; private set; }

    /// <summary>True once the closing SOA is written.</summary>
    public bool IsComplete => _stage == Stage.Done;

    /// <summary>
    /// Reads the AXFR query <paramref name="request"/> (without its TSIG record) and, when it asks for the apex of a
    /// zone in <paramref name="zones"/>, prepares the answer from that zone as it is now. <paramref name="udpPayload"/>
    /// is the payload size the OPT record of each message announces when the query had EDNS.
    /// </summary>
    public static AxfrOpening Open(ReadOnlySpan<byte> request, ZoneSet zones, ushort udpPayload, out AxfrMessages? messages)
    {
        ArgumentNullException.ThrowIfNull(zones);
        messages = null;
        Span<byte> nameBuffer = stackalloc byte[DnsName.MaxLength + 1];
        var verdict = Query.Parse(request, nameBuffer, Transport.Tcp, out var q);
        if (verdict != QueryVerdict.Answer || q.Type != RecordType.AXFR || (RecordClass)q.Class is not (RecordClass.IN or RecordClass.ANY))
        {
            return AxfrOpening.NotATransfer;
        }
        var zone = zones.FindZone(q.Name);
        if (zones.FindNotReady(q.Name, zone) is not null)
        {
            return AxfrOpening.NotReady;
        }
        if (zone is null || zone.Origin.Length != q.Name.Length)
        {
            return AxfrOpening.NotAuthoritative;
        }
        // The question goes back as it came, case included (RFC 5936 §2.2.1 copies it into the first message).
        var question = new byte[q.Name.Length + 4];
        q.Name.CopyTo(question);
        BinaryPrimitives.WriteUInt16BigEndian(question.AsSpan(q.Name.Length), (ushort)q.Type);
        BinaryPrimitives.WriteUInt16BigEndian(question.AsSpan(q.Name.Length + 2), q.Class);
        // RFC 5936 §2.2.1: ID and RD copied, QR and AA set, OPCODE 0, everything else clear.
        ushort flags = (ushort)(Header.QrBit | Header.AaBit | (q.Header.Flags & Header.RdBit));
        // RFC 7314 §3: asked for, the zone's expire goes with the transfer.
        long expire = q.ExpireRequested ? Expiry.Of(zone) : -1;
        messages = new AxfrMessages(zone, q.Header.Id, flags, question, q.HasEdns, q.DnssecOk, udpPayload, expire);
        return AxfrOpening.Transfer;
    }

    /// <summary>
    /// Writes the next message into <paramref name="buffer"/>, leaving <paramref name="reserve"/> octets below 65,535
    /// for what the caller appends (a TSIG record); returns its length, 0 when the transfer is complete, or -1 when a
    /// record cannot fit even alone in a message (the transfer cannot go on: the caller ends it with SERVFAIL).
    /// </summary>
    public int WriteNext(Span<byte> buffer, int reserve)
    {
        if (_stage == Stage.Done)
        {
            return 0;
        }
        var w = new MessageWriter(buffer);
        bool expire = _expire >= 0;
        int optLength = !_edns ? 0 : expire ? OptWriter.FixedLength + OptWriter.ExpireLength : OptWriter.FixedLength;
        w.Limit = Math.Min(buffer.Length, ushort.MaxValue) - reserve - optLength;
        var header = new Header { Id = _id, Flags = _flags, QuestionCount = Messages == 0 ? (ushort)1 : (ushort)0 };
        // The question's name is written as a name, so that the records after it compress against the zone's origin.
        int nameLength = _question.Length - 4;
        if (!w.WriteHeader(header) || (Messages == 0 && !(w.WriteName(_question.AsSpan(0, nameLength)) && w.WriteBytes(_question.AsSpan(nameLength)))))
        {
            return -1;
        }
        int answers = 0;
        while (_stage != Stage.Done && answers < ushort.MaxValue)
        {
            if (!TryWriteNextRecord(ref w))
            {
                if (answers == 0)
                {
                    return -1;
                }
                break;
            }
            answers++;
        }
        w.PatchUInt16(6, (ushort)answers);
        if (_edns)
        {
            // RFC 6891 §7: the query had EDNS, so every message of the answer has an OPT record; DO copied (RFC 3225 §3).
            w.Limit += optLength;
            OptWriter.TryBegin(ref w, _udpPayload, 0, _dnssecOk, out int rdlengthAt);
            if (expire)
            {
                OptWriter.TryWriteExpire(ref w, (uint)_expire);
            }
            OptWriter.End(ref w, rdlengthAt);
            w.PatchUInt16(10, 1);
        }
        Messages++;
        Records += answers;
        return w.Position;
    }

    /// <summary>Writes the record the transfer is at and moves past it; false when it does not fit (nothing written).</summary>
    private bool TryWriteNextRecord(ref MessageWriter w)
    {
        switch (_stage)
        {
            case Stage.OpeningSoa:
                if (!WriteSoa(ref w))
                {
                    return false;
                }
                _stage = Stage.Records;
                return true;
            case Stage.Records:
                if (!FindNextRecord())
                {
                    _stage = Stage.ClosingSoa;
                    return TryWriteNextRecord(ref w);
                }
                var rrset = _node!.RRsets[_rrset];
                if (!w.WriteRecord(_node.Name.Wire, rrset.Type, (ushort)RecordClass.IN, rrset.RecordTtl(_record), rrset.Rdata(_record)))
                {
                    return false;
                }
                _record++;
                return true;
            case Stage.ClosingSoa:
                if (!WriteSoa(ref w))
                {
                    return false;
                }
                _stage = Stage.Done;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Positions the walk on the next record to send, the apex SOA excepted; false when there are no more.</summary>
    private bool FindNextRecord()
    {
        while (true)
        {
            if (_node is not null && _rrset < _node.RRsets.Length)
            {
                var rrset = _node.RRsets[_rrset];
                // The apex SOA opens and closes the transfer and is sent nowhere else (RFC 5936 §2.2).
                if (_record < rrset.Count && !(_node.IsApex && rrset.Type == RecordType.SOA))
                {
                    return true;
                }
                _rrset++;
                _record = 0;
                continue;
            }
            if (!_nodes.MoveNext())
            {
                _node = null;
                return false;
            }
            _node = _nodes.Current;
            _rrset = 0;
            _record = 0;
        }
    }

    private bool WriteSoa(ref MessageWriter w) =>
        w.WriteRecord(_zone.Origin.Wire, RecordType.SOA, (ushort)RecordClass.IN, _zone.Soa.Ttl, _zone.Soa.Rdata(0));

    /// <summary>
    /// An answer without records to a transfer request: the question echoed when it could be read, <paramref name="rcode"/>,
    /// and, when the query had EDNS, an OPT record with the Extended DNS Error <paramref name="extendedError"/> (-1 for
    /// none). Returns the length, or 0 when the request must not be answered (a response, or shorter than a header).
    /// </summary>
    public static int WriteError(ReadOnlySpan<byte> request, Span<byte> response, int rcode, int extendedError, ushort udpPayload)
    {
        Span<byte> nameBuffer = stackalloc byte[DnsName.MaxLength + 1];
        var verdict = Query.Parse(request, nameBuffer, Transport.Tcp, out var q);
        if (verdict == QueryVerdict.Drop)
        {
            return 0;
        }
        var w = new MessageWriter(response);
        var header = new Header
        {
            Id = q.Header.Id,
            Flags = (ushort)(Header.QrBit | (q.Header.Flags & (0x7800 | Header.RdBit | Header.CdBit)) | (rcode & 0xF)),
        };
        if (!w.WriteHeader(header))
        {
            return 0;
        }
        if (q.HasQuestion && w.WriteName(q.Name) && w.WriteUInt16((ushort)q.Type) && w.WriteUInt16(q.Class))
        {
            header.QuestionCount = 1;
        }
        if (q.HasEdns && OptWriter.TryBegin(ref w, udpPayload, rcode, q.DnssecOk, out int rdlengthAt))
        {
            if (extendedError >= 0)
            {
                OptWriter.TryWriteExtendedError(ref w, (ushort)extendedError, []);
            }
            OptWriter.End(ref w, rdlengthAt);
            header.AdditionalCount = 1;
        }
        header.Write(response);
        return w.Position;
    }
}
