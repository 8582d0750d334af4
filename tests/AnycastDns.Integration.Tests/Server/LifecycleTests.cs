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
}
