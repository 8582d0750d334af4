using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// Metrics over OTLP, when an <c>OTEL_EXPORTER_OTLP_*</c> endpoint is configured: every instrument of the server, the
/// .NET runtime's, the answer-duration buckets and the per-zone series (the first 2,000 zones: <see cref="ZoneMetrics"/>). A meter provider of its own, because the one behind <c>/metrics</c>
/// must not see the buckets as counters (they go there as a real histogram, <see cref="PrometheusDurationHistogram"/>).
/// The exporter reads the standard variables (endpoint, protocol, headers, <c>OTEL_METRIC_EXPORT_INTERVAL</c>) from the
/// server's configuration.
/// </summary>
internal sealed class OtlpMetricsExport : IHostedService, IDisposable
{
    private readonly MeterProvider _provider;

    public OtlpMetricsExport(ServerOptions options, IConfiguration configuration)
    {
        _provider = Sdk.CreateMeterProviderBuilder()
            .ConfigureServices(services => services.AddSingleton(configuration))
            .ConfigureResource(resource => TelemetryHosting.Describe(resource, options))
            .AddMeter(ServerActivities.Name, ServerMetrics.DurationMeterName, ZoneMetrics.MeterName)
            .AddRuntimeInstrumentation()
            .AddView(TelemetryHosting.CardinalityLimit)
            .AddOtlpExporter()
            .Build();
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Sends what was counted since the last export, so a stopping PoP's final numbers are not lost.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _provider.ForceFlush(timeoutMilliseconds: 2000);
        return Task.CompletedTask;
    }

    public void Dispose() => _provider.Dispose();
}
