using System.Globalization;

namespace AnycastDns.TestSupport.Lab;

/// <summary>
/// Reads the Prometheus text exposition format as <c>/metrics</c> serves it: <c>name{label="value",...} number</c>, one
/// sample a line, <c>#</c> lines for help and type.
/// </summary>
public static class PrometheusText
{
    /// <summary>
    /// The sum of the samples of <paramref name="metric"/> whose labels include every one of <paramref name="labels"/>
    /// (others may be there too); 0 when there is none.
    /// </summary>
    public static double Sum(string text, string metric, params (string Name, string Value)[] labels)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(metric);
        ArgumentNullException.ThrowIfNull(labels);
        double sum = 0;
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#' || !line.StartsWith(metric, StringComparison.Ordinal))
            {
                continue;
            }
            string rest = line[metric.Length..];
            string labelText = "";
            if (rest.StartsWith('{'))
            {
                int close = rest.IndexOf('}', StringComparison.Ordinal);
                if (close < 0)
                {
                    throw new FormatException($"unreadable metrics line '{line}'");
                }
                labelText = rest[1..close];
                rest = rest[(close + 1)..];
            }
            else if (!rest.StartsWith(' '))
            {
                continue; // another metric whose name starts with this one
            }
            if (!labels.All(l => ("," + labelText).Contains($",{l.Name}=\"{l.Value}\"", StringComparison.Ordinal)))
            {
                continue;
            }
            // The value, then an optional timestamp.
            string value = rest.Trim().Split(' ')[0];
            sum += double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        return sum;
    }
}
