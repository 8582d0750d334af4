using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// Adds the answer-duration histogram to the <c>/metrics</c> scrape as a real Prometheus histogram
/// (<c># TYPE anycastdns_query_duration_seconds histogram</c> with <c>_bucket{le}</c>, <c>_sum</c>, <c>_count</c>).
/// The buckets are counted per receive thread without locks (<see cref="QueryStats"/>), and
/// <see cref="System.Diagnostics.Metrics"/> has no observable histogram that the SDK's exporter could write them
/// through; recording each answer into a <c>Histogram&lt;double&gt;</c> instead would take the SDK's per-series lock
/// on every query. So the exporter writes everything else, and this appends the histogram from the same counters,
/// with the same <c>otel_scope_name</c> and <c>pop</c> labels as its neighbours.
/// </summary>
internal sealed class PrometheusDurationHistogram(QueryStatistics statistics, string popId)
{
    private const string Name = "anycastdns_query_duration_seconds";

    /// <summary>Middleware for the scrape branch: lets the exporter write into a buffer, then adds the histogram.</summary>
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
        var text = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        if (context.Response.StatusCode == StatusCodes.Status200OK)
        {
            // OpenMetrics ends with "# EOF", which must stay last.
            const string Eof = "# EOF\n";
            bool openMetrics = text.EndsWith(Eof, StringComparison.Ordinal);
            text = (openMetrics ? text[..^Eof.Length] : text) + Write() + (openMetrics ? Eof : "");
        }
        var bytes = Encoding.UTF8.GetBytes(text);
        context.Response.ContentLength = bytes.Length;
        await body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The histogram in the text exposition format, one series per transport.</summary>
    public string Write()
    {
        var text = new StringBuilder();
        text.Append("# HELP ").Append(Name).Append(" Time from the query in hand to the response ready to send, by transport\n");
        text.Append("# TYPE ").Append(Name).Append(" histogram\n");
        foreach (var (transport, sums) in ServerMetrics.ByTransport(statistics).OrderBy(t => t.Key))
        {
            string labels = $"otel_scope_name=\"{ServerActivities.Name}\",network_transport=\"{ServerMetrics.TransportName(transport)}\",pop=\"{Escape(popId)}\"";
            long cumulative = 0;
            for (int bucket = 0; bucket < AnswerDuration.BucketCount; bucket++)
            {
                cumulative += sums[QueryStats.Durations + bucket];
                text.Append(Name).Append("_bucket{").Append(labels).Append(",le=\"").Append(AnswerDuration.UpperBound(bucket)).Append("\"} ")
                    .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
            text.Append(Name).Append("_sum{").Append(labels).Append("} ")
                .Append(AnswerDuration.Seconds(sums[QueryStats.DurationTicks]).ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            text.Append(Name).Append("_count{").Append(labels).Append("} ").Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Label values escape backslash, double quote and line feed (text exposition format).</summary>
    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
