using System.Buffers.Binary;

namespace AnycastDns.Protocol;

/// <summary>
/// Reads names and record headers out of a received message without allocating.
/// Every failure is a <see cref="WireError"/>; nothing here throws on malformed input.
/// </summary>
public static class WireReader
{
    /// <summary>
    /// Reads the (possibly compressed) name at <paramref name="offset"/> into <paramref name="destination"/> in uncompressed form
    /// and moves <paramref name="offset"/> past the name as it sits in the message.
    /// A pointer must point strictly before the start of the labels it ends (RFC 1035 §4.1.4 "prior occurrence"); as
    /// each jump then lands lower than the last, a pointer loop cannot form, whatever the name length.
    /// </summary>
    public static WireError ReadName(ReadOnlySpan<byte> message, ref int offset, Span<byte> destination, out int nameLength)
    {
        nameLength = 0;
        int pos = offset;
        int end = -1;
        int written = 0;
        int segmentStart = offset;
        while (true)
        {
            if ((uint)pos >= (uint)message.Length)
            {
                return WireError.Truncated;
            }
            int len = message[pos];
            if (len == 0)
            {
                if (written + 1 > DnsName.MaxLength)
                {
                    return WireError.NameTooLong;
                }
                if (destination.Length <= written)
                {
                    return WireError.NameTooLong;
                }
                destination[written++] = 0;
                offset = end < 0 ? pos + 1 : end;
                nameLength = written;
                return WireError.None;
            }
            if (len >= 0xC0)
            {
                if (pos + 1 >= message.Length)
                {
                    return WireError.Truncated;
                }
                int target = ((len & 0x3F) << 8) | message[pos + 1];
                if (target >= segmentStart || target < Header.Length)
                {
                    return WireError.BadPointer;
                }
                segmentStart = target;
                if (end < 0)
                {
                    end = pos + 2;
                }
                pos = target;
                continue;
            }
            if (len > DnsName.MaxLabelLength)
            {
                return WireError.LabelTooLong;
            }
            if (pos + 1 + len > message.Length)
            {
                return WireError.Truncated;
            }
            if (written + len + 2 > DnsName.MaxLength || written + len + 1 >= destination.Length)
            {
                return WireError.NameTooLong;
            }
            message.Slice(pos, len + 1).CopyTo(destination[written..]);
            written += len + 1;
            pos += len + 1;
        }
    }

    /// <summary>Validates and skips a name, following no more than the checks of <see cref="ReadName"/>.</summary>
    public static WireError SkipName(ReadOnlySpan<byte> message, ref int offset)
    {
        Span<byte> scratch = stackalloc byte[DnsName.MaxLength + 1];
        return ReadName(message, ref offset, scratch, out _);
    }

    /// <summary>
    /// Copies the RDATA of <paramref name="length"/> octets at <paramref name="offset"/> into
    /// <paramref name="destination"/> with the names inside it expanded (<see cref="RdataLayout.MayArriveCompressed"/>),
    /// so that every record can be compared and stored as uncompressed octets. <paramref name="destination"/> must hold
    /// 65,535 octets for any RDATA (its names may expand past their compressed length).
    /// </summary>
    public static WireError ReadRdata(ReadOnlySpan<byte> message, int offset, int length, RecordType type, Span<byte> destination, out int written)
    {
        written = 0;
        int end = offset + length;
        if ((uint)end > (uint)message.Length)
        {
            return WireError.Truncated;
        }
        if (!RdataLayout.MayArriveCompressed(type))
        {
            if (length > destination.Length)
            {
                return WireError.BadRdata;
            }
            message.Slice(offset, length).CopyTo(destination);
            written = length;
            return WireError.None;
        }
        // A name inside the RDATA may only point back into the message before its end.
        var bounded = message[..end];
        int pos = offset;
        foreach (byte code in RdataLayout.Of(type))
        {
            if (code == (byte)'N')
            {
                if (destination.Length - written < DnsName.MaxLength)
                {
                    return WireError.BadRdata;
                }
                var error = ReadName(bounded, ref pos, destination[written..], out int nameLength);
                if (error != WireError.None)
                {
                    return error;
                }
                written += nameLength;
                continue;
            }
            int next = code switch
            {
                (byte)'2' => pos + 2,
                (byte)'4' => pos + 4,
                (byte)'S' => pos < end ? pos + 1 + message[pos] : end + 1,
                _ => end,
            };
            if (next > end || next - pos > destination.Length - written)
            {
                return WireError.BadRdata;
            }
            message[pos..next].CopyTo(destination[written..]);
            written += next - pos;
            pos = next;
        }
        return pos == end ? WireError.None : WireError.BadRdata;
    }

    /// <summary>Reads TYPE, CLASS, TTL and RDLENGTH after an owner name; checks the RDATA is present.</summary>
    public static WireError ReadRecordHeader(ReadOnlySpan<byte> message, ref int offset, out ushort type, out ushort cls, out uint ttl, out int rdataLength)
    {
        type = cls = 0;
        ttl = 0;
        rdataLength = 0;
        if (offset + 10 > message.Length)
        {
            return WireError.Truncated;
        }
        type = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
        cls = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
        ttl = BinaryPrimitives.ReadUInt32BigEndian(message[(offset + 4)..]);
        rdataLength = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 8)..]);
        offset += 10;
        if (offset + rdataLength > message.Length)
        {
            return WireError.Truncated;
        }
        return WireError.None;
    }
}
