using System.Globalization;
using System.Text;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Transfers;

/// <summary>
/// Two real <c>anycastdns serve</c> processes on 127.0.0.1 serving the same zones (tests/zones and the signed test
/// zones): <see cref="Open"/> lets 127.0.0.1 transfer (signed or not), <see cref="Keyed"/> only requests signed with
/// <see cref="Key"/>. Both have the keys file and a status endpoint.
/// </summary>
public sealed class TransferFixture : IAsyncLifetime
{
    public const string Name = "Transfers";

    /// <summary>The key both servers know; the secondaries are given it, or the same name with <see cref="WrongSecret"/>.</summary>
    public static readonly TsigKeyText Key = new("xfr-key", "hmac-sha256", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=");

    public const string WrongSecret = "d3JvbmdzZWNyZXR3cm9uZ3NlY3JldHdyb25nc2VjcmV0";

    /// <summary>A second key in the file, hmac-sha512, allowed nowhere.</summary>
    public static readonly TsigKeyText OtherKey = new("other-key", "hmac-sha512", "b3RoZXJzZWNyZXRvdGhlcnNlY3JldG90aGVyc2VjcmV0b3RoZXJzZWNyZXQ=");

    private string _folder = "";

    public string ZonesFolder => Path.Combine(_folder, "zones");

    public string KeysFile => Path.Combine(_folder, "keys.conf");

    /// <summary>Zone origins with the final dot, every one of <see cref="ZonesFolder"/>.</summary>
    public IReadOnlyList<string> Origins { get; private set; } = [];

    public AnycastDnsServer Open { get; private set; } = null!;

    public int OpenHttp { get; private set; }

    public AnycastDnsServer Keyed { get; private set; } = null!;

    public int KeyedHttp { get; private set; }

    public async Task InitializeAsync()
    {
        _folder = Directory.CreateTempSubdirectory("anycastdns-transfers-").FullName;
        Directory.CreateDirectory(ZonesFolder);
        foreach (string file in Directory.GetFiles(RepositoryPaths.TestZones, "*.zone"))
        {
            File.Copy(file, Path.Combine(ZonesFolder, Path.GetFileName(file)));
        }
        foreach (var zone in (await SignedTestZones.GetAsync()).Zones)
        {
            File.Copy(zone.Path, Path.Combine(ZonesFolder, Path.GetFileName(zone.Path)));
        }
        Origins = [.. Directory.GetFiles(ZonesFolder, "*.zone").Select(f => Path.GetFileName(f)[..^"zone".Length]).Order(StringComparer.Ordinal)];
        File.WriteAllText(KeysFile, KeysFileText(Key, OtherKey));

        OpenHttp = LoopbackPort.FindFreeForUdpAndTcp();
        Open = await AnycastDnsServer.StartAsync(ZonesFolder,
            ["--allow-transfer", "127.0.0.1/32", "--tsig-keys", KeysFile, "--http", $"127.0.0.1:{OpenHttp}", "--no-watch"], ["127.0.0.1"]);
        KeyedHttp = LoopbackPort.FindFreeForUdpAndTcp();
        Keyed = await AnycastDnsServer.StartAsync(ZonesFolder,
            ["--allow-transfer", "key:" + Key.Name, "--tsig-keys", KeysFile, "--http", $"127.0.0.1:{KeyedHttp}", "--no-watch"], ["127.0.0.1"]);
    }

    public async Task DisposeAsync()
    {
        if (Open is not null)
        {
            await Open.DisposeAsync();
        }
        if (Keyed is not null)
        {
            await Keyed.DisposeAsync();
        }
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>The keys in BIND's syntax, as <c>tsig-keygen</c> writes them.</summary>
    public static string KeysFileText(params TsigKeyText[] keys)
    {
        var text = new StringBuilder();
        foreach (var key in keys)
        {
            text.Append(CultureInfo.InvariantCulture, $"key \"{key.Name}\" {{\n\talgorithm {key.Algorithm};\n\tsecret \"{key.Secret}\";\n}};\n");
        }
        return text.ToString();
    }

    /// <summary>
    /// The records of a <c>kdig AXFR</c> output, one normalised line each (fields separated by one space, owner in
    /// lower case), sorted: two outputs of the same zone compare equal whatever the server's order of records.
    /// </summary>
    public static List<string> Records(string kdigOutput) =>
        [.. kdigOutput.Split('\n')
            .Where(line => line.Length > 0 && !line.StartsWith(';'))
            .Select(line => line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Select(fields => string.Join(' ', [fields[0].ToLowerInvariant(), .. fields[1..]]))
            .Order(StringComparer.Ordinal)];
}

[CollectionDefinition(TransferFixture.Name, DisableParallelization = true)]
public sealed class TransferCollection : ICollectionFixture<TransferFixture>;
