using System.Buffers.Binary;

namespace AnycastDns.Protocol;

/// <summary>EDNS(0) option codes used here (IANA "DNS EDNS0 Option Codes").</summary>
public static class EdnsOptionCode
{
    /// <summary>RFC 5001.</summary>
    public const ushort Nsid = 3;

    /// <summary>RFC 7314.</summary>
    public const ushort Expire = 9;

    /// <summary>RFC 7873.</summary>
    public const ushort Cookie = 10;

    /// <summary>RFC 7828.</summary>
    public const ushort TcpKeepalive = 11;

    /// <summary>RFC 7830.</summary>
    public const ushort Padding = 12;

    /// <summary>RFC 8914.</summary>
    public const ushort ExtendedError = 15;
}

/// <summary>One EDNS option, kept generic (RFC 6891 §6.1.2).</summary>
public sealed record EdnsOption(ushort Code, byte[] Data);

/// <summary>The content of an OPT pseudo-record (RFC 6891 §6.1.3).</summary>
public sealed class EdnsRecord
{
    public const ushort DoBit = 0x8000;

    public ushort UdpPayloadSize { get; set; } = 1232;

    /// <summary>Upper 8 bits of the 12-bit RCODE.</summary>
    public byte ExtendedRcode { get; set; }

    public byte Version { get; set; }

    public bool DnssecOk { get; set; }

    public List<EdnsOption> Options { get; } = [];

    internal uint TtlField => ((uint)ExtendedRcode << 24) | ((uint)Version << 16) | (DnssecOk ? DoBit : 0u);

    internal static EdnsRecord FromWire(ushort cls, uint ttl, ReadOnlySpan<byte> rdata)
    {
        var edns = new EdnsRecord
        {
            UdpPayloadSize = cls,
            ExtendedRcode = (byte)(ttl >> 24),
            Version = (byte)(ttl >> 16),
            DnssecOk = (ttl & DoBit) != 0,
        };
        int pos = 0;
        while (pos < rdata.Length)
        {
            if (pos + 4 > rdata.Length)
            {
                throw new DnsFormatException(WireError.BadOpt, "EDNS option header truncated");
            }
            ushort code = BinaryPrimitives.ReadUInt16BigEndian(rdata[pos..]);
            int len = BinaryPrimitives.ReadUInt16BigEndian(rdata[(pos + 2)..]);
            pos += 4;
            if (pos + len > rdata.Length)
            {
                throw new DnsFormatException(WireError.BadOpt, "EDNS option data truncated");
            }
            edns.Options.Add(new EdnsOption(code, rdata.Slice(pos, len).ToArray()));
            pos += len;
        }
        return edns;
    }

    internal byte[] EncodeOptions()
    {
        int size = 0;
        foreach (var o in Options) size += 4 + o.Data.Length;
        var data = new byte[size];
        int pos = 0;
        foreach (var o in Options)
        {
            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(pos), o.Code);
            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(pos + 2), (ushort)o.Data.Length);
            o.Data.CopyTo(data, pos + 4);
            pos += 4 + o.Data.Length;
        }
        return data;
    }
}
