using System.Net;
using System.Net.Sockets;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;
using static AnycastDns.Integration.Tests.Server.KnownAnswers;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// Many clients sending at once, so that the server takes their datagrams in batches (recvmmsg on Linux) and sends
/// the answers in batches (sendmmsg): every answer must go to the client that asked, carry its ID and echo its
/// question exactly (RFC 1035 §4.1.2), whatever batch the datagram fell into.
/// </summary>
public sealed class UdpBurstTests
{
    private const int Clients = 8;

    /// <summary>Queries each client sends before reading any answer; 8 × 64 fits loopback socket buffers.</summary>
    private const int QueriesPerClient = 64;

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Bursts_from_many_clients_each_get_their_own_answers_with_their_own_question()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--udp-receive-loops", "1"]);
        var clients = new Socket[Clients];
        try
        {
            for (int c = 0; c < Clients; c++)
            {
                clients[c] = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                clients[c].Bind(new IPEndPoint(IPAddress.Loopback, 0));
                await clients[c].ConnectAsync(server.EndPoint);
            }
            // Send everything first, interleaving the clients, so that one receive batch holds several senders.
            for (int i = 0; i < QueriesPerClient; i++)
            {
                for (int c = 0; c < Clients; c++)
                {
                    await clients[c].SendAsync(Query(c, i).Encode(), SocketFlags.None);
                }
            }
            using var deadline = new CancellationTokenSource(Deadline);
            var buffer = new byte[ushort.MaxValue];
            for (int c = 0; c < Clients; c++)
            {
                var seen = new HashSet<ushort>();
                for (int n = 0; n < QueriesPerClient; n++)
                {
                    int length;
                    try
                    {
                        length = await clients[c].ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        Assert.Fail($"client {c}: {n} of {QueriesPerClient} answers within {Deadline.TotalSeconds} s; server log:\n{server.Log}");
                        return;
                    }
                    var response = DnsMessage.Parse(buffer.AsSpan(0, length));
                    int client = response.Id / QueriesPerClient, index = response.Id % QueriesPerClient;
                    Assert.Equal(c, client);
                    Assert.True(seen.Add(response.Id), $"client {c}: ID {response.Id} answered twice");
                    // The question keeps the letter case the client chose, which differs for every query.
                    Assert.Equal(Spelling(c, index), Assert.Single(response.Questions).Name.ToString());
                    AssertWww(response, response.Id);
                }
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                client?.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_padded_query_of_3000_octets_is_answered_and_an_oversized_datagram_disturbs_no_other()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        await client.ConnectAsync(server.EndPoint);

        // RFC 7830: padding makes a legitimate query as long as the client likes.
        var edns = new EdnsRecord();
        edns.Options.Add(new EdnsOption(EdnsOptionCode.Padding, new byte[3000]));
        var padded = WwwQuery(1, edns).Encode();
        Assert.True(padded.Length > 3000);
        // Longer than any query: 10,000 octets of a header and zeros.
        var oversized = new byte[10_000];
        oversized[0] = 0;
        oversized[1] = 2;
        await client.SendAsync(oversized, SocketFlags.None);
        await client.SendAsync(padded, SocketFlags.None);
        await client.SendAsync(WwwQuery(3).Encode(), SocketFlags.None);

        using var deadline = new CancellationTokenSource(Deadline);
        var buffer = new byte[ushort.MaxValue];
        var answered = new HashSet<ushort>();
        while (!answered.Contains(3))
        {
            int length = await client.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            var response = DnsMessage.Parse(buffer.AsSpan(0, length));
            answered.Add(response.Id);
            if (response.Id != 2)
            {
                AssertWww(response, response.Id);
            }
        }
        Assert.Contains((ushort)1, answered);
    }

    private static DnsMessage Query(int client, int index) =>
        DnsMessage.CreateQuery(DnsName.Parse(Spelling(client, index)), RecordType.A, id: (ushort)(client * QueriesPerClient + index));

    /// <summary>www.example.test. with the case of its letters set by the bits of the query's number.</summary>
    private static string Spelling(int client, int index)
    {
        int bits = client * QueriesPerClient + index;
        var letters = "www.example.test.".ToCharArray();
        for (int i = 0, bit = 0; i < letters.Length; i++)
        {
            if (char.IsLetter(letters[i]) && ((bits >> bit++) & 1) == 1)
            {
                letters[i] = char.ToUpperInvariant(letters[i]);
            }
        }
        return new string(letters);
    }
}
