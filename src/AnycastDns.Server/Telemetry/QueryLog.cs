using System.Net;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// The opt-in query log (key <c>QueryLog:OneIn</c>): one line for every Nth answered query of each receive thread,
/// with the client, the question and the outcome. Sampling by count rather than chance keeps the hot path free of a
/// random number generator; only a sampled query pays for parsing and formatting. Its category is
/// <c>AnycastDns.QueryLog</c>, so <c>Logging:LogLevel:AnycastDns.QueryLog</c> can route or silence it.
/// </summary>
internal sealed partial class QueryLog(int oneIn, ILogger logger)
{
    public const string Category = "AnycastDns.QueryLog";

    /// <summary>One query in this many is logged.</summary>
    public int OneIn { get; } = oneIn;

    internal void Write(Transport transport, ReadOnlySpan<byte> client, ReadOnlySpan<byte> response, int rcode)
    {
        try
        {
            var message = DnsMessage.Parse(response);
            var question = message.Questions.Count > 0 ? message.Questions[0] : null;
            string from = client.IsEmpty ? "-" : Endpoint(client).ToString();
            LogQuery(logger,
                from, transport == Transport.Udp ? "udp" : "tcp", question?.Name.ToString() ?? "-",
                question is null ? "-" : RecordTypeNames.ToText(question.Class), question is null ? "-" : RecordTypeNames.ToText(question.Type),
                ((ResponseCode)rcode).ToString().ToUpperInvariant(), message.Answers.Count, response.Length, message.Truncated ? ", truncated" : "");
        }
        catch (DnsFormatException e)
        {
            LogUnreadable(logger, e.Message);
        }
    }

    /// <summary>A TCP client's sockaddr, taken once per connection; empty if the connection is already gone.</summary>
    public static byte[] ClientOf(System.Net.Sockets.Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        try
        {
            return socket.RemoteEndPoint?.Serialize() is { } address ? address.Buffer[..address.Size].ToArray() : [];
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return [];
        }
    }

    /// <summary>The endpoint a native sockaddr names (SocketAddress holds the platform's own layout).</summary>
    private static IPEndPoint Endpoint(ReadOnlySpan<byte> sockaddr)
    {
        var address = new SocketAddress(System.Net.Sockets.AddressFamily.InterNetwork, sockaddr.Length);
        sockaddr.CopyTo(address.Buffer.Span);
        return (IPEndPoint)new IPEndPoint(address.Family == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0).Create(address);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "query from {Client} over {Transport}: {Name} {Class} {Type} -> {Rcode}, {Answers} answers, {Bytes} bytes{Truncated}")]
    private static partial void LogQuery(ILogger logger, string client, string transport, string name, string @class, string type, string rcode, int answers, int bytes, string truncated);

    [LoggerMessage(Level = LogLevel.Warning, Message = "query log: cannot read our own response: {Error}")]
    private static partial void LogUnreadable(ILogger logger, string error);
}
