using System.Buffers.Binary;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority.Transfers;

/// <summary>What opening a transfer found the request to be.</summary>
public enum TransferOpening
{
    /// <summary>A transfer of a zone this server serves: the messages are ready to be written.</summary>
    Transfer,
    /// <summary>Not a well-formed transfer query (FORMERR, BADVERS, another QTYPE...): the responder answers it as any query.</summary>
    NotATransfer,
    /// <summary>The name is not the apex of a zone served here (RFC 5936 §2.2.1: NOTAUTH).</summary>
    NotAuthoritative,
    /// <summary>The zone's file is there but has never loaded: SERVFAIL, as for a query (RFC 8914 §4.15).</summary>
    NotReady,
    /// <summary>An IXFR query without the client's SOA in its authority section (RFC 1995 §3): FORMERR.</summary>
    Malformed,
}

/// <summary>
/// The messages of one transfer answer (AXFR, RFC 5936 §2.2; IXFR, RFC 1995 §4), written one at a time into the
/// caller's buffer. Each message is packed with as many records as fit below the 65,535 octets of a TCP message (or
/// the client's UDP size), names compressed (RFC 1035 §4.1.4); the first carries the question. What the records are
/// is the subclass's: <see cref="AxfrMessages"/> walks a zone, <see cref="IxfrMessages"/> a difference.
/// </summary>
/// <remarks>
/// The zone is the version current when the transfer was opened: a reload meanwhile publishes a new <see cref="Zone"/>
/// and leaves this one whole, so a transfer never mixes versions (RFC 5936 §6).
/// </remarks>
public abstract class TransferMessages
{
    private readonly byte[] _question;
    private readonly bool _edns;
    private readonly bool _dnssecOk;
    private readonly ushort _udpPayload;
    private readonly long _expire;

    private protected TransferMessages(in TransferRequest request)
    {
        Request = request;
        Zone = request.Zone;
        Id = request.Id;
        Flags = request.Flags;
        _question = request.Question;
        _edns = request.HasEdns;
        _dnssecOk = request.DnssecOk;
        _udpPayload = request.UdpPayload;
        _expire = request.Expire;
    }

    /// <summary>The request as read when the transfer opened.</summary>
    internal TransferRequest Request { get; }

    /// <summary>
    /// Names kept as compression targets in each message: the first names written, which hold the zone's origin (the
    /// question, or the first owner of a later message). Every owner compresses to its suffix there at the cost of a
    /// few comparisons, where 96 targets cost about twice the whole transfer time of Knot's.
    /// </summary>
    private const int CompressionTargets = 8;

    /// <summary>The zone transferred: the version current when the transfer opened.</summary>
    public Zone Zone { get; }

    /// <summary>The query's ID, which every message carries (RFC 5936 §2.2.1).</summary>
    public ushort Id { get; }

    /// <summary>True when the request was an IXFR (whatever the answer's form).</summary>
    public bool IsIxfr => BinaryPrimitives.ReadUInt16BigEndian(_question.AsSpan(_question.Length - 4)) == (ushort)RecordType.IXFR;

    /// <summary>The header flags of every message.</summary>
    private protected ushort Flags { get; }

    /// <summary>Messages written so far.</summary>
    public int Messages { get; private set; }

    /// <summary>Records written so far (the SOA counted each time it is sent).</summary>
    public long Records { get; private set; }

    /// <summary>True once the last record is written.</summary>
    public abstract bool IsComplete { get; }

    /// <summary>"axfr", "ixfr" or "ixfr-full" (an IXFR answered with the whole zone): for logs and metrics.</summary>
    public abstract string Kind { get; }

