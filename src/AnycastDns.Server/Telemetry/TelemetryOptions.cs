using Microsoft.Extensions.Configuration;

namespace AnycastDns.Server.Telemetry;

/// <summary>How console log lines are written (key <c>Logging:Format</c>).</summary>
public enum LogFormat
{
    /// <summary>One human-readable line per event (the default).</summary>
    Simple,
    /// <summary>One JSON object per line, with the PoP id and the event's fields, for log shippers.</summary>
    Json,
}

/// <summary>
/// The telemetry settings of <c>anycastdns serve</c>. Ours are configuration keys like every other option; the OTLP
/// exporter is configured by the standard <c>OTEL_EXPORTER_OTLP_*</c> variables (OpenTelemetry specification,
/// "OpenTelemetry Protocol Exporter" configuration), which are only checked here, so that a typo is one line at start
/// instead of telemetry silently going nowhere.
/// </summary>
public sealed class TelemetryOptions
{
    /// <summary>The generic OTLP endpoint variable; the per-signal ones below override it for their signal.</summary>
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    private const string OtlpProtocolKey = "OTEL_EXPORTER_OTLP_PROTOCOL";

    /// <summary>Key <c>Metrics:Enabled</c>: count queries and serve /metrics. Off, the query path does no counting at
    /// all, which is the baseline of the "metrics cost at most 5 % of QPS" comparison (bench/README.md).</summary>
    public bool Metrics { get; init; } = true;

    /// <summary>Key <c>Logging:Format</c>: <c>simple</c> or <c>json</c>.</summary>
    public LogFormat LogFormat { get; init; } = LogFormat.Simple;

    /// <summary>Key <c>QueryLog:OneIn</c>: log one answered query in this many, per receive thread; 0 (the default) logs none.</summary>
    public int QueryLogOneIn { get; init; }

    /// <summary>An OTLP endpoint is configured for metrics.</summary>
    public bool OtlpMetrics { get; init; }

    /// <summary>An OTLP endpoint is configured for traces.</summary>
    public bool OtlpTraces { get; init; }

    /// <summary>An OTLP endpoint is configured for logs.</summary>
    public bool OtlpLogs { get; init; }

    /// <summary>Reads and checks the settings; throws <see cref="ConfigurationException"/> naming the key of a bad value.</summary>
    public static TelemetryOptions FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var format = configuration["Logging:Format"]?.Trim().ToLowerInvariant() switch
        {
            null or "" or "simple" => LogFormat.Simple,
            "json" => LogFormat.Json,
            _ => throw new ConfigurationException($"Logging:Format: '{configuration["Logging:Format"]}' is not simple or json"),
        };
        bool generic = Endpoint(configuration, OtlpEndpointKey);
        Protocol(configuration, OtlpProtocolKey);
        return new TelemetryOptions
        {
            Metrics = ServerOptions.Bool(configuration, "Metrics:Enabled", true),
            LogFormat = format,
            QueryLogOneIn = ServerOptions.Int(configuration, "QueryLog:OneIn", 0, int.MaxValue, 0),
            OtlpMetrics = Signal(configuration, "METRICS") || generic,
            OtlpTraces = Signal(configuration, "TRACES") || generic,
            OtlpLogs = Signal(configuration, "LOGS") || generic,
        };
    }

    /// <summary>Checks the per-signal endpoint and protocol; true when the signal has its own endpoint.</summary>
    private static bool Signal(IConfiguration configuration, string signal)
    {
        Protocol(configuration, $"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL");
        return Endpoint(configuration, $"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT");
    }

    private static bool Endpoint(IConfiguration configuration, string key)
    {
        string? text = configuration[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            throw new ConfigurationException($"{key}: '{text}' is not an http:// or https:// URL");
        }
        return true;
    }

    private static void Protocol(IConfiguration configuration, string key)
    {
        // The .NET exporter speaks these two; http/json, which the specification also names, it does not.
        if (configuration[key] is { Length: > 0 } text && text.Trim() is not ("grpc" or "http/protobuf"))
        {
            throw new ConfigurationException($"{key}: '{text}' is not grpc or http/protobuf");
        }
    }
}
