using AnycastDns.Server.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Logs;

namespace AnycastDns.Server;

/// <summary>
/// The console log of every command that logs (<c>serve</c>, <c>watchdog</c>): one place that says what a line looks
/// like, so that the server and the sidecar beside it write the same format.
/// </summary>
public static class ConsoleLogging
{
    /// <summary>
    /// One line per entry, UTC timestamps to the millisecond. A full queue drops lines rather than block the thread that
    /// logs: a receive thread, or the watchdog's probe loop.
    /// </summary>
    public static ILoggingBuilder AddSingleLineConsole(this ILoggingBuilder logging)
    {
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        logging.Services.Configure<ConsoleLoggerOptions>(o => o.QueueFullMode = ConsoleLoggerQueueFullMode.DropWrite);
        return logging;
    }

    /// <summary>The server's console log in the configured format (<c>Telemetry:LogFormat</c>), and OTLP logs when configured.</summary>
    public static ILoggingBuilder AddAnycastDnsConsole(this ILoggingBuilder logging, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Telemetry.LogFormat == LogFormat.Json)
        {
            logging.AddConsole(o =>
            {
                o.FormatterName = JsonLogFormatter.FormatterName;
                o.QueueFullMode = ConsoleLoggerQueueFullMode.DropWrite;
            });
            // What AddConsoleFormatter does, less binding the formatter's options to configuration by reflection, which
            // a native (AOT) build cannot do: its only option, the PoP's id, comes from the server's own options.
            logging.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, JsonLogFormatter>());
            logging.Services.Configure<JsonLogFormatterOptions>(o => o.PopId = options.PopId);
        }
        else
        {
            logging.AddSingleLineConsole();
        }
        if (options.Telemetry.OtlpLogs)
        {
            logging.AddOpenTelemetry(o =>
            {
                o.IncludeFormattedMessage = true;
                o.ParseStateValues = true;
            });
        }
        return logging;
    }
}
