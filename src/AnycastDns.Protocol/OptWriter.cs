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
    /// Starts the OPT record of a response to <paramref name="rcode"/> (12 bits): its upper 8 bits in the TTL's
    /// EXTENDED-RCODE, version 0 (RFC 6891 §6.1.3). See the other overload for the rest.
    /// </summary>
    public static bool TryBegin(ref MessageWriter writer, ushort payloadSize, int rcode, bool dnssecOk, out int rdlengthAt) =>
        TryBegin(ref writer, payloadSize, (byte)(rcode >> 4), version: 0, dnssecOk, out rdlengthAt);

    /// <summary>
    /// Starts the OPT record: <paramref name="payloadSize"/> in CLASS; in TTL <paramref name="extendedRcode"/>,
    /// <paramref name="version"/> and DO (RFC 6891 §6.1.3, RFC 3225 §3), the other Z bits zero. <paramref name="rdlengthAt"/>
    /// is where <see cref="End"/> patches the RDLENGTH once the options are written.
    /// </summary>
    public static bool TryBegin(ref MessageWriter writer, ushort payloadSize, byte extendedRcode, byte version, bool dnssecOk, out int rdlengthAt)
    {
        rdlengthAt = writer.Position + 9;
        if (writer.Position + FixedLength > writer.Limit)
        {
            return false;
        }
        uint ttl = ((uint)extendedRcode << 24) | ((uint)version << 16) | (dnssecOk ? EdnsRecord.DoBit : 0u);
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

    /// <summary>
    /// Writes the OPT record of a response, the Extended DNS Error only when it fits; false, with nothing written, when
    /// <see cref="ResponseOpt.Length"/> octets do not fit below the writer's limit.
    /// </summary>
    public static bool TryWrite(ref MessageWriter writer, scoped ResponseOpt opt)
    {
        if (writer.Position + opt.Length > writer.Limit)
        {
            return false;
        }
        TryBegin(ref writer, opt.PayloadSize, opt.Rcode, opt.DnssecOk, out int rdlengthAt);
        if (opt.HasNsid)
        {
            TryWriteOption(ref writer, EdnsOptionCode.Nsid, opt.Nsid);
        }
        if (opt.KeepaliveTimeout >= 0)
        {
            Span<byte> timeout = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(timeout, (ushort)opt.KeepaliveTimeout);
            TryWriteOption(ref writer, EdnsOptionCode.TcpKeepalive, timeout);
        }
        if (!opt.ClientCookie.IsEmpty)
        {
            TryWriteOption(ref writer, EdnsOptionCode.Cookie, opt.ClientCookie, opt.ServerCookie);
        }
        if (opt.Expire >= 0)
        {
            TryWriteExpire(ref writer, (uint)opt.Expire);
        }
        if (opt.ExtendedError >= 0)
        {
            TryWriteExtendedError(ref writer, (ushort)opt.ExtendedError, opt.ExtraText);
        }
        End(ref writer, rdlengthAt);
        return true;
    }

    /// <summary>Patches the RDLENGTH of the OPT record begun at <paramref name="rdlengthAt"/> - 9 to cover every option written since.</summary>
    public static void End(ref MessageWriter writer, int rdlengthAt) =>
        writer.PatchUInt16(rdlengthAt, (ushort)(writer.Position - rdlengthAt - 2));
}

/// <summary>
/// The OPT record of a response (RFC 6891 §6.1.2), the options a server sends included: what the responder and the zone
/// transfers set, measured by <see cref="Length"/> and written by <see cref="OptWriter.TryWrite"/>, so that every response's OPT
/// comes out of one place. Options go in this order: NSID, edns-tcp-keepalive, COOKIE, EXPIRE, Extended DNS Error.
/// </summary>
public ref struct ResponseOpt
{
    /// <summary>Starts an OPT with no options: <paramref name="payloadSize"/> in CLASS, the RCODE's upper 8 bits and DO in TTL.</summary>
    public ResponseOpt(ushort payloadSize, int rcode, bool dnssecOk)
    {
        PayloadSize = payloadSize;
        Rcode = rcode;
        DnssecOk = dnssecOk;
    }

    /// <summary>Our UDP payload size (RFC 6891 §6.2.3).</summary>
    public ushort PayloadSize { get; }

    /// <summary>The full 12-bit RCODE; OPT carries its upper 8 bits (RFC 6891 §6.1.3).</summary>
    public int Rcode { get; }

    /// <summary>DO, copied from the query (RFC 3225 §3).</summary>
    public bool DnssecOk { get; }

    /// <summary>Send an NSID option (RFC 5001 §2.3) with <see cref="Nsid"/> as its data (which may be empty).</summary>
    public bool HasNsid { get; set; }

    /// <summary>The server's identity for the NSID option.</summary>
    public ReadOnlySpan<byte> Nsid { get; set; }

    /// <summary>The edns-tcp-keepalive TIMEOUT in units of 100 ms (RFC 7828 §3.1), or -1 for no such option.</summary>
    public int KeepaliveTimeout { get; set; } = -1;

    /// <summary>The client cookie to echo (RFC 7873 §5.2), or empty for no COOKIE option.</summary>
    public ReadOnlySpan<byte> ClientCookie { get; set; }

    /// <summary>The server cookie sent after <see cref="ClientCookie"/> (may be empty).</summary>
    public ReadOnlySpan<byte> ServerCookie { get; set; }

    /// <summary>The EXPIRE seconds (RFC 7314 §3), or -1 for no EXPIRE option.</summary>
    public long Expire { get; set; } = -1;

    /// <summary>The Extended DNS Error INFO-CODE (RFC 8914 §2), or -1 for none.</summary>
    public int ExtendedError { get; set; } = -1;

    /// <summary>The Extended DNS Error's EXTRA-TEXT, UTF-8.</summary>
    public ReadOnlySpan<byte> ExtraText { get; set; }

    /// <summary>
    /// The octets the record takes without the Extended DNS Error, which is optional (RFC 8914 §3) and left out when it
    /// does not fit: what a writer keeps free so that OPT is never the part that does not fit (RFC 6891 §7).
    /// </summary>
    public readonly int Length
    {
        get
        {
            int length = OptWriter.FixedLength;
            if (HasNsid)
            {
                length += OptWriter.OptionHeaderLength + Nsid.Length;
            }
            if (KeepaliveTimeout >= 0)
            {
                length += OptWriter.OptionHeaderLength + 2;
            }
            if (!ClientCookie.IsEmpty)
            {
                length += OptWriter.OptionHeaderLength + ClientCookie.Length + ServerCookie.Length;
            }
            if (Expire >= 0)
            {
                length += OptWriter.ExpireLength;
            }
            return length;
        }
    }
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
