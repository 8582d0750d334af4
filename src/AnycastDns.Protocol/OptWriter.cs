using System.Buffers.Binary;

namespace AnycastDns.Protocol;

/// <summary>
/// Writes the OPT pseudo-record (RFC 6891 §6.1.2) and its options into a <see cref="MessageWriter"/>: the one writer of
/// EDNS on the wire. Each call fits entirely or returns false and writes nothing.
/// </summary>
public static class OptWriter
{
    /// <summary>Root owner, TYPE, CLASS, TTL and RDLENGTH: an OPT record with no options.</summary>
    public const int FixedLength = 11;

    /// <summary>OPTION-CODE and OPTION-LENGTH before each option's data.</summary>
    public const int OptionHeaderLength = 4;

    /// <summary>
    /// Starts the OPT record: <paramref name="payloadSize"/> in CLASS, and in TTL the upper 8 bits of the RCODE, version
    /// 0 and DO (RFC 6891 §6.1.3). <paramref name="rdlengthAt"/> is where <see cref="End"/> patches the RDLENGTH.
    /// </summary>
    public static bool TryBegin(ref MessageWriter writer, ushort payloadSize, int rcode, bool dnssecOk, out int rdlengthAt)
    {
        rdlengthAt = writer.Position + 9;
        if (writer.Position + FixedLength > writer.Limit)
        {
            return false;
        }
        uint ttl = ((uint)(rcode >> 4) << 24) | (dnssecOk ? EdnsRecord.DoBit : 0u);
        Span<byte> fixedPart = stackalloc byte[FixedLength];
        fixedPart[0] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[1..], (ushort)RecordType.OPT);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[3..], payloadSize);
        BinaryPrimitives.WriteUInt32BigEndian(fixedPart[5..], ttl);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[9..], 0);
        return writer.WriteBytes(fixedPart);
    }

    /// <summary>One option with its data.</summary>
    public static bool TryWriteOption(ref MessageWriter writer, ushort code, scoped ReadOnlySpan<byte> data)
    {
        if (writer.Position + OptionHeaderLength + data.Length > writer.Limit)
        {
            return false;
        }
        writer.WriteUInt16(code);
        writer.WriteUInt16((ushort)data.Length);
        writer.WriteBytes(data);
        return true;
    }

    /// <summary>One option whose data is two parts (a COOKIE: client cookie, then server cookie, RFC 7873 §4).</summary>
    public static bool TryWriteOption(ref MessageWriter writer, ushort code, scoped ReadOnlySpan<byte> first, scoped ReadOnlySpan<byte> second)
    {
        if (writer.Position + OptionHeaderLength + first.Length + second.Length > writer.Limit)
        {
            return false;
        }
        writer.WriteUInt16(code);
        writer.WriteUInt16((ushort)(first.Length + second.Length));
        writer.WriteBytes(first);
        writer.WriteBytes(second);
        return true;
    }

    /// <summary>The octets an EXPIRE option adds to an OPT record: its header and 4 octets of seconds (RFC 7314 §2).</summary>
    public const int ExpireLength = OptionHeaderLength + 4;

    /// <summary>An EXPIRE option (RFC 7314 §2): the seconds until the zone expires, which a primary sets to its SOA EXPIRE (§3).</summary>
    public static bool TryWriteExpire(ref MessageWriter writer, uint seconds)
    {
        if (writer.Position + ExpireLength > writer.Limit)
        {
            return false;
        }
        writer.WriteUInt16(EdnsOptionCode.Expire);
        writer.WriteUInt16(4);
        writer.WriteUInt32(seconds);
        return true;
    }

    /// <summary>An Extended DNS Error (RFC 8914 §2): INFO-CODE, then EXTRA-TEXT in UTF-8 without a terminator.</summary>
    public static bool TryWriteExtendedError(ref MessageWriter writer, ushort infoCode, scoped ReadOnlySpan<byte> extraText)
    {
        if (writer.Position + OptionHeaderLength + 2 + extraText.Length > writer.Limit)
        {
            return false;
        }
        writer.WriteUInt16(EdnsOptionCode.ExtendedError);
        writer.WriteUInt16((ushort)(2 + extraText.Length));
        writer.WriteUInt16(infoCode);
        writer.WriteBytes(extraText);
        return true;
    }

    /// <summary>Patches the RDLENGTH of the OPT record begun at <paramref name="rdlengthAt"/> - 9 to cover every option written since.</summary>
    public static void End(ref MessageWriter writer, int rdlengthAt) =>
        writer.PatchUInt16(rdlengthAt, (ushort)(writer.Position - rdlengthAt - 2));
}

/// <summary>Extended DNS Error INFO-CODEs used here (RFC 8914 §4, IANA "Extended DNS Error Codes").</summary>
public static class ExtendedErrorCode
{
    public const ushort NotReady = 14;
    public const ushort Prohibited = 18;
    public const ushort NotAuthoritative = 20;
    public const ushort NotSupported = 21;
    /// <summary>RFC 8914 §4.25: the data is expired or otherwise invalid (a secondary zone past its SOA EXPIRE, as NSD says).</summary>
    public const ushort InvalidData = 24;
}
