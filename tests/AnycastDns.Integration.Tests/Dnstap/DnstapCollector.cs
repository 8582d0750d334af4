using System.Globalization;
using System.Text.RegularExpressions;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Dnstap;

/// <summary>One dnstap message as the dnstap CLI decodes it (its YAML output).</summary>
public sealed record DnstapEntry(string Identity, string Version, string Type, string Protocol, string Family, string QueryAddress, int QueryPort, string Name, string QType, string Status, string Zone)
{
    public bool IsQuery => Type == "AUTH_QUERY";

    public bool IsResponse => Type == "AUTH_RESPONSE";
}

/// <summary>
/// A Frame Streams collector nobody here wrote: <c>fstrm_capture</c> (fstrm-bin) on a Unix socket writing a file,
/// decoded afterwards by <c>dnstap -r FILE -y</c> (the golang dnstap CLI). Stopped with SIGTERM, so that it closes its
/// file cleanly; killed (SIGKILL, by PID) when a test wants the collector gone abruptly.
/// </summary>
public sealed partial class DnstapCollector : IAsyncDisposable
{
    public const string CapturePath = "/usr/bin/fstrm_capture";
    public const string DnstapPath = "/usr/bin/dnstap";
    private const int SigTerm = 15;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    private readonly ChildProcess _process;

    private DnstapCollector(ChildProcess process, string socket, string file)
    {
        _process = process;
        Socket = socket;
        File = file;
    }

    public string Socket { get; }

    public string File { get; }

    public int ProcessId => _process.Id;

    public string Log => _process.Log;

    /// <summary>Starts fstrm_capture on <paramref name="socket"/>, writing <paramref name="file"/>; returns once the socket exists.</summary>
    public static async Task<DnstapCollector> StartAsync(string socket, string file)
    {
        ExternalTool.RequireInstalled(CapturePath, "fstrm-bin");
        System.IO.File.Delete(socket);
        var process = ChildProcess.Start(CapturePath, ["-t", "protobuf:dnstap.Dnstap", "-u", socket, "-w", file], RepositoryPaths.Root);
        var collector = new DnstapCollector(process, socket, file);
        var deadline = DateTime.UtcNow + Bound;
        while (!System.IO.File.Exists(socket))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"fstrm_capture did not open {socket}:\n{process.Log}");
            }
            await Task.Delay(20);
        }
        return collector;
    }

    /// <summary>Starts fstrm_capture listening on TCP 127.0.0.1:<paramref name="port"/>, writing <paramref name="file"/>; returns once it accepts connections.</summary>
    public static async Task<DnstapCollector> StartTcpAsync(int port, string file)
    {
        ExternalTool.RequireInstalled(CapturePath, "fstrm-bin");
        string text = port.ToString(CultureInfo.InvariantCulture);
        var process = ChildProcess.Start(CapturePath, ["-t", "protobuf:dnstap.Dnstap", "-a", "127.0.0.1", "-p", text, "-w", file], RepositoryPaths.Root);
        var collector = new DnstapCollector(process, $"127.0.0.1:{text}", file);
        var deadline = DateTime.UtcNow + Bound;
        while (!System.Net.NetworkInformation.IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpListeners().Any(e => e.Port == port))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"fstrm_capture did not listen on 127.0.0.1:{text}:\n{process.Log}");
            }
            await Task.Delay(20);
        }
        return collector;
    }

    /// <summary>SIGTERM and a bounded wait: fstrm_capture flushes and closes its file.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Signal(SigTerm);
            Assert.True(await _process.WaitForExitAsync(Bound), $"fstrm_capture still running after SIGTERM:\n{_process.Log}");
        }
    }

    /// <summary>SIGKILL to this collector's PID: gone without a word, as a crashed collector is.</summary>
    public Task KillAsync() => _process.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _process.StopAsync();
        _process.Dispose();
    }

    /// <summary>The messages of <paramref name="file"/>, decoded by <c>dnstap -r FILE -y</c>.</summary>
    public static async Task<IReadOnlyList<DnstapEntry>> DecodeAsync(string file)
    {
        ExternalTool.RequireInstalled(DnstapPath, "golang-github-dnstap-golang-dnstap-cli");
        var result = await ExternalTool.RunAsync(DnstapPath, ["-r", file, "-y"], Bound);
        Assert.True(result.ExitCode == 0, $"dnstap -r {file} -y failed:\n{result.Output}");
        return ParseYaml(result.Output);
    }

    /// <summary>The YAML documents of the dnstap CLI (separated by <c>---</c>), each read into a <see cref="DnstapEntry"/>.</summary>
    public static IReadOnlyList<DnstapEntry> ParseYaml(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var entries = new List<DnstapEntry>();
        foreach (var document in yaml.Split("\n---", StringSplitOptions.RemoveEmptyEntries))
        {
            if (!document.Contains("type: MESSAGE", StringComparison.Ordinal))
            {
                continue;
            }
            string Field(Regex pattern) => pattern.Match(document) is { Success: true } m ? m.Groups[1].Value : "";
            var question = Question().Match(document);
            entries.Add(new DnstapEntry(
                Field(Identity()), Field(Version()), Field(MessageType()), Field(Protocol()), Field(Family()), Field(QueryAddress()),
                int.TryParse(Field(QueryPort()), NumberStyles.Integer, CultureInfo.InvariantCulture, out int port) ? port : 0,
                question.Success ? question.Groups[1].Value.ToLowerInvariant() : "",
                question.Success ? question.Groups[3].Value : "",
                Field(Status()), Field(QueryZone())));
        }
        return entries;
    }

    [GeneratedRegex("^identity: \"(.*)\"$", RegexOptions.Multiline)]
    private static partial Regex Identity();

    [GeneratedRegex("^version: \"(.*)\"$", RegexOptions.Multiline)]
    private static partial Regex Version();

    [GeneratedRegex(@"^  type: (\w+)\s*$", RegexOptions.Multiline)]
    private static partial Regex MessageType();

    [GeneratedRegex(@"^  socket_protocol: (\w+)\s*$", RegexOptions.Multiline)]
    private static partial Regex Protocol();

    [GeneratedRegex(@"^  socket_family: (\w+)\s*$", RegexOptions.Multiline)]
    private static partial Regex Family();

    [GeneratedRegex(@"^  query_address: (\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex QueryAddress();

    [GeneratedRegex(@"^  query_port: (\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex QueryPort();

    [GeneratedRegex(@"^  query_zone: ""?([^""\s]+)""?\s*$", RegexOptions.Multiline)]
    private static partial Regex QueryZone();

    [GeneratedRegex(@"status: (\w+),")]
    private static partial Regex Status();

    [GeneratedRegex(@"QUESTION SECTION:\s*\n\s*;(\S+)\s+(\S+)\s+(\S+)")]
    private static partial Regex Question();
}
