using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.ReferenceServers;

/// <summary>Starting and stopping the reference servers leaves nothing behind, and a failed start says why.</summary>
public sealed class ReferenceServerLifecycleTests
{
    public static TheoryData<string> Servers => ["knotd", "nsd"];

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Disposing_kills_the_server_and_its_children_and_deletes_its_directory(string program)
    {
        var server = await StartAsync(program, RepositoryPaths.TestZones);
        int pid = server.ProcessId;
        var processes = ProcessTree(pid);
        string workDirectory = server.WorkDirectory;
        Assert.True(Directory.Exists(workDirectory));

        await server.DisposeAsync();
        await server.DisposeAsync();

        Assert.False(Directory.Exists(workDirectory), workDirectory);
        foreach (int process in processes)
        {
            await AssertGoneAsync(process);
        }
        byte[] query = DnsMessage.CreateQuery(DnsName.Parse("example.test."), RecordType.SOA, id: 1).Encode();
        var closed = await Record.ExceptionAsync(() => DnsWire.QueryUdpAsync(server.EndPoint, query, 500));
        Assert.True(closed is SocketException or TimeoutException, $"expected no answer from {server.EndPoint}, got {closed}");
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task A_zone_that_does_not_load_fails_the_start_with_the_server_log(string program)
    {
        string zones = Directory.CreateTempSubdirectory("anycastdns-zones-").FullName;
        try
        {
            File.Copy(Path.Combine(RepositoryPaths.TestZones, "other.test.zone"), Path.Combine(zones, "other.test.zone"));
            File.Copy(Path.Combine(RepositoryPaths.BadZones, "missing-soa.test.zone"), Path.Combine(zones, "missing-soa.test.zone"));

            var clock = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(program, zones));

            // Read from the server's log, not waited out: the serving timeout is 10 s.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
            Assert.Contains("a zone failed to load", error.Message, StringComparison.Ordinal);
            Assert.Contains("missing-soa.test.", error.Message, StringComparison.Ordinal);
            Assert.Contains($"--- {program} log ---", error.Message, StringComparison.Ordinal);
            var workDirectories = Regex.Matches(error.Message, $@"/\S*?anycastdns-{program}-[A-Za-z0-9]+");
            Assert.NotEmpty(workDirectories);
            Assert.All(workDirectories, d => Assert.False(Directory.Exists(d.Value), d.Value));
        }
        finally
        {
            Directory.Delete(zones, recursive: true);
        }
    }

    [Fact]
    public async Task A_missing_zone_folder_is_named()
    {
        string missing = Path.Combine(Path.GetTempPath(), "anycastdns-no-such-folder-" + Guid.NewGuid().ToString("N"));

        var error = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => KnotServer.StartAsync(missing, CancellationToken.None));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    private static async Task<ReferenceServer> StartAsync(string program, string zonesFolder) => program switch
    {
        "knotd" => await KnotServer.StartAsync(zonesFolder, CancellationToken.None),
        "nsd" => await NsdServer.StartAsync(zonesFolder, CancellationToken.None),
        _ => throw new ArgumentOutOfRangeException(nameof(program), program, null),
    };

    /// <summary><paramref name="pid"/> and its descendants, from /proc's children lists (Linux).</summary>
    private static List<int> ProcessTree(int pid)
    {
        var tree = new List<int> { pid };
        // Bounded: each process is visited once, and the tree only holds processes that exist.
        for (int i = 0; i < tree.Count && i < 1000; i++)
        {
            string taskDirectory = $"/proc/{tree[i]}/task";
            if (!Directory.Exists(taskDirectory))
            {
                continue;
            }
            foreach (var task in Directory.EnumerateDirectories(taskDirectory))
            {
                string children = Path.Combine(task, "children");
                if (!File.Exists(children))
                {
                    continue;
                }
                foreach (var child in File.ReadAllText(children).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    tree.Add(int.Parse(child, CultureInfo.InvariantCulture));
                }
            }
        }
        return tree;
    }

    /// <summary>Gone, or a zombie waiting for a reaper that is not us: either way it runs no more.</summary>
    private static async Task AssertGoneAsync(int pid)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                return;
            }
            // The state follows the parenthesised command name: "pid (comm) S ...".
            if (stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z'))
            {
                return;
            }
            await Task.Delay(50);
        }
        Assert.Fail($"process {pid} still runs after the server was disposed");
    }
}
