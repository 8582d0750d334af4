using Microsoft.Extensions.Configuration;

namespace AnycastDns.Server.RateLimiting;

/// <summary>The settings of response rate limiting (keys <c>Rrl:*</c>).</summary>
public sealed class RateLimitOptions
{
    /// <summary>Key <c>Rrl:ResponsesPerSecond</c>: responses a bucket may get each second; 0 turns rate limiting off. 200 is NSD's default.</summary>
    public int ResponsesPerSecond { get; init; } = 200;

    /// <summary>
    /// Key <c>Rrl:WindowSeconds</c>: how far back a bucket remembers (BIND's <c>window</c>, 15 s): a flood runs the
    /// bucket into debt of up to this many seconds of responses, so a burst is judged against the recent rate.
    /// </summary>
    public int WindowSeconds { get; init; } = 15;

    /// <summary>Key <c>Rrl:Slip</c>: every Nth limited response goes out as a small truncated answer; 0 drops all, 1 drops none.</summary>
    public int Slip { get; init; } = 2;

    /// <summary>Key <c>Rrl:IPv4PrefixLength</c>: clients in one IPv4 prefix this long share their buckets.</summary>
    public int IPv4PrefixLength { get; init; } = 24;

    /// <summary>Key <c>Rrl:IPv6PrefixLength</c>: clients in one IPv6 prefix this long share their buckets.</summary>
    public int IPv6PrefixLength { get; init; } = 56;

    /// <summary>Key <c>Rrl:Exempt</c> (a list): clients never limited; loopback by default, so self-checks and the watchdog never are.</summary>
    public IReadOnlyList<AddressPrefix> Exempt { get; init; } = [AddressPrefix.Parse("127.0.0.0/8"), AddressPrefix.Parse("::1/128")];

    /// <summary>Key <c>Rrl:LogOnly</c>: count and log what would be limited, and limit nothing (for rolling it out).</summary>
    public bool LogOnly { get; init; }

    /// <summary>Key <c>Rrl:TableSize</c>: buckets kept, allocated once at start; when full, the least recently used are reused.</summary>
    public int TableSize { get; init; } = 1_000_000;

    public bool Enabled => ResponsesPerSecond > 0;

    /// <summary>Reads the <c>Rrl:*</c> keys; throws <see cref="ConfigurationException"/> naming the key of a bad value.</summary>
    public static RateLimitOptions FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var defaults = new RateLimitOptions();
        return new RateLimitOptions
        {
            ResponsesPerSecond = ServerOptions.Int(configuration, "Rrl:ResponsesPerSecond", 0, 1_000_000, defaults.ResponsesPerSecond),
            WindowSeconds = ServerOptions.Int(configuration, "Rrl:WindowSeconds", 1, 3600, defaults.WindowSeconds),
            Slip = ServerOptions.Int(configuration, "Rrl:Slip", 0, 10, defaults.Slip),
            IPv4PrefixLength = ServerOptions.Int(configuration, "Rrl:IPv4PrefixLength", 0, 32, defaults.IPv4PrefixLength),
            IPv6PrefixLength = ServerOptions.Int(configuration, "Rrl:IPv6PrefixLength", 0, 128, defaults.IPv6PrefixLength),
            Exempt = ExemptList(configuration) ?? defaults.Exempt,
            LogOnly = ServerOptions.Bool(configuration, "Rrl:LogOnly", defaults.LogOnly),
            TableSize = ServerOptions.Int(configuration, "Rrl:TableSize", 1024, 100_000_000, defaults.TableSize),
        };
    }

    /// <summary>The configured exemptions, or null when the key is absent; <c>none</c> (or an empty value) exempts nobody.</summary>
    private static List<AddressPrefix>? ExemptList(IConfiguration configuration)
    {
        var section = configuration.GetSection("Rrl:Exempt");
        var texts = section.GetChildren().Select(c => c.Value ?? "").ToList();
        if (texts.Count == 0)
        {
            if (section.Value is null)
            {
                return null;
            }
            texts = [.. section.Value.Split(',', StringSplitOptions.TrimEntries)];
        }
        var list = new List<AddressPrefix>();
        foreach (var text in texts.Select(t => t.Trim()).Where(t => t.Length > 0 && !t.Equals("none", StringComparison.OrdinalIgnoreCase)))
        {
            try
            {
                list.Add(AddressPrefix.Parse(text));
            }
            catch (FormatException e)
            {
                throw new ConfigurationException($"Rrl:Exempt: {e.Message}", e);
            }
        }
        return list;
    }
}
