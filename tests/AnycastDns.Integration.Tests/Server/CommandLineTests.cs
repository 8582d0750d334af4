using System.Net;
using System.Net.Sockets;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// The executable's commands as an operator runs them: bad settings end with one clear line and a non-zero exit code,
/// never a stack trace; <c>check</c> reports zones like named-checkzone.
/// </summary>
public sealed class CommandLineTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    private static Task<ToolResult> Run(params string[] arguments) =>
        ExternalTool.RunAsync("dotnet", ["exec", AnycastDnsServer.DllPath, .. arguments], RunTimeout);

    private static void AssertOneLineError(ToolResult result, string expected)
    {
        Assert.NotEqual(0, result.ExitCode);
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{result.StandardError}");
        Assert.StartsWith("anycastdns: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_zones_folder_is_one_line()
    {
        AssertOneLineError(await Run("serve", "--zones", "/nonexistent/zones", "--listen", "127.0.0.1:0"), "zones folder '/nonexistent/zones' does not exist");
    }

    [Fact]
    public async Task A_bad_cookie_secret_file_is_one_line_naming_file_and_line()
    {
        string folder = Directory.CreateTempSubdirectory("anycastdns-secrets-").FullName;
        try
        {
            string file = Path.Combine(folder, "secrets.txt");
            File.WriteAllText(file, "# shared by every PoP\n00112233445566778899aabbccddeeff\n00112233445566778899aabbccddee\n");
            AssertOneLineError(await Run("serve", "--zones", RepositoryPaths.TestZones, "--listen", "127.0.0.1:0", "--cookie-secret-file", file),
                $"Cookies:SecretFile: {file}:3: expected 32 hex digits, got 30");
            File.WriteAllText(file, "\n");
            AssertOneLineError(await Run("serve", "--zones", RepositoryPaths.TestZones, "--listen", "127.0.0.1:0", "--cookie-secret-file", file),
                $"Cookies:SecretFile: {file}: no secret in the file");
            AssertOneLineError(await Run("serve", "--zones", RepositoryPaths.TestZones, "--listen", "127.0.0.1:0", "--cookie-secret-file", file + ".missing"),
                $"Cookies:SecretFile: '{file}.missing' does not exist");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("1.2.3:53", "'1.2.3' is not an IP address")]
    [InlineData("127.0.0.1", "expected ip:port")]
    [InlineData("127.0.0.1:70000", "is not a port number")]
    [InlineData("::1:53", "[ipv6]:port")]
    [InlineData("0.0.0.0:53", "wildcard")]
    public async Task An_unparsable_listen_address_is_one_line(string address, string expected)
    {
        AssertOneLineError(await Run("serve", "--zones", RepositoryPaths.TestZones, "--listen", address), expected);
    }

    [Fact]
    public async Task A_port_in_use_is_one_line()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        var result = await Run("serve", "--zones", RepositoryPaths.TestZones, "--listen", $"127.0.0.1:{port}");
        AssertOneLineError(result, $"cannot listen on 127.0.0.1:{port}/udp");
    }

    [Fact]
    public async Task An_http_port_in_use_is_one_line()
    {
        // Both ports named, from the tests' own range: with "--listen 127.0.0.1:0" the kernel once gave the DNS
        // listener, for UDP, the very port this socket holds for TCP, and the TCP bind failed first.
        int dns = LoopbackPort.FindFreeForUdpAndTcp();
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, LoopbackPort.FindFreeForUdpAndTcp()));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        var result = await Run("serve", "--zones", RepositoryPaths.TestZones, "--listen", $"127.0.0.1:{dns}", "--http", $"127.0.0.1:{port}", "--no-watch");
        AssertOneLineError(result, $"cannot listen on 127.0.0.1:{port}/http");
    }

    [Fact]
    public async Task Unknown_options_and_bad_values_are_one_line()
    {
        AssertOneLineError(await Run("serve", "--bogus"), "unknown option '--bogus'");
        AssertOneLineError(await Run("serve", "--tcp-idle-timeout", "soon", "--zones", RepositoryPaths.TestZones), "Tcp:IdleTimeoutSeconds: 'soon'");
        AssertOneLineError(await Run("serve", "--tcp-max-connections-per-client", "0", "--zones", RepositoryPaths.TestZones), "Tcp:MaxConnectionsPerClient: '0' is not a whole number from 1 to 1000000");
        AssertOneLineError(await Run("frobnicate"), "unknown command 'frobnicate'");
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318", "OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' is not an http:// or https:// URL")]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "ftp://collector/", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'ftp://collector/'")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' is not grpc or http/protobuf")]
    [InlineData("ANYCASTDNS_LOGGING__FORMAT", "xml", "Logging:Format: 'xml' is not simple or json")]
    [InlineData("ANYCASTDNS_QUERYLOG__ONEIN", "-1", "QueryLog:OneIn: '-1'")]
    [InlineData("ANYCASTDNS_METRICS__ENABLED", "maybe", "Metrics:Enabled: 'maybe' is not true or false")]
    public async Task Bad_telemetry_settings_are_one_line_naming_the_key(string variable, string value, string expected)
    {
        var result = await ExternalTool.RunAsync("dotnet", ["exec", AnycastDnsServer.DllPath, "serve", "--zones", RepositoryPaths.TestZones, "--listen", "127.0.0.1:0"],
            RunTimeout, environment: new Dictionary<string, string?> { [variable] = value });
        AssertOneLineError(result, expected);
    }

    [Fact]
    public async Task Version_prints_the_version()
    {
        var result = await Run("--version");
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^anycastdns \d+\.\d+\.\d+", result.StandardOutput);
    }

    [Fact]
    public async Task Check_prints_origin_serial_and_count_for_good_zones()
    {
        var result = await Run("check", RepositoryPaths.ExampleZones);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Matches(@"example\.com\.\tserial 2024010101\t\d+ records\tOK", result.StandardOutput);
    }

    [Fact]
    public async Task Check_prints_every_error_with_file_line_and_column_and_exits_1()
    {
        var result = await Run("check", RepositoryPaths.BadZones);
        Assert.Equal(1, result.ExitCode);
        Assert.Matches(@"syntax-error\.test\.zone:9:26: error: MX record: expected a preference", result.StandardError);
        Assert.Matches(@"cname-and-other\.test\.zone:\d+:1: error: .*CNAME and other data", result.StandardError);
        Assert.Contains("missing-soa.test.\tFAILED", result.StandardOutput, StringComparison.Ordinal);
        var single = await Run("check", Path.Combine(RepositoryPaths.BadZones, "out-of-zone.test.zone"));
        Assert.Equal(1, single.ExitCode);
        Assert.Contains("is outside the zone out-of-zone.test.", single.StandardError, StringComparison.Ordinal);
    }
}
