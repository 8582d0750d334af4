using AnycastDns.Protocol;
using AnycastDns.Server.Transfers;
using Microsoft.Extensions.Configuration;

namespace AnycastDns.Server.Secondary;

/// <summary>A zone this server is a secondary for, and its primaries in the order they are tried.</summary>
public sealed record SecondaryZoneOptions(DnsName Origin, IReadOnlyList<NotifyTarget> Primaries)
{
    public override string ToString() => $"{Origin} from {string.Join(", ", Primaries)}";
}

/// <summary>Keys <c>Secondary:*</c>: zones transferred from hidden primaries (RFC 5936, RFC 1995, RFC 1996).</summary>
public sealed class SecondaryOptions
{
    /// <summary><c>Secondary:StateFolder</c>: where each transferred version and its timers are kept across restarts.</summary>
    public string? StateFolder { get; init; }

    /// <summary><c>Secondary:Zones</c>: each { Origin, Primaries: ["addr:port key:NAME", ...] }, or the string "origin primary[; primary...]".</summary>
    public IReadOnlyList<SecondaryZoneOptions> Zones { get; init; } = [];

    /// <summary><c>Secondary:TransferTimeoutSeconds</c>: the longest one SOA query or transfer may take (default 60).</summary>
    public TimeSpan TransferTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public bool Enabled => Zones.Count > 0;

    public static SecondaryOptions FromConfiguration(IConfiguration configuration, string? keysFile)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var zones = new List<SecondaryZoneOptions>();
        var section = configuration.GetSection("Secondary:Zones");
        foreach (var entry in section.GetChildren().OrderBy(c => int.TryParse(c.Key, System.Globalization.CultureInfo.InvariantCulture, out int i) ? i : int.MaxValue))
        {
            string where = $"Secondary:Zones:{entry.Key}";
            string? originText;
            List<string> primaries;
            if (entry.Value is { Length: > 0 } compact)
            {
                // The command-line form: "example.net. 192.0.2.1:53 key:xfr; [2001:db8::1]:53".
                string trimmed = compact.Trim();
                int space = trimmed.IndexOfAny([' ', '\t']);
                originText = space < 0 ? trimmed : trimmed[..space];
                primaries = space < 0 ? [] : [.. trimmed[(space + 1)..].Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
            }
            else
            {
                originText = entry["Origin"];
                primaries = [.. entry.GetSection("Primaries").GetChildren().Select(c => c.Value ?? "")];
            }
            if (string.IsNullOrWhiteSpace(originText) || !DnsName.TryParse(originText.EndsWith('.') ? originText : originText + ".", null, out var origin, out string? error))
            {
                throw new ConfigurationException($"{where}: '{originText}' is not a zone origin");
            }
            if (primaries.Count == 0)
            {
                throw new ConfigurationException($"{where}: zone {origin} has no primaries");
            }
            var targets = new List<NotifyTarget>();
            foreach (string primary in primaries)
            {
                try
                {
                    targets.Add(NotifyTarget.Parse(primary));
                }
                catch (FormatException e)
                {
                    throw new ConfigurationException($"{where}: primary {e.Message}", e);
                }
            }
            if (keysFile is null && targets.FirstOrDefault(t => t.KeyName is not null) is { } keyed)
            {
                throw new ConfigurationException($"{where}: '{keyed}' names a TSIG key, but there is no Transfers:KeysFile");
            }
            origin = origin.ToLowerCase();
            if (zones.Any(z => z.Origin == origin))
            {
                throw new ConfigurationException($"{where}: zone {origin} is configured twice");
            }
            zones.Add(new SecondaryZoneOptions(origin, targets));
        }
        string? state = configuration["Secondary:StateFolder"] is { Length: > 0 } s ? s : null;
        if (zones.Count > 0 && state is null)
        {
            throw new ConfigurationException("Secondary:StateFolder: required with Secondary:Zones (each transferred version is kept there)");
        }
        return new SecondaryOptions
        {
            StateFolder = state,
            Zones = zones,
            TransferTimeout = TimeSpan.FromSeconds(ServerOptions.Double(configuration, "Secondary:TransferTimeoutSeconds", 1, 3600, 60)),
        };
    }
}
