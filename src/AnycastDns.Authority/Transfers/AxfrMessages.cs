using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority.Transfers;

/// <summary>
/// The messages of one AXFR answer (RFC 5936 §2.2): the zone's SOA, every other record of the zone (DNSSEC records,
/// delegations, glue and occluded data included: the zone as loaded), then the SOA again. Also the whole-zone answer
/// to an IXFR the history cannot serve (RFC 1995 §4), which has the same records under an IXFR question.
/// </summary>
/// <remarks>
/// The records are read where the zone holds them; nothing of the zone is copied but the message being written.
/// </remarks>
public sealed class AxfrMessages : TransferMessages
{
    private readonly IEnumerator<ZoneNode> _nodes;
    private readonly bool _forIxfr;

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

    internal AxfrMessages(in TransferRequest request, bool forIxfr) : base(request)
    {
        _nodes = request.Zone.Nodes.GetEnumerator();
        _forIxfr = forIxfr;
    }

    public override bool IsComplete => _stage == Stage.Done;

    public override string Kind => _forIxfr ? "ixfr-full" : "axfr";

    /// <summary>
    /// Reads the AXFR query <paramref name="request"/> (without its TSIG record) and, when it asks for the apex of a
    /// zone in <paramref name="zones"/>, prepares the answer from that zone as it is now. <paramref name="udpPayload"/>
    /// is the payload size the OPT record of each message announces when the query had EDNS.
    /// </summary>
    public static TransferOpening Open(ReadOnlySpan<byte> request, ZoneSet zones, ushort udpPayload, out AxfrMessages? messages)
    {
        messages = null;
        var opening = Read(request, RecordType.AXFR, Transport.Tcp, zones, udpPayload, out var read);
        if (opening == TransferOpening.Transfer)
        {
            messages = new AxfrMessages(read, forIxfr: false);
        }
        return opening;
    }

    private protected override bool TryWriteNextRecord(ref MessageWriter w)
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
}
