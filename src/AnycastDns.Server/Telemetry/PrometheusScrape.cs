using System.Text;
using Microsoft.AspNetCore.Http;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// The <c>/metrics</c> scrape: what the SDK's Prometheus exporter writes, then what it cannot — the answer-duration
/// histogram (<see cref="PrometheusDurationHistogram"/>) and the per-zone series (<see cref="ZoneMetrics"/>) — in the
/// format the exporter chose (text 0.0.4, or OpenMetrics when the scraper asks for it).
/// </summary>
internal sealed class PrometheusScrape(PrometheusDurationHistogram durations, ZoneMetrics zones, string popId)
{
    private const string OpenMetricsEof = "# EOF\n";

    /// <summary>Middleware for the scrape branch: lets the exporter write into a buffer, then streams the rest after it.</summary>
    public async Task AppendAsync(HttpContext context, Func<Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var body = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next().ConfigureAwait(false);
        }
        finally
        {
            context.Response.Body = body;
        }
        int length = (int)buffer.Length;
        if (context.Response.StatusCode != StatusCodes.Status200OK)
        {
            context.Response.ContentLength = length;
            await body.WriteAsync(buffer.GetBuffer().AsMemory(0, length), context.RequestAborted).ConfigureAwait(false);
            return;
        }
        // OpenMetrics ends with "# EOF", which must stay last.
        bool openMetrics = length >= OpenMetricsEof.Length
            && Encoding.ASCII.GetString(buffer.GetBuffer(), length - OpenMetricsEof.Length, OpenMetricsEof.Length) == OpenMetricsEof;
        if (openMetrics)
        {
            length -= OpenMetricsEof.Length;
        }
        // The length is not known before the zones are written (a series per zone: megabytes for 100,000 zones), so the
        // response goes out chunked, written as it is made rather than held whole.
        context.Response.ContentLength = null;
        await body.WriteAsync(buffer.GetBuffer().AsMemory(0, length), context.RequestAborted).ConfigureAwait(false);
        await using var writer = new StreamWriter(body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 64 << 10, leaveOpen: true);
        await writer.WriteAsync(durations.Write()).ConfigureAwait(false);
        await zones.WritePrometheusAsync(writer, openMetrics, popId, ServerActivities.Version).ConfigureAwait(false);
        if (openMetrics)
        {
            await writer.WriteAsync(OpenMetricsEof).ConfigureAwait(false);
        }
    }
}
