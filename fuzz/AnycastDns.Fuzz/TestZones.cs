using AnycastDns.TestSupport;
using AnycastDns.Zones;

namespace AnycastDns.Fuzz;

/// <summary>
/// The zones the responder targets answer from: tests/zones as they are, and tests/zones-dnssec signed as the tests
/// sign them (NSEC, NSEC3, NSEC3 Opt-Out), both loaded with the real <see cref="ZoneLoader"/>. The signed copies are
/// kept in artifacts/fuzz/signed-zones and made again when a source changes or they are a week old, so a fuzzer that
/// starts again (afl-fuzz restarts its target after a crash) does not sign again.
/// </summary>
internal static class TestZones
{
    private static readonly TimeSpan SignedFor = TimeSpan.FromDays(7);

    public static ZoneSet Load()
    {
        var zones = new List<Zone>();
        zones.AddRange(LoadFolder(RepositoryPaths.TestZones));
        zones.AddRange(LoadFolder(SignedFolder()));
        return new ZoneSet(zones);
    }

    private static List<Zone> LoadFolder(string folder)
    {
        var load = ZoneLoader.LoadFolder(folder);
        if (!load.AllSucceeded)
        {
            var errors = load.Results.SelectMany(r => r.Diagnostics).Where(d => d.Severity == Severity.Error);
            throw new InvalidOperationException($"the fuzz zones in {folder} do not load:\n{string.Join('\n', errors)}");
        }
        return [.. load.Results.Select(r => r.Zone!)];
    }

    private static string SignedFolder()
    {
        string folder = Path.Combine(RepositoryPaths.Root, "artifacts", "fuzz", "signed-zones");
        var sources = ZoneFile.FindIn(RepositoryPaths.DnssecZones);
        bool fresh = sources.All(source =>
        {
            var signed = new FileInfo(Path.Combine(folder, source.Origin + ZoneFile.Extension));
            return signed.Exists && signed.LastWriteTimeUtc > File.GetLastWriteTimeUtc(source.Path)
                && DateTime.UtcNow - signed.LastWriteTimeUtc < SignedFor;
        });
        if (fresh)
        {
            return folder;
        }
        string work = folder + ".new";
        if (Directory.Exists(work))
        {
            Directory.Delete(work, recursive: true);
        }
        string keys = Path.Combine(work, "keys");
        foreach (var source in sources)
        {
            string origin = source.Origin + ".";
            var zone = SignedZone.SignAsync(origin, File.ReadAllText(source.Path), SignedTestZones.DenialOf(origin), keys).GetAwaiter().GetResult();
            File.Move(zone.Path, Path.Combine(work, source.Origin + ZoneFile.Extension));
        }
        // The keys stay out of the folder that is loaded: only *.zone files are read, but nothing needs them again.
        Directory.Delete(keys, recursive: true);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
        Directory.Move(work, folder);
        return folder;
    }
}
