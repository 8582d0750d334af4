namespace AnycastDns.TestSupport;

/// <summary>A master file and the origin it is loaded at: <c>example.test.zone</c> holds the zone <c>example.test</c>.</summary>
/// <param name="Origin">The zone's apex, without the trailing dot.</param>
/// <param name="Path">Absolute path of the file.</param>
public sealed record ZoneFile(string Origin, string Path)
{
    public const string Extension = ".zone";

    /// <summary>Every <c>*.zone</c> file in <paramref name="folder"/>, ordered by origin (ordinal).</summary>
    public static IReadOnlyList<ZoneFile> FindIn(string folder)
    {
        var full = System.IO.Path.GetFullPath(folder);
        if (!Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"{full}: zone folder does not exist");
        }
        var zones = new List<ZoneFile>();
        foreach (var file in Directory.EnumerateFiles(full, "*" + Extension))
        {
            var name = System.IO.Path.GetFileName(file);
            zones.Add(new ZoneFile(name[..^Extension.Length], file));
        }
        if (zones.Count == 0)
        {
            throw new InvalidOperationException($"{full}: no *{Extension} files");
        }
        zones.Sort((a, b) => string.CompareOrdinal(a.Origin, b.Origin));
        return zones;
    }
}
