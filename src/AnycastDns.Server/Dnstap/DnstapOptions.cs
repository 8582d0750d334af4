using System.Net;
using Microsoft.Extensions.Configuration;

namespace AnycastDns.Server.Dnstap;

/// <summary>The settings of dnstap output (keys <c>Dnstap:*</c>); off unless a socket or a TCP collector is named.</summary>
public sealed class DnstapOptions
{
    /// <summary>Key <c>Dnstap:Socket</c>: the Unix socket of a Frame Streams collector (<c>fstrm_capture -u</c>, <c>dnstap -u</c>).</summary>
    public string? Socket { get; init; }

    /// <summary>Key <c>Dnstap:Tcp</c>: ip:port of a Frame Streams collector over TCP, instead of a Unix socket.</summary>
    public IPEndPoint? Tcp { get; init; }

    /// <summary>Key <c>Dnstap:LogQueries</c>: send AUTH_QUERY messages.</summary>
    public bool LogQueries { get; init; } = true;

    /// <summary>Key <c>Dnstap:LogResponses</c>: send AUTH_RESPONSE messages.</summary>
    public bool LogResponses { get; init; } = true;

    /// <summary>Key <c>Dnstap:OneIn</c>: send one query in this many (per receive thread), with its response; 1 sends all.</summary>
    public int OneIn { get; init; } = 1;

    /// <summary>
    /// Key <c>Dnstap:Responses</c> (a list): send only the exchanges whose response is of one of these classes
    /// (<see cref="DnstapResponses"/>); all by default.
    /// </summary>
    public DnstapResponses Responses { get; init; } = DnstapResponses.All;

    /// <summary>Key <c>Dnstap:RingKilobytes</c>: the ring each receive thread copies messages into, allocated once.</summary>
    public int RingKilobytes { get; init; } = 1024;

    public bool Enabled => Socket is not null || Tcp is not null;

    /// <summary>Where the collector is, for log lines.</summary>
    public string Collector => Socket is not null ? $"unix:{Socket}" : $"tcp:{Tcp}";

    /// <summary>Reads the <c>Dnstap:*</c> keys; throws <see cref="ConfigurationException"/> naming the key of a bad value.</summary>
    public static DnstapOptions FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var defaults = new DnstapOptions();
        string? socket = configuration["Dnstap:Socket"] is { Length: > 0 } s ? s : null;
        IPEndPoint? tcp = null;
        if (configuration["Dnstap:Tcp"] is { Length: > 0 } text)
        {
            if (!IPEndPoint.TryParse(text, out tcp) || tcp.Port == 0)
            {
                throw new ConfigurationException($"Dnstap:Tcp: '{text}' is not an ip:port (such as 127.0.0.1:6000 or [::1]:6000)");
            }
        }
        if (socket is not null && tcp is not null)
        {
            throw new ConfigurationException("Dnstap:Socket and Dnstap:Tcp are both given; dnstap goes to one collector");
        }
        var options = new DnstapOptions
        {
            Socket = socket,
            Tcp = tcp,
            LogQueries = ServerOptions.Bool(configuration, "Dnstap:LogQueries", defaults.LogQueries),
            LogResponses = ServerOptions.Bool(configuration, "Dnstap:LogResponses", defaults.LogResponses),
            OneIn = ServerOptions.Int(configuration, "Dnstap:OneIn", 1, 1_000_000_000, defaults.OneIn),
            Responses = ResponsesOption(configuration) ?? defaults.Responses,
            RingKilobytes = ServerOptions.Int(configuration, "Dnstap:RingKilobytes", 64, 1024 * 1024, defaults.RingKilobytes),
        };
        if (options.Enabled && !options.LogQueries && !options.LogResponses)
        {
            throw new ConfigurationException("Dnstap:LogQueries and Dnstap:LogResponses are both false; nothing would be sent");
        }
        return options;
    }

    private static DnstapResponses? ResponsesOption(IConfiguration configuration)
    {
        var section = configuration.GetSection("Dnstap:Responses");
        var texts = section.GetChildren().Select(c => c.Value ?? "").ToList();
        if (texts.Count == 0)
        {
            if (section.Value is null)
            {
                return null;
            }
            texts = [.. section.Value.Split(',', StringSplitOptions.TrimEntries)];
        }
        var responses = DnstapResponses.None;
        foreach (var word in texts.Select(t => t.Trim()).Where(t => t.Length > 0))
        {
            if (!DnstapResponseClasses.TryParse(word, out var one))
            {
                throw new ConfigurationException($"Dnstap:Responses: '{word}' is not one of {DnstapResponseClasses.Names}");
            }
            responses |= one;
        }
        if (responses == DnstapResponses.None)
        {
            throw new ConfigurationException("Dnstap:Responses: empty; name at least one class, or 'all'");
        }
        return responses;
    }
}
