using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Zones.Tests;

/// <summary>
/// Reloads that look only at the files a watch of the folder named (<see cref="ZoneCatalog.Reload(IReadOnlyCollection{string}, out IReadOnlyList{ZoneChange})"/>):
/// they read nothing else but what can change unnamed (links, $INCLUDEs), and the catalog they patch together equals
/// the one a reload of every file builds.
/// </summary>
public sealed class ZoneCatalogTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-catalog-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Zone(uint serial, string address = "192.0.2.9") => $"$TTL 60\n@ SOA ns h {serial} 2 3 4 5\n@ NS ns\nns A {address}\n";

    private void Write(string name, string text) => File.WriteAllText(Path.Combine(_folder, name), text);

    private static uint? SerialOf(ZoneCatalog catalog, string origin) => catalog.ZoneSet[DnsName.Parse(origin)]?.Serial;

    [Fact]
    public void A_named_reload_reads_the_named_files_only()
    {
        Write("a.test.zone", Zone(1));
        Write("b.test.zone", Zone(1));
        var catalog = ZoneCatalog.Load(_folder);
        Write("a.test.zone", Zone(2, "192.0.2.10"));
        Write("b.test.zone", Zone(2, "192.0.2.10"));

        var named = catalog.Reload(["b.test.zone"], out var changes);

        var change = Assert.Single(changes);
        Assert.Equal((ZoneChangeKind.Updated, "b.test."), (change.Kind, change.Origin.ToString()));
        Assert.Equal(2u, SerialOf(named, "b.test."));
        Assert.Equal(1u, SerialOf(named, "a.test.")); // changed on disk, but not named: not looked at
        var full = named.Reload(out changes);
        Assert.Equal((ZoneChangeKind.Updated, "a.test."), (Assert.Single(changes).Kind, changes[0].Origin.ToString()));
        Assert.Equal(2u, SerialOf(full, "a.test."));
    }

    [Fact]
    public void A_named_reload_with_nothing_changed_keeps_the_catalog()
    {
        Write("a.test.zone", Zone(1));
        var catalog = ZoneCatalog.Load(_folder);

        Assert.Same(catalog, catalog.Reload(["a.test.zone", "notes.txt", "sub/x.zone"], out var changes));
        Assert.Empty(changes);
    }

    [Fact]
    public void A_named_reload_sees_an_include_and_a_link_change_without_their_names()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "common"));
        var elsewhere = Directory.CreateTempSubdirectory("anycastdns-elsewhere-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(_folder, "common", "hosts.inc"), "www A 192.0.2.1\n");
            Write("inc.test.zone", Zone(1) + "$INCLUDE common/hosts.inc\n");
            File.WriteAllText(Path.Combine(elsewhere, "linked.zone"), Zone(1));
            File.CreateSymbolicLink(Path.Combine(_folder, "linked.test.zone"), Path.Combine(elsewhere, "linked.zone"));
            Write("plain.test.zone", Zone(1));
            var catalog = ZoneCatalog.Load(_folder);
            Assert.Equal(3, catalog.ZoneSet.Count);

            File.WriteAllText(Path.Combine(_folder, "common", "hosts.inc"), "www A 192.0.2.2\n");
            File.WriteAllText(Path.Combine(elsewhere, "linked.zone"), Zone(2, "192.0.2.77"));
            Write("plain.test.zone", Zone(2, "192.0.2.10"));
            var next = catalog.Reload(["common/hosts.inc"], out var changes);

            Assert.Equal(["inc.test.", "linked.test."], changes.Select(c => c.Origin.ToString()).Order(StringComparer.Ordinal));
            Assert.Equal(2u, SerialOf(next, "linked.test."));
            Assert.Equal(1u, SerialOf(next, "plain.test."));
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    /// <summary>
    /// Random edits of a folder (files added, rewritten, broken, removed, and a second file for an origin, which the
    /// later path may not serve), each followed by a named reload of exactly what was touched and by a reload of every
    /// file of a second catalog: the two agree on every file's state and the snapshot, in order.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Named_reloads_build_what_a_reload_of_every_file_builds(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < 30; i++)
        {
            Write($"z{i}.test.zone", Zone(1));
        }
        var named = ZoneCatalog.Load(_folder);
        var whole = ZoneCatalog.Load(_folder);
        uint serial = 1;
        for (int step = 0; step < 40; step++)
        {
            var touched = new List<string>();
            for (int edits = random.Next(1, 4); edits > 0; edits--)
            {
                string name = random.Next(10) == 0 ? $"Z{random.Next(40)}.test.zone" : $"z{random.Next(40)}.test.zone";
                string path = Path.Combine(_folder, name);
                switch (random.Next(4))
                {
                    case 0 when File.Exists(path):
                        File.Delete(path);
                        break;
                    case 1:
                        File.WriteAllText(path, Zone(++serial) + "ns CNAME broken\n");
                        break;
                    default:
                        File.WriteAllText(path, Zone(++serial, $"192.0.2.{random.Next(1, 250)}"));
                        break;
                }
                touched.Add(name);
            }

            named = named.Reload(touched, out var namedChanges);
            whole = whole.Reload(out var wholeChanges);

            string Describe(IReadOnlyList<ZoneChange> changes) => string.Join("; ", changes.Select(c => $"{c.Kind} {c.Path}").Order(StringComparer.Ordinal));
            Assert.Equal(Describe(wholeChanges), Describe(namedChanges));
            Assert.Equal(Summary(whole), Summary(named));
            foreach (var zone in whole.ZoneSet.Zones)
            {
                var wire = zone.Origin.Wire;
                Assert.Same(named.ZoneSet[zone.Origin], named.ZoneSet.FindZone(wire));
                Assert.Null(named.ZoneSet.FindNotReady(wire, named.ZoneSet.FindZone(wire)));
            }
            foreach (var origin in whole.ZoneSet.NotReady)
            {
                Assert.Equal(origin, named.ZoneSet.FindNotReady(origin.Wire, null));
            }
        }
    }

    private static string Summary(ZoneCatalog catalog) => string.Join("\n",
        catalog.Files.Select(f => $"{Path.GetFileName(f.Path)} {f.Origin} served={f.Served?.Serial} ok={f.LastResult.Succeeded}")
            .Concat(catalog.ZoneSet.Zones.Select(z => $"zone {z.Origin} {z.Serial}"))
            .Concat(catalog.ZoneSet.NotReady.Select(o => o.ToString()).Order(StringComparer.Ordinal).Select(o => $"not ready {o}"))
            .Append($"out of memory {catalog.OutOfMemory}"));
}
