namespace AnycastDns.Authority;

/// <summary>The transport a query came over: it decides the size limit and TCP-only options.</summary>
public enum Transport
{
    Udp,
    Tcp,
}

/// <summary>What the responder needs to know about the server it answers for.</summary>
public sealed class ResponderOptions
{
    /// <summary>The default EDNS UDP payload size, the DNS Flag Day 2020 figure that avoids IP fragmentation.</summary>
    public const ushort DefaultMaxUdpPayload = 1232;

    /// <summary>The PoP identity returned for id.server, hostname.bind (RFC 4892) and NSID (RFC 5001).</summary>
    public string PopId { get; init; } = Environment.MachineName;

    /// <summary>The text for version.server/version.bind; empty or null refuses those queries, like Knot's empty <c>version</c>.</summary>
    public string? VersionString { get; init; }

    /// <summary>The largest UDP response we send, whatever the client offers (RFC 6891 §6.2.5).</summary>
    public ushort MaxUdpPayload { get; init; } = DefaultMaxUdpPayload;

    /// <summary>The idle timeout announced in edns-tcp-keepalive (RFC 7828 §3.3.2).</summary>
    public TimeSpan TcpIdleTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>RFC 8482 §4.1: over UDP answer ANY with one RRset; over TCP with all of them.</summary>
    public bool MinimalAnyOverUdp { get; init; } = true;
}
