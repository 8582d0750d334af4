using System.Collections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// Wires the OpenTelemetry SDK to the server: the resource (service, host and PoP), the <c>AnycastDns</c> meter with
/// the .NET runtime metrics, the Prometheus exporter behind <c>/metrics</c> of the status endpoint, and OTLP for
/// metrics, traces and logs wherever an <c>OTEL_EXPORTER_OTLP_*</c> endpoint is configured. The console log format is
/// <see cref="ConsoleLogging"/>'s.
/// </summary>
public static class TelemetryHosting
{
    /// <summary>The resource attribute, and so the Prometheus label on every series, that names the PoP.</summary>
    public const string PopAttribute = "pop";

    private const string ServiceName = "anycastdns";

    /// <summary>
    /// Adds the <c>OTEL_*</c> environment variables to <paramref name="configuration"/> under their own names, where the
    /// SDK reads them (it reads its settings from the host's configuration, which otherwise holds only <c>ANYCASTDNS_*</c>).
    /// </summary>
    public static IConfigurationBuilder AddOpenTelemetryEnvironment(this IConfigurationBuilder configuration)
    {
        var variables = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            if (variable.Key is string key && key.StartsWith("OTEL_", StringComparison.OrdinalIgnoreCase))
            {
                variables[key] = variable.Value as string;
            }
        }
        return configuration.AddInMemoryCollection(variables);
    }

    /// <summary>Registers the query counters, the meter and the OpenTelemetry SDK.</summary>
    public static IServiceCollection AddAnycastDnsTelemetry(this IServiceCollection services, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var telemetry = options.Telemetry;
        services.AddSingleton(telemetry);
        services.AddSingleton<QueryStatistics>();
        var otel = services.AddOpenTelemetry().ConfigureResource(resource => Describe(resource, options));
        if (telemetry.Metrics)
        {
            services.AddSingleton<ServerMetrics>();
            services.AddHostedService(provider => provider.GetRequiredService<ServerMetrics>());
            services.AddSingleton<ZoneMetrics>();
            services.AddSingleton(provider => new PrometheusScrape(
                new PrometheusDurationHistogram(provider.GetRequiredService<QueryStatistics>(), options.PopId),
                provider.GetRequiredService<ZoneMetrics>(), options.PopId));
            otel.WithMetrics(metrics => metrics
                .AddMeter(ServerActivities.Name)
                .AddRuntimeInstrumentation()
                .AddView(CardinalityLimit)
                .AddPrometheusExporter(prometheus =>
                {
                    // target_info carries every resource attribute; the PoP is also a label on each series, so a
                    // query over many PoPs needs no join (OpenTelemetry Prometheus exporter spec, "Resource attributes").
                    prometheus.ResourceConstantLabels = key => key == PopAttribute;
                }));
            if (telemetry.OtlpMetrics)
            {
                services.AddSingleton<OtlpMetricsExport>();
                services.AddHostedService(provider => provider.GetRequiredService<OtlpMetricsExport>());
            }
        }
        if (telemetry.OtlpTraces)
        {
            otel.WithTracing(tracing => tracing.AddSource(ServerActivities.Name).AddOtlpExporter());
        }
        if (telemetry.OtlpLogs)
        {
            otel.WithLogging(logging => logging.AddOtlpExporter());
        }
        return services;
    }

    /// <summary>
    /// The SDK sets aside room for its cardinality limit (2,000 attribute sets by default) for every metric stream when
    /// the stream is made, whether or not it is ever scraped: 55 streams held 9.5 MiB, and with the runtime's limited,
    /// the server's own 36 still held 7 MiB (10,000 zones: 74 MiB resident, 67 without). So each stream gets room for
    /// what it can have: <c>anycastdns.queries</c> a series per transport, family, QTYPE and RCODE (1,944), every other
    /// one of the server's a few dozen at most (TCP closes: 2 families x 11 reasons), the runtime's a few each
    /// (generations, CPU modes; dotnet.exceptions one per exception type); past the limit the SDK counts the rest in one
    /// overflow series. The per-zone series are not SDK streams on /metrics (<see cref="ZoneMetrics"/>); over OTLP they
    /// keep the default.
    /// </summary>
    internal static MetricStreamConfiguration? CardinalityLimit(System.Diagnostics.Metrics.Instrument instrument) => instrument switch
    {
        { Meter.Name: ZoneMetrics.MeterName } => null,
        { Name: "anycastdns.queries" } => new MetricStreamConfiguration { CardinalityLimit = QueriesCardinalityLimit },
        _ => new MetricStreamConfiguration { CardinalityLimit = SmallCardinalityLimit },
    };

    /// <summary>Every series <c>anycastdns.queries</c> can have, and one for the overflow.</summary>
    internal const int QueriesCardinalityLimit = 2 * 2 * DnsLabels.TypeCount * DnsLabels.RcodeCount + 1;

    /// <summary>Attribute sets kept per metric stream of every other instrument (see <see cref="CardinalityLimit"/>).</summary>
    internal const int SmallCardinalityLimit = 100;

    /// <summary>The resource every signal is sent with: the service, this host and the PoP (OpenTelemetry resource semantic conventions).</summary>
    internal static ResourceBuilder Describe(ResourceBuilder resource, ServerOptions options) => resource
        .AddService(ServiceName, serviceVersion: ServerActivities.Version,
            autoGenerateServiceInstanceId: false, serviceInstanceId: $"{options.PopId}/{Environment.MachineName}")
        .AddAttributes([new(PopAttribute, options.PopId), new("host.name", Environment.MachineName)]);

    /// <summary>
    /// Builds the SDK's providers and the meter now, before the zones load, so that the first load's span and every
    /// counter from the first query on are seen (the hosting package would build them only when the host starts).
    /// </summary>
    public static void StartTelemetry(this IServiceProvider services)
    {
        services.GetService<MeterProvider>();
        services.GetService<TracerProvider>();
        services.GetService<LoggerProvider>();
        services.GetService<ServerMetrics>();
        services.GetService<OtlpMetricsExport>();
    }
}
