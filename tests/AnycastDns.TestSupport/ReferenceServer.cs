using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using AnycastDns.Protocol;

namespace AnycastDns.TestSupport;

/// <summary>
/// A real authoritative server (Knot, NSD) run as a child process on a free loopback port, serving every
/// <c>*.zone</c> file of a folder, so its answers can be compared with ours. Everything it writes lives in
/// a fresh temporary directory; disposing kills the process by PID and deletes that directory.
/// </summary>
public abstract class ReferenceServer : IAsyncDisposable
{
    /// <summary>A start whose process dies (say, the port was taken in the meantime) is tried again on another port.</summary>
    private const int LaunchAttempts = 3;

    private const int ProbeTimeoutMs = 250;

    private static readonly TimeSpan ServingTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(50);

    private ChildProcess? _process;
    private int _disposed;

    private protected ReferenceServer(IReadOnlyList<ZoneFile> zones) => Zones = zones;

    /// <summary>127.0.0.1 and the port it serves UDP and TCP on.</summary>
    public IPEndPoint EndPoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>The zones it serves, each answering its SOA with AA set.</summary>
    public IReadOnlyList<ZoneFile> Zones { get; }

    /// <summary>The temporary directory holding its configuration, pid file, databases and logs.</summary>
    public string WorkDirectory { get; private set; } = "";

    /// <summary>The configuration file it was started with, inside <see cref="WorkDirectory"/>.</summary>
    public string ConfigurationFile { get; private set; } = "";

    public int ProcessId => Process.Id;

    /// <summary>What the server has logged so far, for assertion messages.</summary>
    public string Log => Process.Log + ExtraLog(WorkDirectory);

    /// <summary>The program's name, for messages: knotd, nsd.</summary>
    protected abstract string ProgramName { get; }

    /// <summary>Absolute path of the daemon.</summary>
    protected abstract string ProgramPath { get; }

    /// <summary>The Debian package that installs <see cref="ProgramPath"/>.</summary>
    protected abstract string Package { get; }

    private ChildProcess Process => _process ?? throw new InvalidOperationException($"{ProgramName} was not started");

