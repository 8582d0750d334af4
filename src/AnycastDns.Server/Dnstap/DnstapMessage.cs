using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using AnycastDns.Server.Dnstap.Schema;
using Google.Protobuf;

namespace AnycastDns.Server.Dnstap;

/// <summary>
/// Turns a record of a <see cref="DnstapRing"/> into the dnstap messages of an authoritative server (dnstap.proto:
/// AUTH_QUERY and AUTH_RESPONSE, with the fields it recommends for them), encoded by Google.Protobuf from the schema.
/// Runs on the writer thread only; one <see cref="Schema.Dnstap"/> and one <see cref="Message"/> are reused.
/// </summary>
internal sealed class DnstapMessage
{
    private static readonly long UnixEpochTicks = DateTime.UnixEpoch.Ticks;

    private readonly Schema.Dnstap _frame;
    private readonly Message _message = new();

    public DnstapMessage(string identity, string version)
    {
        _frame = new Schema.Dnstap { Type = Schema.Dnstap.Types.Type.Message, Message = _message };
        if (identity.Length > 0)
        {
            _frame.Identity = ByteString.CopyFromUtf8(identity);
        }
        if (version.Length > 0)
        {
            _frame.Version = ByteString.CopyFromUtf8(version);
        }
    }

    /// <summary>Fills the message with the exchange of <paramref name="record"/>, taken from <paramref name="ring"/>; then <see cref="WriteQuery"/>/<see cref="WriteResponse"/>.</summary>
    public void Set(DnstapRing ring, in DnstapRing.DnstapRecord record)
    {
        _message.ClearQueryAddress();
        _message.ClearQueryPort();
        _message.ClearResponseAddress();
        _message.ClearResponsePort();
        _message.ClearQueryZone();
        if (!record.Zone.IsEmpty)
        {
            _message.QueryZone = ByteString.CopyFrom(record.Zone);
        }
        _message.SocketProtocol = ring.Transport == Authority.Transport.Tcp ? SocketProtocol.Tcp : SocketProtocol.Udp;
        var family = ring.Family;
        if (Client(record.Client, out var address, out int port))
        {
            family = address.Length == 4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
            _message.QueryAddress = ByteString.CopyFrom(address);
            _message.QueryPort = (uint)port;
        }
        _message.SocketFamily = family == AddressFamily.InterNetworkV6 ? SocketFamily.Inet6 : SocketFamily.Inet;
        if (ring.Local is { } local && !local.Address.Equals(IPAddress.Any) && !local.Address.Equals(IPAddress.IPv6Any))
        {
            var server = local.Address.IsIPv4MappedToIPv6 ? local.Address.MapToIPv4() : local.Address;
            // Both addresses of one message are of its one socket family (dnstap.proto); a v4 client on a dual-stack
            // socket is reported with the server's address mapped the same way.
            if ((server.AddressFamily == AddressFamily.InterNetwork) == (family == AddressFamily.InterNetwork))
            {
                _message.ResponseAddress = ByteString.CopyFrom(server.GetAddressBytes());
            }
            _message.ResponsePort = (uint)local.Port;
        }
        else if (ring.Local is { } any)
        {
            _message.ResponsePort = (uint)any.Port;
        }
        var (querySeconds, queryNanos) = UnixTime(record.Received);
        _message.QueryTimeSec = querySeconds;
        _message.QueryTimeNsec = queryNanos;
        var (responseSeconds, responseNanos) = UnixTime(record.Sent);
        _pendingResponseSeconds = responseSeconds;
        _pendingResponseNanos = responseNanos;
    }

    private ulong _pendingResponseSeconds;
    private uint _pendingResponseNanos;

    /// <summary>The AUTH_QUERY of the exchange set last: its octets framed (length, payload) into <paramref name="output"/>.</summary>
    public int WriteQuery(ReadOnlySpan<byte> query, Span<byte> output)
    {
        _message.Type = Message.Types.Type.AuthQuery;
        _message.QueryMessage = ByteString.CopyFrom(query);
        _message.ClearResponseMessage();
        _message.ClearResponseTimeSec();
        _message.ClearResponseTimeNsec();
        return Write(output);
    }

    /// <summary>The AUTH_RESPONSE of the exchange set last (dnstap.proto: with the query's time, and the response's).</summary>
    public int WriteResponse(ReadOnlySpan<byte> response, Span<byte> output)
    {
        _message.Type = Message.Types.Type.AuthResponse;
        _message.ClearQueryMessage();
        _message.ResponseMessage = ByteString.CopyFrom(response);
        _message.ResponseTimeSec = _pendingResponseSeconds;
        _message.ResponseTimeNsec = _pendingResponseNanos;
        return Write(output);
    }

    /// <summary>The largest framed message <paramref name="messageOctets"/> of DNS can give (the rest is a few dozen octets of fields).</summary>
    public static int MaxFramed(int messageOctets) => FrameStream.DataHeaderSize + messageOctets + 1024;

    private int Write(Span<byte> output)
    {
        int size = _frame.CalculateSize();
        FrameStream.WriteDataHeader(output, size);
        _frame.WriteTo(output.Slice(FrameStream.DataHeaderSize, size));
        return FrameStream.DataHeaderSize + size;
    }

    private static (ulong Seconds, uint Nanoseconds) UnixTime(DateTime time)
    {
        long ticks = time.Ticks - UnixEpochTicks;
        return ((ulong)(ticks / TimeSpan.TicksPerSecond), (uint)(ticks % TimeSpan.TicksPerSecond * 100));
    }

    /// <summary>The IP address (IPv4-mapped shown as IPv4) and port in a native sockaddr_in or sockaddr_in6.</summary>
    private static bool Client(ReadOnlySpan<byte> sockaddr, out ReadOnlySpan<byte> address, out int port)
    {
        address = Listeners.ClientAddress.Of(sockaddr);
        port = sockaddr.Length >= 4 ? BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]) : 0;
        return !address.IsEmpty;
    }
}
