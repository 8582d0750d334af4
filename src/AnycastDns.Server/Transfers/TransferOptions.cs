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
        };
    }
}
