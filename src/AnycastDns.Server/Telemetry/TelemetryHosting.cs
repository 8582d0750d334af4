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
            services.AddSingleton(provider => new PrometheusDurationHistogram(provider.GetRequiredService<QueryStatistics>(), options.PopId));
            otel.WithMetrics(metrics => metrics
                .AddMeter(ServerActivities.Name)
                .AddRuntimeInstrumentation()
                // The SDK sets aside room for its cardinality limit (2,000 attribute sets by default) for every metric
                // stream when the stream is made, whether or not it is ever scraped: 55 streams held 9.5 MiB. The
                // runtime's metrics have a few attribute sets each (generations, CPU modes; dotnet.exceptions one per
                // exception type), so 100 fits them; past it the SDK counts the rest in one overflow series.
                .AddView(instrument => IsRuntimeMeter(instrument.Meter.Name) ? new MetricStreamConfiguration { CardinalityLimit = RuntimeCardinalityLimit } : null)
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

    /// <summary>Attribute sets kept per metric stream of the .NET runtime's meter (see <see cref="AddAnycastDnsTelemetry"/>).</summary>
    internal const int RuntimeCardinalityLimit = 100;

    /// <summary>The meter <c>AddRuntimeInstrumentation</c> enables: the runtime's own from .NET 9 on, the package's before.</summary>
    private static bool IsRuntimeMeter(string name) => name is "System.Runtime" or "OpenTelemetry.Instrumentation.Runtime";

    /// <summary>The resource every signal is sent with: the service, this host and the PoP (OpenTelemetry resource semantic conventions).</summary>
    internal static ResourceBuilder Describe(ResourceBuilder resource, ServerOptions options) => resource
        .AddService(ServiceName, serviceVersion: typeof(TelemetryHosting).Assembly.GetName().Version?.ToString(3),
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