    /// <summary>
    /// Writes the next message into <paramref name="buffer"/>, leaving <paramref name="reserve"/> octets below its
    /// length (at most 65,535) for what the caller appends (a TSIG record); returns its length, 0 when the transfer is
    /// complete, or -1 when a record cannot fit even alone in a message (the caller ends the transfer with SERVFAIL).
    /// </summary>
    public int WriteNext(Span<byte> buffer, int reserve)
    {
        if (IsComplete)
        {
            return 0;
        }
        var w = new MessageWriter(buffer) { CompressionTargets = CompressionTargets };
        // RFC 6891 §7: the query had EDNS, so every message of the answer has an OPT record; DO copied (RFC 3225 §3).
        var opt = new ResponseOpt(_udpPayload, 0, _dnssecOk) { Expire = _expire };
        int optLength = _edns ? opt.Length : 0;
        w.Limit = Math.Min(buffer.Length, ushort.MaxValue) - reserve - optLength;
        var header = new Header { Id = Id, Flags = Flags, QuestionCount = Messages == 0 ? (ushort)1 : (ushort)0 };
        // The question's name is written as a name, so that the records after it compress against the zone's origin.
        int nameLength = _question.Length - 4;
        if (!w.WriteHeader(header) || (Messages == 0 && !(w.WriteName(_question.AsSpan(0, nameLength)) && w.WriteBytes(_question.AsSpan(nameLength)))))
        {
            return -1;
        }
        int answers = 0;
        while (!IsComplete && answers < ushort.MaxValue)
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
            w.Limit += optLength;
            OptWriter.TryWrite(ref w, opt);
            w.PatchUInt16(10, 1);
        }
        Messages++;
        Records += answers;
        return w.Position;
    }

    /// <summary>Writes the record the transfer is at and moves past it; false when it does not fit (nothing written).</summary>
    private protected abstract bool TryWriteNextRecord(ref MessageWriter w);

    /// <summary>Writes the SOA of the zone being transferred.</summary>
    private protected bool WriteSoa(ref MessageWriter w) =>
        w.WriteRecord(Zone.Origin.Wire, RecordType.SOA, (ushort)RecordClass.IN, Zone.Soa.Ttl, Zone.Soa.Rdata(0));

    /// <summary>
    /// Reads the transfer query <paramref name="request"/> (without its TSIG record) of type <paramref name="type"/>
    /// and finds its zone in <paramref name="zones"/>. <paramref name="udpPayload"/> is the payload size the OPT record
    /// of each message announces when the query had EDNS.
    /// </summary>
    private protected static TransferOpening Read(ReadOnlySpan<byte> request, RecordType type, Transport transport, ZoneSet zones, ushort udpPayload, out TransferRequest read)
    {
        ArgumentNullException.ThrowIfNull(zones);
        read = default;
        Span<byte> nameBuffer = stackalloc byte[DnsName.MaxLength + 1];
        var verdict = Query.Parse(request, nameBuffer, transport, out var q);
        if (verdict != QueryVerdict.Answer || q.Type != type || (RecordClass)q.Class is not (RecordClass.IN or RecordClass.ANY))
        {
            return TransferOpening.NotATransfer;
        }
        var zone = zones.FindZone(q.Name);
        if (zones.FindNotReady(q.Name, zone) is not null)
        {
            return TransferOpening.NotReady;
        }
        if (zone is null || zone.Origin.Length != q.Name.Length)
        {
            return TransferOpening.NotAuthoritative;
        }
        // The question goes back as it came, case included (RFC 5936 §2.2.1 copies it into the first message).
        var question = new byte[q.Name.Length + 4];
        q.Name.CopyTo(question);
        BinaryPrimitives.WriteUInt16BigEndian(question.AsSpan(q.Name.Length), (ushort)q.Type);
        BinaryPrimitives.WriteUInt16BigEndian(question.AsSpan(q.Name.Length + 2), q.Class);
        // RFC 5936 §2.2.1: ID and RD copied, QR and AA set, OPCODE 0, everything else clear.
        ushort flags = (ushort)(Header.QrBit | Header.AaBit | (q.Header.Flags & Header.RdBit));
        // RFC 7314 §3: asked for, the zone's expire goes with the transfer, in every message (as Knot sends it).
        long expire = q.ExpireRequested ? Expiry.Of(zone) : -1;
        read = new TransferRequest(zone, q.Header.Id, flags, question, q.HasEdns, q.DnssecOk, udpPayload, q.HasEdns ? q.ClientPayloadSize : (ushort)512, expire);
        return TransferOpening.Transfer;
    }

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
        if (q.HasEdns && OptWriter.TryWrite(ref w, new ResponseOpt(udpPayload, rcode, q.DnssecOk) { ExtendedError = extendedError }))
        {
            header.AdditionalCount = 1;
        }
        header.Write(response);
        return w.Position;
    }
}

/// <summary>
/// A transfer query as read: the zone asked for, the header fields every message copies, the question as it came,
/// and the EDNS facts (<paramref name="ClientPayload"/> is the UDP size the client can take, 512 without EDNS;
/// <paramref name="Expire"/> the EDNS EXPIRE value to send, RFC 7314, or -1 when not asked for).
/// </summary>
public readonly record struct TransferRequest(Zone Zone, ushort Id, ushort Flags, byte[] Question, bool HasEdns, bool DnssecOk, ushort UdpPayload, ushort ClientPayload, long Expire);
