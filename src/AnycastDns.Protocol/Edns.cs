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

/// <summary>
/// Reads the options of an OPT record's RDATA one at a time (RFC 6891 §6.1.2: OPTION-CODE, OPTION-LENGTH, then the data),
/// without allocating: the one loop over EDNS options, for the responder's query parser and for <see cref="EdnsRecord"/>.
/// </summary>
public ref struct EdnsOptionReader
{
    private readonly ReadOnlySpan<byte> _rdata;
    private int _position;

    public EdnsOptionReader(ReadOnlySpan<byte> rdata)
    {
        _rdata = rdata;
    }

    /// <summary>The OPTION-CODE of the option <see cref="TryRead"/> read last.</summary>
    public ushort Code { get; private set; }

    /// <summary>The data of the option <see cref="TryRead"/> read last (OPTION-LENGTH octets, in the RDATA read).</summary>
    public ReadOnlySpan<byte> Data { get; private set; }

    /// <summary>Once <see cref="TryRead"/> returned false: null at the end of the RDATA, or what is wrong with the rest.</summary>
    public string? Problem { get; private set; }

    /// <summary>Reads the next option; false at the end of the RDATA, or when an option runs past it (<see cref="Problem"/>).</summary>
    public bool TryRead()
    {
        if (_position == _rdata.Length)
        {
            return false;
        }
        if (_position + OptWriter.OptionHeaderLength > _rdata.Length)
        {
            Problem = "EDNS option header truncated";
            return false;
        }
        Code = BinaryPrimitives.ReadUInt16BigEndian(_rdata[_position..]);
        int length = BinaryPrimitives.ReadUInt16BigEndian(_rdata[(_position + 2)..]);
        _position += OptWriter.OptionHeaderLength;
        if (_position + length > _rdata.Length)
        {
            Problem = "EDNS option data truncated";
            return false;
        }
        Data = _rdata.Slice(_position, length);
        _position += length;
        return true;
    }
}

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

    internal static EdnsRecord FromWire(ushort cls, uint ttl, ReadOnlySpan<byte> rdata)
    {
        var edns = new EdnsRecord
        {
            UdpPayloadSize = cls,
            ExtendedRcode = (byte)(ttl >> 24),
            Version = (byte)(ttl >> 16),
            DnssecOk = (ttl & DoBit) != 0,
        };
        var options = new EdnsOptionReader(rdata);
        while (options.TryRead())
        {
            edns.Options.Add(new EdnsOption(options.Code, options.Data.ToArray()));
        }
        if (options.Problem is { } problem)
        {
            throw new DnsFormatException(WireError.BadOpt, problem);
        }
        return edns;
    }

    /// <summary>Writes this OPT record with <see cref="OptWriter"/>, as the responder writes its own; false when it does not fit.</summary>
    public bool TryWrite(ref MessageWriter writer)
    {
        if (!OptWriter.TryBegin(ref writer, UdpPayloadSize, ExtendedRcode, Version, DnssecOk, out int rdlengthAt))
        {
            return false;
        }
        foreach (var option in Options)
        {
            if (!OptWriter.TryWriteOption(ref writer, option.Code, option.Data))
            {
                return false;
            }
        }
        OptWriter.End(ref writer, rdlengthAt);
        return true;
    }
}
