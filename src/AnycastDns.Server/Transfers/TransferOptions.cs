using Microsoft.Extensions.Configuration;

namespace AnycastDns.Server.Transfers;

/// <summary>The settings of zone transfers out (keys <c>Transfers:*</c>).</summary>
public sealed class TransferOptions
{
    /// <summary>Key <c>Transfers:Allow</c> (a list): address prefixes and <c>key:&lt;name&gt;</c> entries; nobody by default.</summary>
    public TransferAllowList Allow { get; init; } = TransferAllowList.Nobody;

    /// <summary>Key <c>Transfers:KeysFile</c>: the TSIG keys (BIND syntax, <see cref="TsigKeyFile"/>); none by default.</summary>
    public string? KeysFile { get; init; }

    /// <summary>Key <c>Transfers:MaxConcurrent</c>: transfers running at once over the whole server; more are REFUSED.</summary>
    public int MaxConcurrent { get; init; } = 10;

    /// <summary>
    /// Key <c>Transfers:History</c>: per zone, how many older versions IXFR can answer from with a difference
    /// (RFC 1995 §4); 0 answers every IXFR with the whole zone.
    /// </summary>
    public int History { get; init; } = 20;

    /// <summary>Key <c>Transfers:HistoryPercent</c>: the most a zone's kept differences may take, in percent of the zone's own size.</summary>
    public int HistoryPercent { get; init; } = 10;

    /// <summary>Key <c>Transfers:Notify</c> (a list): the secondaries sent a NOTIFY on each new serial (<see cref="NotifyTarget"/>); none by default.</summary>
    public IReadOnlyList<NotifyTarget> Notify { get; init; } = [];

    /// <summary>
    /// Key <c>Transfers:NotifySource</c>: the address NOTIFYs leave from, the PoP's own unicast address (a secondary
    /// checks the source, and answers to it; an anycast address would bring the answer to another PoP). Default: the
    /// operating system picks, by the route to each secondary.
    /// </summary>
    public System.Net.IPAddress? NotifySource { get; init; }

    /// <summary>Key <c>Transfers:NotifyAttempts</c>: NOTIFYs sent to a secondary for one serial before giving up.</summary>
    public int NotifyAttempts { get; init; } = 5;

    /// <summary>Key <c>Transfers:NotifyIntervalSeconds</c>: how long each NOTIFY waits for its answer before the next is sent.</summary>
    public TimeSpan NotifyInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Reads the <c>Transfers:*</c> keys; throws <see cref="ConfigurationException"/> naming the key of a bad value.</summary>
    public static TransferOptions FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var defaults = new TransferOptions();
        var entries = List(configuration, "Transfers:Allow");
        TransferAllowList allow;
        try
        {
            allow = TransferAllowList.Parse(entries);
        }
        catch (FormatException e)
        {
            throw new ConfigurationException($"Transfers:Allow: {e.Message}", e);
        }
        string? keysFile = configuration["Transfers:KeysFile"] is { Length: > 0 } k ? k : null;
        if (keysFile is not null && Directory.Exists(keysFile))
        {
            throw new ConfigurationException($"Transfers:KeysFile: '{keysFile}' is a folder, not a file of TSIG keys");
        }
        if (keysFile is not null && !File.Exists(keysFile))
        {
            throw new ConfigurationException($"Transfers:KeysFile: '{keysFile}' does not exist");
        }
        if (keysFile is null && allow.Keys.Count > 0)
        {
            throw new ConfigurationException($"Transfers:Allow: {TransferAllowList.KeyPrefix}{allow.Keys[0]} names a TSIG key, but there is no Transfers:KeysFile");
        }
        var notify = new List<NotifyTarget>();
        foreach (string entry in List(configuration, "Transfers:Notify"))
        {
            try
            {
                notify.Add(NotifyTarget.Parse(entry));
            }
            catch (FormatException e)
            {
                throw new ConfigurationException($"Transfers:Notify: {e.Message}", e);
            }
        }
        if (keysFile is null && notify.FirstOrDefault(n => n.KeyName is not null) is { } keyed)
        {
            throw new ConfigurationException($"Transfers:Notify: '{keyed}' names a TSIG key, but there is no Transfers:KeysFile");
        }
        string? source = configuration["Transfers:NotifySource"] is { Length: > 0 } s ? s.Trim() : null;
        System.Net.IPAddress? sourceAddress = null;
        if (source is not null && (!System.Net.IPAddress.TryParse(source, out sourceAddress) || source.Contains(':', StringComparison.Ordinal) != (sourceAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)))
        {
            throw new ConfigurationException($"Transfers:NotifySource: '{source}' is not an IP address");
        }
        if (sourceAddress is not null && notify.FirstOrDefault(n => n.EndPoint.AddressFamily != sourceAddress.AddressFamily) is { } other)
        {
            throw new ConfigurationException($"Transfers:NotifySource: {sourceAddress} cannot send to {other.EndPoint} (another address family)");
        }
        return new TransferOptions
        {
            Allow = allow,
            KeysFile = keysFile,
            MaxConcurrent = ServerOptions.Int(configuration, "Transfers:MaxConcurrent", 1, 10_000, defaults.MaxConcurrent),
            History = ServerOptions.Int(configuration, "Transfers:History", 0, 1_000, defaults.History),
            HistoryPercent = ServerOptions.Int(configuration, "Transfers:HistoryPercent", 1, 100, defaults.HistoryPercent),

            Notify = notify,
            NotifySource = sourceAddress,
            NotifyAttempts = ServerOptions.Int(configuration, "Transfers:NotifyAttempts", 1, 100, defaults.NotifyAttempts),
            NotifyInterval = TimeSpan.FromSeconds(ServerOptions.Double(configuration, "Transfers:NotifyIntervalSeconds", 0.05, 3600, defaults.NotifyInterval.TotalSeconds)),
        };
    }

    /// <summary>
    /// The entries of a list key, in order: <c>Key:0</c>, <c>Key:1</c>... (a JSON array, repeated options), or a single
    /// value (an environment variable such as <c>ANYCASTDNS_TRANSFERS__ALLOW</c>) listing several, separated by commas.
    /// </summary>
    private static List<string> List(IConfiguration configuration, string key)
    {
        var section = configuration.GetSection(key);
        var entries = section.GetChildren()
            .OrderBy(c => int.TryParse(c.Key, System.Globalization.CultureInfo.InvariantCulture, out int i) ? i : int.MaxValue)
            .Select(c => c.Value ?? "").ToList();
        if (entries.Count == 0 && section.Value is { Length: > 0 } single)
        {
            entries = [.. single.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }
        return entries;
    }
}
