using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace AnycastDns.Server.Telemetry;

/// <summary>Settings of <see cref="JsonLogFormatter"/>.</summary>
internal sealed class JsonLogFormatterOptions : ConsoleFormatterOptions
{
    /// <summary>The PoP id written into every line.</summary>
    public string PopId { get; set; } = string.Empty;
}

/// <summary>
/// <c>Logging:Format=json</c>: one JSON object per line: <c>time</c> (UTC, ISO 8601), <c>level</c>, <c>category</c>,
/// <c>pop</c>, <c>message</c>, then each named field of the message template (<c>From</c>, <c>To</c>, <c>Origin</c>,
/// <c>Serial</c>, ...) and <c>exception</c>. The PoP id is written by the formatter rather than kept in a logging
/// scope, so no line can miss it, whichever thread wrote it.
/// </summary>
internal sealed class JsonLogFormatter(IOptionsMonitor<JsonLogFormatterOptions> options) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "anycastdns-json";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        ArgumentNullException.ThrowIfNull(textWriter);
        string message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", DateTimeOffset.UtcNow);
            json.WriteString("level", Level(logEntry.LogLevel));
            json.WriteString("category", logEntry.Category);
            json.WriteString("pop", options.CurrentValue.PopId);
            json.WriteString("message", message);
            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> fields)
            {
                foreach (var (key, value) in fields)
                {
                    // The template itself is the message already; "pop", "time" and the others are ours.
                    if (key is "{OriginalFormat}" or "time" or "level" or "category" or "pop" or "message" or "exception")
                    {
                        continue;
                    }
                    WriteValue(json, key, value);
                }
            }
            if (logEntry.Exception is { } exception)
            {
                json.WriteString("exception", exception.ToString());
            }
            json.WriteEndObject();
        }
        textWriter.Write(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        textWriter.Write('\n');
    }

    private static void WriteValue(Utf8JsonWriter json, string key, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNull(key);
                break;
            case bool b:
                json.WriteBoolean(key, b);
                break;
            case int or long or uint or ushort or short or byte:
                json.WriteNumber(key, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case double or float or decimal:
                json.WriteNumber(key, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
            default:
                json.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
        }
    }

    /// <summary>OpenTelemetry's severity text names (logs data model, "SeverityText"), in lower case.</summary>
    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        LogLevel.Critical => "fatal",
        _ => "none",
    };
}
