using System.Net;
using System.Net.Sockets;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>What the process does at its edges: the reply's source address, the version string, a graceful stop.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task Each_reply_leaves_from_the_address_the_query_was_sent_to()
    {
        // Two loopback addresses on one port: the anycast address and the PoP's unicast address share a host.
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, addresses: ["127.0.0.1", "127.0.0.2"]);
        var query = DnsMessage.CreateQuery(DnsName.Parse("www.example.test."), RecordType.A, id: 4242).Encode();
        foreach (var address in new[] { "127.0.0.1", "127.0.0.2" })
        {
            var target = new IPEndPoint(IPAddress.Parse(address), server.Port);
            // An unconnected socket accepts a datagram from anyone, so the source we see is the one the server chose.
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            await client.SendToAsync(query, target);
            var buffer = new byte[1232];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var received = await client.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
            Assert.Equal(target, received.RemoteEndPoint);
            Assert.Equal(4242, DnsMessage.Parse(buffer.AsSpan(0, received.ReceivedBytes)).Id);
        }
    }

    [Fact]
    public async Task A_version_string_answers_version_bind_and_version_server()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--version-string", "anycastdns 1.2.3"]);
        foreach (var name in new[] { "version.bind", "version.server" })
        {
            var result = await Kdig.QueryAsync(server.EndPoint, ["-c", "CH", name, "TXT"]);
            Assert.Contains("\"anycastdns 1.2.3\"", result.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Sigterm_stops_the_server_with_exit_code_zero_and_frees_the_port()
    {
        var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones);
        await using (server)
        {
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
            Assert.Contains("stopped answering", server.Log, StringComparison.Ordinal);
        }
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(server.EndPoint);
    }

    [Fact]
    public async Task Freebind_binds_an_address_the_host_does_not_have_yet()
    {
        // 198.18.0.53 (RFC 2544 benchmarking space) is on no interface here: only IP_FREEBIND lets us bind it, as an
        // anycast address is bound before it is configured. Nothing is sent to it.
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--freebind"], addresses: ["127.0.0.1", "198.18.0.53"]);
        var result = await Kdig.QueryAsync(server.EndPoint, ["www.example.test", "A"]);
        Assert.Contains("192.0.2.80", result.Output, StringComparison.Ordinal);

        var without = await ExternalTool.RunAsync("dotnet",
            ["exec", AnycastDnsServer.DllPath, "serve", "--zones", RepositoryPaths.TestZones, "--listen", "198.18.0.53:5300"], TimeSpan.FromSeconds(60));
        Assert.Equal(1, without.ExitCode);
        Assert.Contains("cannot listen on 198.18.0.53:5300/udp", without.StandardError, StringComparison.Ordinal);
    }
}
