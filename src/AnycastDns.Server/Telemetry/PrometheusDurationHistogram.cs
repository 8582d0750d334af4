using System.Globalization;
using System.Text;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// Adds the answer-duration histogram to the <c>/metrics</c> scrape as a real Prometheus histogram
/// (<c># TYPE anycastdns_query_duration_seconds histogram</c> with <c>_bucket{le}</c>, <c>_sum</c>, <c>_count</c>).
/// The buckets are counted per receive thread without locks (<see cref="QueryStats"/>), and
/// <see cref="System.Diagnostics.Metrics"/> has no observable histogram that the SDK's exporter could write them
/// through; recording each answer into a <c>Histogram&lt;double&gt;</c> instead would take the SDK's per-series lock
/// on every query. So the exporter writes everything else, and <see cref="PrometheusScrape"/> appends the histogram from
/// the same counters, with the same <c>otel_scope_name</c> and <c>pop</c> labels as its neighbours.
/// </summary>
internal sealed class PrometheusDurationHistogram(QueryStatistics statistics, string popId)
{
    private const string Name = "anycastdns_query_duration_seconds";

    /// <summary>The histogram in the text exposition format, one series per transport.</summary>
    public string Write()
    {
        var text = new StringBuilder();
        text.Append("# HELP ").Append(Name).Append(" Time from the query in hand to the response ready to send, by transport\n");
        text.Append("# TYPE ").Append(Name).Append(" histogram\n");
        foreach (var (transport, sums) in ServerMetrics.ByTransport(statistics).OrderBy(t => t.Key))
        {
            string labels = $"otel_scope_name=\"{ServerActivities.Name}\",network_transport=\"{ServerMetrics.TransportName(transport)}\",pop=\"{PrometheusLabels.Escape(popId)}\"";
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
}
