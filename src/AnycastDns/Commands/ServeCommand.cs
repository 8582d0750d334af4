using AnycastDns.Server;
using AnycastDns.Server.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Commands;

/// <summary>
/// <c>anycastdns serve</c>: the server on the generic host. Configuration, lowest to highest precedence:
/// appsettings.json (beside the binary, then in the working folder, or the file given by --config),
/// <c>ANYCASTDNS_*</c> environment variables (<c>ANYCASTDNS_POPID</c>, <c>ANYCASTDNS_LISTEN__0</c>, ...), the command line.
/// SIGTERM and Ctrl-C stop it gracefully with exit code 0.
/// </summary>
internal static class ServeCommand
{
    public const string EnvironmentPrefix = "ANYCASTDNS_";

    /// <summary>Runs the server with <paramref name="commandLine"/>, the configuration pairs of the options given.</summary>
    public static int Run(Dictionary<string, string?> commandLine)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ContentRootPath = Directory.GetCurrentDirectory(),
        });
        var configuration = builder.Configuration;
        string? file = commandLine.GetValueOrDefault("Config") ?? Environment.GetEnvironmentVariable(EnvironmentPrefix + "CONFIG");
        try
        {
            configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true);
            configuration.AddJsonFile(Path.GetFullPath(file ?? "appsettings.json"), optional: file is null);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or IOException)
        {
            Console.Error.WriteLine($"anycastdns: configuration file {file ?? "appsettings.json"}: {e.Message}");
            return 1;
        }
        // The standard OTEL_* variables (OTLP endpoint, protocol, headers, export interval) where the SDK reads them.
        configuration.AddOpenTelemetryEnvironment();
        configuration.AddEnvironmentVariables(EnvironmentPrefix);
        configuration.AddInMemoryCollection(commandLine);

        ServerOptions options;
        try
        {
            options = ServerOptions.FromConfiguration(configuration);
        }
        catch (ConfigurationException e)
        {
            Console.Error.WriteLine($"anycastdns: {e.Message}");
            return 1;
        }

        builder.Logging.AddConfiguration(configuration.GetSection("Logging"));
        builder.Logging.AddAnycastDnsConsole(options);
        // The host logs a start that failed with the exception's stack trace before rethrowing it; what failed is
        // said once, as one line, where the exception is caught below.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        try
        {
            builder.Services.AddAnycastDns(options);
        }
        catch (ConfigurationException e)
        {
            Console.Error.WriteLine($"anycastdns: {e.Message}");
            return 1;
        }

        using var host = builder.Build();
        try
        {
            host.Services.StartTelemetry();
            host.Services.GetRequiredService<DnsServer>().Prepare();
            // A listener that cannot bind as the host starts (the HTTP endpoint's address taken) is found here too.
            host.Run();
        }
        catch (ConfigurationException e)
        {
            Console.Error.WriteLine($"anycastdns: {e.Message}");
            return 1;
        }
        return 0;
    }
}