    /// <summary>Kills the server process (and any children) by PID, waits for it to exit, deletes <see cref="WorkDirectory"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        GC.SuppressFinalize(this);
        if (_process is null)
        {
            return;
        }
        try
        {
            await _process.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            _process.Dispose();
            DeleteWorkDirectory(WorkDirectory);
        }
    }

    /// <summary>Writes the configuration into <paramref name="workDirectory"/> and returns the file's path.</summary>
    private protected abstract string WriteConfiguration(string workDirectory, int port);

    /// <summary>Command-line arguments that run the daemon in the foreground with <paramref name="configurationFile"/>.</summary>
    private protected abstract IReadOnlyList<string> Arguments(string configurationFile);

    /// <summary>A log the daemon writes to a file rather than to standard error, if any.</summary>
    private protected virtual string ExtraLog(string workDirectory) => "";

    /// <summary>Matches the daemon's log line for a zone it could not load, so a start fails at once rather than after the timeout.</summary>
    private protected abstract Regex ZoneLoadFailure { get; }

    /// <summary>
    /// Starts the daemon and returns once every zone answers a real SOA query, or throws with the daemon's
    /// log. Bounded: <see cref="LaunchAttempts"/> starts of at most <see cref="ServingTimeout"/> each.
    /// </summary>
    private protected async Task LaunchAsync(CancellationToken cancellationToken)
    {
        ExternalTool.RequireInstalled(ProgramPath, Package);
        string failure = "";
        for (int attempt = 1; attempt <= LaunchAttempts; attempt++)
        {
            int port = LoopbackPort.FindFreeForUdpAndTcp();
            string workDirectory = Directory.CreateTempSubdirectory($"anycastdns-{ProgramName}-").FullName;
            ChildProcess? process = null;
            bool exitedEarly;
            try
            {
                string configurationFile = WriteConfiguration(workDirectory, port);
                process = ChildProcess.Start(ProgramPath, Arguments(configurationFile), workDirectory);
                var endPoint = new IPEndPoint(IPAddress.Loopback, port);
                string? notServing = await WaitUntilServingAsync(process, endPoint, workDirectory, cancellationToken).ConfigureAwait(false);
                if (notServing is null)
                {
                    (_process, EndPoint, WorkDirectory, ConfigurationFile) = (process, endPoint, workDirectory, configurationFile);
                    return;
                }
                exitedEarly = process.HasExited;
                failure = $"{ProgramName} (attempt {attempt} of {LaunchAttempts}, 127.0.0.1@{port}, {configurationFile}): {notServing}\n"
                    + $"--- {ProgramName} log ---\n{process.Log}{ExtraLog(workDirectory)}";
            }
            catch
            {
                await StopQuietlyAsync(process, workDirectory).ConfigureAwait(false);
                throw;
            }
            await StopQuietlyAsync(process, workDirectory).ConfigureAwait(false);
            if (!exitedEarly)
            {
                // It ran but did not serve the zones in time: another port would not help.
                break;
            }
        }
        throw new InvalidOperationException($"{ProgramName} did not start serving {Zones.Count} zones: {failure}");
    }

    /// <summary>Null once every zone answers its SOA authoritatively, else why not.</summary>
    private async Task<string?> WaitUntilServingAsync(ChildProcess process, IPEndPoint endPoint, string workDirectory, CancellationToken cancellationToken)
    {
        var pending = new List<ZoneFile>(Zones);
        var states = new Dictionary<string, string>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                return $"exited with code {process.ExitCode} before serving";
            }
            var failed = ZoneLoadFailure.Match(process.Log + ExtraLog(workDirectory));
            if (failed.Success)
            {
                return "a zone failed to load: " + failed.Value;
            }
            for (int i = pending.Count - 1; i >= 0; i--)
            {
                string? state = await ProbeSoaAsync(endPoint, pending[i].Origin, cancellationToken).ConfigureAwait(false);
                if (state is null)
                {
                    pending.RemoveAt(i);
                }
                else
                {
                    states[pending[i].Origin] = state;
                }
            }
            if (pending.Count == 0)
            {
                return null;
            }
            if (clock.Elapsed > ServingTimeout)
            {
                return $"after {ServingTimeout.TotalSeconds} s, zones not answering their SOA: "
                    + string.Join(", ", pending.Select(z => $"{z.Origin} ({states[z.Origin]})"));
            }
            await Task.Delay(ProbeInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Null when <paramref name="origin"/> SOA comes back NOERROR, AA, with an answer; else what came back.</summary>
    private static async Task<string?> ProbeSoaAsync(IPEndPoint endPoint, string origin, CancellationToken cancellationToken)
    {
        ushort id = (ushort)Random.Shared.Next(ushort.MaxValue + 1);
        byte[] query = DnsMessage.CreateQuery(DnsName.Parse(origin + "."), RecordType.SOA, id: id).Encode();
        byte[] response;
        try
        {
            response = await DnsWire.QueryUdpAsync(endPoint, query, ProbeTimeoutMs, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return "no response";
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode == SocketError.ConnectionRefused ? "port closed" : e.SocketErrorCode.ToString();
        }
        if (!Header.TryRead(response, out var header) || header.Id != id || !header.IsResponse)
        {
            return "malformed response";
        }
        if (header.Rcode != (int)ResponseCode.NoError)
        {
            return "rcode " + (ResponseCode)header.Rcode;
        }
        return header.Has(Header.AaBit) && header.AnswerCount > 0 ? null : "no authoritative SOA answer";
    }

    private static async Task StopQuietlyAsync(ChildProcess? process, string workDirectory)
    {
        if (process is not null)
        {
            try
            {
                await process.StopAsync().ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Reported by the caller's own failure; the directory is still removed.
            }
            process.Dispose();
        }
        DeleteWorkDirectory(workDirectory);
    }

    private static void DeleteWorkDirectory(string directory)
    {
        if (directory.Length > 0 && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// The start of a Knot configuration every test-made knotd shares (a primary or a secondary): the server on
    /// <paramref name="address"/>@<paramref name="port"/> (127.0.0.1 when none) with one worker of each kind, its control
    /// socket, database and run files in <paramref name="work"/>, info logging to stderr, and the TSIG key when there is one.
    /// </summary>
    internal static StringBuilder KnotServerSections(string work, int port, TsigKeyText? key, IPAddress? address = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var conf = new StringBuilder();
        conf.Append(inv, $$"""
            server:
                rundir: {{Quoted(work)}}
                pidfile: {{Quoted(Path.Combine(work, "knot.pid"))}}
                listen: {{address ?? IPAddress.Loopback}}@{{port}}
                udp-workers: 1
                tcp-workers: 1
                background-workers: 1

            control:
                listen: {{Quoted(Path.Combine(work, "knot.sock"))}}

            database:
                storage: {{Quoted(Path.Combine(work, "db"))}}

            log:
              - target: stderr
                any: info

            """);
        if (key is not null)
        {
            conf.Append(inv, $"""
                key:
                  - id: {key.Name}
                    algorithm: {key.Algorithm}
                    secret: {key.Secret}

                """);
        }
        return conf;
    }

    /// <summary>A string for a configuration file: double-quoted, as both Knot's YAML and nsd.conf accept.</summary>
    internal static string Quoted(string value)
    {
        if (value.Contains('"', StringComparison.Ordinal) || value.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException($"cannot put a path with a quote or a newline in a server configuration: {value}", nameof(value));
        }
        return "\"" + value + "\"";
    }
}
