using AnycastDns.Protocol;
using AnycastDns.Server.Transfers;
using Microsoft.Extensions.Configuration;

namespace AnycastDns.Server.Secondary;

/// <summary>A zone this server is a secondary for, and its primaries in the order they are tried.</summary>
public sealed record SecondaryZoneOptions(DnsName Origin, IReadOnlyList<NotifyTarget> Primaries)
{
    public override string ToString() => $"{Origin} from {string.Join(", ", Primaries)}";
}

/// <summary>
/// A catalog zone this server consumes (RFC 9432, schema version 2): transferred from <paramref name="Primaries"/>,
/// each member a secondary zone of the same primaries, or of the primaries of its <c>group</c> property's entry in
/// <paramref name="Groups"/> (RFC 9432 §4.4.2 leaves what a group means to the consumer's configuration).
/// </summary>
public sealed record CatalogOptions(DnsName Origin, IReadOnlyList<NotifyTarget> Primaries, IReadOnlyDictionary<string, IReadOnlyList<NotifyTarget>> Groups)
{
    /// <summary>The catalog zone itself, refreshed like any secondary zone.</summary>
    public SecondaryZoneOptions Zone { get; } = new(Origin, Primaries);

    public override string ToString() => $"catalog {Origin} from {string.Join(", ", Primaries)}";
}

/// <summary>Keys <c>Secondary:*</c>: zones transferred from hidden primaries (RFC 5936, RFC 1995, RFC 1996).</summary>
public sealed class SecondaryOptions
{
    /// <summary><c>Secondary:StateFolder</c>: where each transferred version and its timers are kept across restarts.</summary>
    public string? StateFolder { get; init; }

    /// <summary><c>Secondary:Zones</c>: each { Origin, Primaries: ["addr:port key:NAME", ...] }, or the string "origin primary[; primary...]".</summary>
    public IReadOnlyList<SecondaryZoneOptions> Zones { get; init; } = [];

    /// <summary>
    /// <c>Secondary:Catalogs</c>: each { Origin, Primaries: [...], Groups: { "group": [primaries...] } }, or the string
    /// "origin primary[; primary...]": catalog zones whose members become secondary zones (RFC 9432).
    /// </summary>
    public IReadOnlyList<CatalogOptions> Catalogs { get; init; } = [];

    /// <summary><c>Secondary:TransferTimeoutSeconds</c>: the longest one SOA query or transfer may take (default 60).</summary>
    public TimeSpan TransferTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// <c>Secondary:MaxConcurrentRefreshes</c>: how many zones may be checking their primaries (SOA query, then a
    /// transfer) at once (default 32). A catalog of thousands of members starts a refresh for each at once; a primary
    /// does not serve thousands of TCP connections together (Knot left 58 of 3,000 SOA queries unanswered until our
    /// 60 s timeout), so the rest wait their turn here, as NSD's <c>xfrd-tcp-max</c> makes them.
    /// </summary>
    public int MaxConcurrentRefreshes { get; init; } = 32;

    public bool Enabled => Zones.Count > 0 || Catalogs.Count > 0;

    public static SecondaryOptions FromConfiguration(IConfiguration configuration, string? keysFile)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var zones = new List<SecondaryZoneOptions>();
        foreach (var entry in Entries(configuration, "Secondary:Zones"))
        {
            var zone = ParseEntry(entry, $"Secondary:Zones:{entry.Key}", keysFile);
            if (zones.Any(z => z.Origin == zone.Origin))
            {
                throw new ConfigurationException($"Secondary:Zones:{entry.Key}: zone {zone.Origin} is configured twice");
            }
            zones.Add(zone);
        }
        var catalogs = new List<CatalogOptions>();
        foreach (var entry in Entries(configuration, "Secondary:Catalogs"))
        {
            string where = $"Secondary:Catalogs:{entry.Key}";
            var catalog = ParseEntry(entry, where, keysFile);
            if (zones.Any(z => z.Origin == catalog.Origin) || catalogs.Any(c => c.Origin == catalog.Origin))
            {
                throw new ConfigurationException($"{where}: zone {catalog.Origin} is configured twice");
            }
            var groups = new Dictionary<string, IReadOnlyList<NotifyTarget>>(StringComparer.Ordinal);
            foreach (var group in entry.GetSection("Groups").GetChildren())
            {
                string groupWhere = $"{where}:Groups:{group.Key}";
                var primaries = group.Value is { Length: > 0 } one
                    ? one.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList()
                    : group.GetChildren().Select(c => c.Value ?? "").ToList();
                if (primaries.Count == 0)
                {
                    throw new ConfigurationException($"{groupWhere}: group '{group.Key}' has no primaries");
                }
                groups[group.Key] = Primaries(primaries, groupWhere, keysFile);
            }
            catalogs.Add(new CatalogOptions(catalog.Origin, catalog.Primaries, groups));
        }
        string? state = configuration["Secondary:StateFolder"] is { Length: > 0 } s ? s : null;
        if ((zones.Count > 0 || catalogs.Count > 0) && state is null)
        {
            throw new ConfigurationException("Secondary:StateFolder: required with Secondary:Zones or Secondary:Catalogs (each transferred version is kept there)");
        }
        return new SecondaryOptions
        {
            StateFolder = state,
            Zones = zones,
            Catalogs = catalogs,
            TransferTimeout = TimeSpan.FromSeconds(ServerOptions.Double(configuration, "Secondary:TransferTimeoutSeconds", 1, 3600, 60)),
            MaxConcurrentRefreshes = ServerOptions.Int(configuration, "Secondary:MaxConcurrentRefreshes", 1, 10_000, 32),
        };
    }

    /// <summary>The entries of a list section, in their index order.</summary>
    private static IEnumerable<IConfigurationSection> Entries(IConfiguration configuration, string key) =>
        configuration.GetSection(key).GetChildren().OrderBy(c => int.TryParse(c.Key, System.Globalization.CultureInfo.InvariantCulture, out int i) ? i : int.MaxValue);

    /// <summary>One zone entry: { Origin, Primaries } or the compact "origin primary[; primary...]".</summary>
    private static SecondaryZoneOptions ParseEntry(IConfigurationSection entry, string where, string? keysFile)
    {
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
        if (string.IsNullOrWhiteSpace(originText) || !DnsName.TryParse(originText.EndsWith('.') ? originText : originText + ".", null, out var origin, out _))
        {
            throw new ConfigurationException($"{where}: '{originText}' is not a zone origin");
        }
        if (primaries.Count == 0)
        {
            throw new ConfigurationException($"{where}: zone {origin} has no primaries");
        }
        return new SecondaryZoneOptions(origin.ToLowerCase(), Primaries(primaries, where, keysFile));
    }

    private static List<NotifyTarget> Primaries(List<string> primaries, string where, string? keysFile)
    {
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
        return targets;
    }
}
