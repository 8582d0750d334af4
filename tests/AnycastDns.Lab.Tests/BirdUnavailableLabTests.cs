using System.Diagnostics;
using AnycastDns.Server.Anycast;
using AnycastDns.TestSupport.Lab;

namespace AnycastDns.Lab.Tests;

/// <summary>
/// When BIRD is not there, every call of the announcement fails within its timeout with one line naming the control
/// socket, so that the lifecycle can log it and carry on.
/// </summary>
public sealed class BirdUnavailableLabTests
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_killed_bird_is_unavailable_naming_its_socket()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await using var lab = await LabTopology.StartAsync(timeout.Token);
        var announcement = new BirdAnnouncement(new BirdAnnouncementOptions { SocketPath = lab.PopBird.SocketPath, Timeout = CallTimeout });
        await announcement.AnnounceAsync(timeout.Token);

        await lab.PopBird.KillAsync();
        Assert.True(File.Exists(lab.PopBird.SocketPath), "SIGKILL leaves the socket file; this test is about that case");

        await AssertUnavailableAsync(announcement, lab.PopBird.SocketPath, "Connection refused");
    }

    [Fact]
    public async Task A_missing_socket_is_unavailable_naming_its_path()
    {
        NetworkNamespace.RequireRoot();
        string directory = Directory.CreateTempSubdirectory("anycastdns-nobird-").FullName;
        try
        {
            string path = Path.Combine(directory, "bird.ctl");
            var announcement = new BirdAnnouncement(new BirdAnnouncementOptions { SocketPath = path, Timeout = CallTimeout });
            await AssertUnavailableAsync(announcement, path, "no such file");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task AssertUnavailableAsync(BirdAnnouncement announcement, string path, string reason)
    {
        Func<Task>[] calls = [
            () => announcement.AnnounceAsync(CancellationToken.None),
            () => announcement.WithdrawAsync(CancellationToken.None),
            () => announcement.GetStatusAsync(CancellationToken.None),
        ];
        foreach (var call in calls)
        {
            var clock = Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<BirdUnavailableException>(call);
            Assert.True(clock.Elapsed < CallTimeout + Slack, $"took {clock.Elapsed}");
            Assert.DoesNotContain('\n', e.Message);
            Assert.Equal($"BIRD control socket {path}: cannot connect: {reason} (is bird running, started with -s on this path?)", e.Message);
            Assert.Equal(path, e.SocketPath);
        }
    }
}
