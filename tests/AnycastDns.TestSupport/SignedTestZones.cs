namespace AnycastDns.TestSupport;

/// <summary>
/// The zones of tests/zones-dnssec signed into a fresh temporary folder: nsec.test with NSEC, nsec3.test with NSEC3,
/// optout.test with NSEC3 and Opt-Out. Signed once per test process (keys are made per run); the folder is removed at exit.
/// </summary>
public static class SignedTestZones
{
    private static readonly Lazy<Task<SignedZoneSet>> Signed = new(SignAllAsync);

    /// <summary>The signed zones (waits for the signing the first time).</summary>
    public static Task<SignedZoneSet> GetAsync() => Signed.Value;

    /// <summary>The denial each test zone is signed with, by origin.</summary>
    public static DenialKind DenialOf(string origin) => origin switch
    {
        "nsec3.test." => DenialKind.Nsec3,
        "optout.test." => DenialKind.Nsec3OptOut,
        _ => DenialKind.Nsec,
    };

    private static async Task<SignedZoneSet> SignAllAsync()
    {
        string folder = Directory.CreateTempSubdirectory("anycastdns-signed-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(folder, recursive: true);
        string keys = Path.Combine(folder, "keys");
        var zones = new List<SignedZone>();
        foreach (var file in ZoneFile.FindIn(RepositoryPaths.DnssecZones))
        {
            string origin = file.Origin + ".";
            var signed = await SignedZone.SignAsync(origin, await File.ReadAllTextAsync(file.Path).ConfigureAwait(false), DenialOf(origin), keys).ConfigureAwait(false);
            string target = Path.Combine(folder, file.Origin + ZoneFile.Extension);
            File.Move(signed.Path, target);
            zones.Add(signed with { Path = target });
        }
        return new SignedZoneSet(folder, zones);
    }
}

/// <summary>A folder of signed zones, one <c>&lt;origin&gt;.zone</c> each, and what a validator needs to trust them.</summary>
public sealed record SignedZoneSet(string Folder, IReadOnlyList<SignedZone> Zones)
{
    public SignedZone this[string origin] => Zones.Single(z => z.Origin == origin);
}
