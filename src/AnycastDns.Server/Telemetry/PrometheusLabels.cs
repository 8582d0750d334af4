namespace AnycastDns.Server.Telemetry;

/// <summary>Label values in the text exposition format.</summary>
internal static class PrometheusLabels
{
    /// <summary>Backslash, double quote and line feed escaped (text exposition format, OpenMetrics alike).</summary>
    public static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
