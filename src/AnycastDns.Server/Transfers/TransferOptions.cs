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

    /// <summary>Reads the <c>Transfers:*</c> keys; throws <see cref="ConfigurationException"/> naming the key of a bad value.</summary>
    public static TransferOptions FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var defaults = new TransferOptions();
        var section = configuration.GetSection("Transfers:Allow");
        var entries = section.GetChildren()
            .OrderBy(c => int.TryParse(c.Key, System.Globalization.CultureInfo.InvariantCulture, out int i) ? i : int.MaxValue)
            .Select(c => c.Value ?? "").ToList();
        // A single value (an environment variable ANYCASTDNS_TRANSFERS__ALLOW) may list several, separated by commas.
        if (entries.Count == 0 && section.Value is { Length: > 0 } single)
        {
            entries = [.. single.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }
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
        return new TransferOptions
        {
            Allow = allow,
            KeysFile = keysFile,
            MaxConcurrent = ServerOptions.Int(configuration, "Transfers:MaxConcurrent", 1, 10_000, defaults.MaxConcurrent),
            History = ServerOptions.Int(configuration, "Transfers:History", 0, 1_000, defaults.History),
            HistoryPercent = ServerOptions.Int(configuration, "Transfers:HistoryPercent", 1, 100, defaults.HistoryPercent),
        };
    }
}
