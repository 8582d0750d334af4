using System.Globalization;
using System.Net;

namespace AnycastDns.TestSupport;

/// <summary>
/// The real <c>anycastdns serve</c> process, started from the build output on loopback ports, stopped by its PID.
/// Tests talk to it only over sockets, as an operator's clients would.
/// </summary>
public sealed class AnycastDnsServer : IAsyncDisposable
{
    public const int SigTerm = 15;
    public const int SigHup = 1;

    private const int PortAttempts = 5;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly ChildProcess _process;

    private AnycastDnsServer(ChildProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    public IPEndPoint EndPointV6 => new(IPAddress.IPv6Loopback, Port);

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the server printed so far.</summary>
    public string Log => _process.Log;

    /// <summary>The path of the built server (anycastdns.dll beside the test assembly; run with <c>dotnet exec</c>).</summary>
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "anycastdns.dll");

    /// <summary>
    /// Starts the server on a free port for every address in <paramref name="addresses"/> (default 127.0.0.1 and ::1),
    /// with <c>--pop-id test-pop</c> unless the arguments give one, and waits until it answers. <paramref name="environment"/>
    /// adds environment variables (e.g. <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>).
    /// </summary>
    /// <param name="launcher">A program that runs the server as its command, e.g. <c>nohup</c> (it execs it: the PID stays the server's).</param>
    /// <param name="executable">A native build of the server to run instead of <c>dotnet exec</c> of <see cref="DllPath"/>.</param>
    public static async Task<AnycastDnsServer> StartAsync(string zonesFolder, IEnumerable<string>? arguments = null, IEnumerable<string>? addresses = null, string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null, string? launcher = null, string? executable = null)
    {
        var extra = arguments?.ToList() ?? [];
        var hosts = addresses?.ToList() ?? ["127.0.0.1", "[::1]"];
        for (int attempt = 1; ; attempt++)
        {
            int port = LoopbackPort.FindFreeForUdpAndTcp();
            var args = executable is null ? new List<string> { "exec", DllPath } : [];
            args.AddRange(["serve", "--zones", zonesFolder]);
            foreach (var host in hosts)
            {
                args.Add("--listen");
                args.Add($"{host}:{port.ToString(CultureInfo.InvariantCulture)}");
            }
            if (!extra.Contains("--pop-id"))
            {
                args.AddRange(["--pop-id", "test-pop"]);
            }
            args.AddRange(extra);
            string command = executable ?? "dotnet";
            var process = launcher is null
                ? ChildProcess.Start(command, args, workingDirectory ?? RepositoryPaths.Root, environment: environment)
                : ChildProcess.Start(launcher, [command, .. args], workingDirectory ?? RepositoryPaths.Root, environment: environment);
            var server = new AnycastDnsServer(process, port);
            // With --http the status endpoint starts just after the DNS listeners.
            if (await server.WaitForLogAsync("answering as", StartTimeout).ConfigureAwait(false)
                && (!extra.Contains("--http") || await server.WaitForLogAsync("status endpoint on", StartTimeout).ConfigureAwait(false)))
            {
                return server;
            }
            // What happened is read before the process is stopped and its handle let go.
            string exit = process.HasExited ? process.ExitCode.ToString(CultureInfo.InvariantCulture) : $"none within {StartTimeout.TotalSeconds:0} s";
            bool portTaken = process.Log.Contains("address already in use", StringComparison.OrdinalIgnoreCase);
            await server.DisposeAsync().ConfigureAwait(false);
            if (!portTaken || attempt == PortAttempts)
            {
                throw new InvalidOperationException($"anycastdns did not start (exit {exit}):\n{process.Log}");
            }
        }
    }

    /// <summary>
    /// Asks <paramref name="name"/> A (kdig, every 50 ms) until the answer is <paramref name="address"/>; false on
    /// timeout or exit.
    /// </summary>
    public async Task<bool> WaitForAnswerAsync(string name, string address, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !HasExited)
        {
            var answer = await Kdig.QueryAsync(EndPoint, [name, "A", "+short"]).ConfigureAwait(false);
            if (answer.StandardOutput.Trim() == address)
            {
                return true;
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
        return false;
    }

    /// <summary>Waits, bounded, until the log holds <paramref name="text"/>; false on timeout or exit.</summary>
    public async Task<bool> WaitForLogAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.Log.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }
            if (_process.HasExited)
            {
                return _process.Log.Contains(text, StringComparison.Ordinal);
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
        return false;
    }

    public void Signal(int signal) => _process.Signal(signal);

    /// <summary>SIGTERM, then waits for the exit; returns the exit code (throws if it does not end in time).</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        _process.Signal(SigTerm);
        if (!await _process.WaitForExitAsync(timeout).ConfigureAwait(false))
        {
            throw new TimeoutException($"anycastdns (pid {_process.Id}) still running {timeout.TotalSeconds} s after SIGTERM:\n{_process.Log}");
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await _process.StopAsync().ConfigureAwait(false);
        }
        _process.Dispose();
    }
}
