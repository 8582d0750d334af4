using System.Text.Json;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Telemetry;

/// <summary>One sample of a scrape: the series name, its labels and its value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(params (string Label, string Value)[] labels) => labels.All(l => Labels.TryGetValue(l.Label, out var v) && v == l.Value);
}

/// <summary>
/// Reads a Prometheus scrape with a parser nobody here wrote: the Prometheus project's Python client
/// (<c>prometheus_client.parser</c>, Debian's python3-prometheus-client), run by Debian's own python3.
/// </summary>
public static class PrometheusText
{
    private const string Python = "/usr/bin/python3";

    /// <summary>The text format 0.0.4 parser, or with "openmetrics" as second argument the stricter OpenMetrics 1.0 one.</summary>
    private const string Script = """
        import json, sys
        if sys.argv[2:] == ["openmetrics"]:
            from prometheus_client.openmetrics.parser import text_string_to_metric_families
        else:
            from prometheus_client.parser import text_string_to_metric_families
        samples = []
        for family in text_string_to_metric_families(open(sys.argv[1]).read()):
            for s in family.samples:
                samples.append({"type": family.type, "name": s.name, "labels": s.labels, "value": s.value})
        print(json.dumps(samples))
        """;

    public static async Task<IReadOnlyList<PrometheusSample>> ParseAsync(string text, bool openMetrics = false)
    {
        ExternalTool.RequireInstalled("/usr/lib/python3/dist-packages/prometheus_client/parser.py", "python3-prometheus-client");
        string file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, text);
            var result = await ExternalTool.RunAsync(Python, ["-c", Script, file, .. (openMetrics ? ["openmetrics"] : Array.Empty<string>())], TimeSpan.FromSeconds(60));
            Assert.True(result.ExitCode == 0, $"prometheus_client could not parse the scrape:\n{result.Output}\n{text}");
            using var json = JsonDocument.Parse(result.StandardOutput);
            return [.. json.RootElement.EnumerateArray().Select(s => new PrometheusSample(
                s.GetProperty("name").GetString()!,
                s.GetProperty("labels").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!),
                s.GetProperty("value").GetDouble()))];
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The value of the one sample named <paramref name="name"/> with these labels; fails when there is not exactly one.</summary>
    public static double Value(this IReadOnlyList<PrometheusSample> samples, string name, params (string Label, string Value)[] labels)
    {
        var matching = samples.Where(s => s.Name == name && s.Has(labels)).ToList();
        Assert.True(matching.Count == 1, $"{matching.Count} samples {name}{{{string.Join(",", labels.Select(l => $"{l.Label}=\"{l.Value}\""))}}}; "
            + $"there are: {string.Join("\n", samples.Where(s => s.Name == name).Select(s => string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}")) + " " + s.Value))}");
        return matching[0].Value;
    }
}
