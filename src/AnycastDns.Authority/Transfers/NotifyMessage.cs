using System.Buffers.Binary;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority.Transfers;

/// <summary>What a reply to a NOTIFY says (<see cref="NotifyMessage.ReadReply"/>).</summary>
public enum NotifyReply
{
    /// <summary>Not a reply to this NOTIFY: another ID, not a response, not opcode NOTIFY, another question, or malformed.</summary>
    Unrelated,
    /// <summary>RFC 1996 §4.7: the secondary answered NOERROR, so it has heard and will check the serial.</summary>
    Acknowledged,
    /// <summary>A reply to this NOTIFY with an error RCODE (NOTAUTH, REFUSED, NOTIMP...): the secondary will not act on it.</summary>
    Rejected,
}

/// <summary>
/// The NOTIFY a primary sends to tell a secondary of a zone's new version (RFC 1996 §3): opcode NOTIFY, AA set, the
/// question <c>zone IN SOA</c>, and the new SOA in the answer section (§3.7 allows it: the secondary may skip its SOA
/// query when the serial there is not newer). The reply that acknowledges it echoes the ID and the question, with QR
/// set and opcode NOTIFY (§4.7).
/// </summary>
public static class NotifyMessage
{
    /// <summary>
    /// Writes the NOTIFY for the zone <paramref name="origin"/> whose SOA is <paramref name="soa"/> (as
    /// <see cref="RRset.Encoded"/> gives it: TYPE, CLASS, TTL, RDLENGTH, RDATA) with <paramref name="id"/>; returns its
    /// length, 0 when it does not fit.
    /// </summary>
    public static int Write(DnsName origin, ReadOnlySpan<byte> soa, ushort id, Span<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(origin);
        var header = new Header { Id = id, Flags = Header.AaBit, QuestionCount = 1, AnswerCount = 1 };
        header.SetOpcode(Opcode.Notify);
        var w = new MessageWriter(buffer);
        if (soa.Length < 10 || !w.WriteHeader(header) || !w.WriteName(origin.Wire) || !w.WriteUInt16((ushort)RecordType.SOA) || !w.WriteUInt16((ushort)RecordClass.IN)
            || !w.WriteRecord(origin.Wire, RecordType.SOA, (ushort)RecordClass.IN, BinaryPrimitives.ReadUInt32BigEndian(soa[4..]), soa[10..]))
        {
            return 0;
        }
        return w.Position;
    }

    /// <summary>
    /// Reads <paramref name="reply"/> as the answer to the NOTIFY of <paramref name="origin"/> with <paramref name="id"/>;
    /// <paramref name="rcode"/> is its RCODE when it is one. Allocation-free; malformed input is <see cref="NotifyReply.Unrelated"/>.
    /// </summary>
    public static NotifyReply ReadReply(ReadOnlySpan<byte> reply, ushort id, DnsName origin, out int rcode)
    {
        ArgumentNullException.ThrowIfNull(origin);
        rcode = 0;
        if (!Header.TryRead(reply, out var header) || header.Id != id || !header.IsResponse || header.Opcode != Opcode.Notify)
        {
            return NotifyReply.Unrelated;
        }
        rcode = header.Rcode;
        // RFC 1996 §4.7: the question echoed. An error reply may carry none (a FORMERR from a server that could not read
        // it); one with a question must have ours.
        if (header.QuestionCount == 0 && rcode != (int)ResponseCode.NoError)
        {
            return NotifyReply.Rejected;
        }
        Span<byte> name = stackalloc byte[DnsName.MaxLength];
        int offset = Header.Length;
        if (header.QuestionCount != 1 || WireReader.ReadName(reply, ref offset, name, out int nameLength) != WireError.None || offset + 4 > reply.Length
            || !WireName.EqualsIgnoreCase(name[..nameLength], origin.Wire)
            || BinaryPrimitives.ReadUInt16BigEndian(reply[offset..]) != (ushort)RecordType.SOA
            || BinaryPrimitives.ReadUInt16BigEndian(reply[(offset + 2)..]) != (ushort)RecordClass.IN)
        {
            return NotifyReply.Unrelated;
        }
        return rcode == (int)ResponseCode.NoError ? NotifyReply.Acknowledged : NotifyReply.Rejected;
    }
}
