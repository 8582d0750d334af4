using System.Buffers.Binary;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority.Transfers;

/// <summary>
/// The messages of an IXFR answer (RFC 1995 §4) from a version the <see cref="ZoneHistory"/> keeps: the current SOA,
/// then the older version's SOA, the records deleted since, the current SOA again, the records added, and the current
/// SOA to close — one condensed difference however many versions lie between (RFC 1995 §5). To a client already at
/// the current serial or ahead of it (RFC 1982), the current SOA alone (RFC 1995 §2).
/// </summary>
public sealed class IxfrMessages : TransferMessages
{
    private readonly ZoneDifference? _difference;
    private Stage _stage;
    private int _record;

    private enum Stage
    {
        OpeningSoa,
        FromSoa,
        Deleted,
        MiddleSoa,
        Added,
        ClosingSoa,
        Done,
    }

    private IxfrMessages(in TransferRequest request, ZoneDifference? difference) : base(request)
    {
        _difference = difference;
    }

    public override bool IsComplete => _stage == Stage.Done;

    public override string Kind => _difference is null ? "ixfr-soa" : "ixfr";

    /// <summary>The serial the client said it has, from the SOA in the query's authority section.</summary>
    public uint ClientSerial { get; private init; }

    /// <summary>
    /// Reads the IXFR query <paramref name="request"/> (without its TSIG record) and prepares its answer from the zone
    /// as it is now: the difference from the client's serial when <paramref name="history"/> keeps it, the SOA alone
    /// when the client is current, otherwise the whole zone (an <see cref="AxfrMessages"/> under the IXFR question).
    /// </summary>
    public static TransferOpening Open(ReadOnlySpan<byte> request, Transport transport, ZoneSet zones, ZoneHistory history, ushort udpPayload, out TransferMessages? messages)
    {
        ArgumentNullException.ThrowIfNull(history);
        messages = null;
        var opening = Read(request, RecordType.IXFR, transport, zones, udpPayload, out var read);
        if (opening != TransferOpening.Transfer)
        {
            return opening;
        }
        if (!TryReadClientSerial(request, out uint serial))
        {
            return TransferOpening.Malformed;
        }
        var zone = read.Zone;
        if (serial == zone.Serial || SerialNumber.IsGreater(serial, zone.Serial))
        {
            messages = new IxfrMessages(read, null) { ClientSerial = serial };
        }
        else if (history.Find(zone, serial) is { } difference)
        {
            messages = new IxfrMessages(read, difference) { ClientSerial = serial };
        }
        else
        {
            messages = new AxfrMessages(read, forIxfr: true);
        }
        return opening;
    }

    /// <summary>
    /// The answer to the same request with the current SOA alone: over UDP, when the difference or zone does not fit,
    /// so that the client retries over TCP (RFC 1995 §2).
    /// </summary>
    public static TransferMessages CurrentSoa(TransferMessages opened)
    {
        ArgumentNullException.ThrowIfNull(opened);
        return new IxfrMessages(opened.Request, null);
    }

    /// <summary>
    /// The SOA serial in the authority section of an IXFR query (RFC 1995 §3), read without allocating: past the
    /// question and any answer records, the first authority record must be a SOA whose RDATA is MNAME, RNAME, SERIAL...
    /// </summary>
    public static bool TryReadClientSerial(ReadOnlySpan<byte> request, out uint serial)
    {
        serial = 0;
        if (!Header.TryRead(request, out var header) || header.QuestionCount != 1 || header.AuthorityCount == 0)
        {
            return false;
        }
        int offset = Header.Length;
        if (WireReader.SkipName(request, ref offset) != WireError.None || (offset += 4) > request.Length)
        {
            return false;
        }
        for (int i = 0; i <= header.AnswerCount; i++)
        {
            if (WireReader.SkipName(request, ref offset) != WireError.None
                || WireReader.ReadRecordHeader(request, ref offset, out ushort type, out _, out _, out int rdataLength) != WireError.None
                || offset + rdataLength > request.Length)
            {
                return false;
            }
            if (i < header.AnswerCount)
            {
                offset += rdataLength;
                continue;
            }
            int rdataEnd = offset + rdataLength;
            if (type != (ushort)RecordType.SOA
                || WireReader.SkipName(request, ref offset) != WireError.None
                || WireReader.SkipName(request, ref offset) != WireError.None
                || offset + 20 > rdataEnd)
            {
                return false;
            }
            serial = BinaryPrimitives.ReadUInt32BigEndian(request[offset..]);
            return true;
        }
        return false;
    }

    private protected override bool TryWriteNextRecord(ref MessageWriter w)
    {
        var difference = _difference;
        switch (_stage)
        {
            case Stage.OpeningSoa:
                if (!WriteSoa(ref w))
                {
                    return false;
                }
                _stage = difference is null ? Stage.Done : Stage.FromSoa;
                return true;
            case Stage.FromSoa:
                var soa = difference!.FromSoa.AsSpan();
                if (!w.WriteRecord(Zone.Origin.Wire, RecordType.SOA, (ushort)RecordClass.IN, BinaryPrimitives.ReadUInt32BigEndian(soa[4..]), soa[10..]))
                {
                    return false;
                }
                _stage = Stage.Deleted;
                return true;
            case Stage.Deleted:
                return WriteListed(ref w, difference!.Deleted, Stage.MiddleSoa);
            case Stage.MiddleSoa:
            case Stage.ClosingSoa:
                if (!WriteSoa(ref w))
                {
                    return false;
                }
                _stage = _stage == Stage.MiddleSoa ? Stage.Added : Stage.Done;
                return true;
            case Stage.Added:
                return WriteListed(ref w, difference!.Added, Stage.ClosingSoa);
            default:
                return false;
        }
    }

    /// <summary>Writes the next record of <paramref name="records"/>, or, past its end, moves to <paramref name="then"/> and writes that.</summary>
    private bool WriteListed(ref MessageWriter w, DifferenceRecords records, Stage then)
    {
        if (_record >= records.Count)
        {
            _stage = then;
            _record = 0;
            return TryWriteNextRecord(ref w);
        }
        if (!w.WriteRecord(records.Owner(_record), records.Type(_record), (ushort)RecordClass.IN, records.Ttl(_record), records.Rdata(_record)))
        {
            return false;
        }
        _record++;
        return true;
    }
}
