using System.Text;
using AnycastDns.Protocol;
using AnycastDns.Protocol.Presentation;
using AnycastDns.Zones;

namespace AnycastDns.Zones.Tests;

/// <summary>
/// An update that shares the nodes it leaves alone with the version served (ZoneUpdate.SharedNodes.cs) makes the zone a
/// whole build of the new text makes: the same names, marks, RRsets, additional-section targets, wildcards and parents,
/// record count and digest, over random sequences of changes to a zone with delegations, glue, a wildcard, CNAMEs and
/// targets of MX, SRV and NS records; and the version served is left exactly as it was.
/// </summary>
public sealed class ZoneUpdateSharingTests
{
    private static readonly string[] Names = ["www", "mail", "mx", "a.deep", "b.a.deep", "c.deep", "srv", "_sip._udp", "host1", "host2", "x.host1", "new1", "n.new2", "wild", "cname", "ns1", "sub"];

    // Owners the random changes touch with plain types: addresses, text, MX and SRV records pointing at other names.
    private static readonly (RecordType Type, string[] Texts)[] Plain =
    [
        (RecordType.A, ["192.0.2.1", "192.0.2.2", "198.51.100.7"]),
        (RecordType.AAAA, ["2001:db8::1", "2001:db8::2"]),
        (RecordType.TXT, ["\"one\"", "\"two\""]),
        (RecordType.MX, ["10 mx", "20 mail", "30 host2"]),
        (RecordType.SRV, ["0 5 5060 host1", "1 1 5061 srv"]),
    ];

    private const string Fixed = """
        @        IN SOA ns1 hostmaster {0} 3600 600 86400 300
        @        IN NS  ns1
        @        IN MX  10 mail
        ns1      IN A   192.0.2.53
        cname    IN CNAME www
        *.wild   IN A   192.0.2.80
        sub      IN NS  ns.sub
        ns.sub   IN A   192.0.2.99
        sub2     IN NS  ns1
        """;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Random_updates_make_the_zone_the_whole_text_makes(int seed)
    {
        var random = new Random(seed);
        var model = new Dictionary<string, List<(RecordType Type, string Text)>>(StringComparer.Ordinal);
        foreach (var name in new[] { "www", "mail", "mx", "host1", "host2", "a.deep", "srv" })
        {
            model[name] = [(RecordType.A, "192.0.2.1")];
        }
        model["mail"].Add((RecordType.MX, "10 mx"));
        uint serial = 1;
        var current = Build(Text(model, serial));
        int shared = 0, reloads = 0;
        for (int step = 0; step < 60; step++)
        {
            string before = Dump(current);
            var update = new ZoneUpdate(current);
            int changes = random.Next(1, 4);
            for (int c = 0; c < changes; c++)
            {
                string name = Names[random.Next(Names.Length)];
                if (name is "cname" or "ns1" or "sub")
                {
                    continue; // fixed owners: changes there are covered by the whole build's tests
                }
                var records = model.TryGetValue(name, out var list) ? list : model[name] = [];
                if (records.Count > 0 && random.Next(2) == 0)
                {
                    var gone = records[random.Next(records.Count)];
                    records.Remove(gone);
                    Assert.True(update.Delete(Name(name), gone.Type, Rdata(gone.Type, gone.Text)));
                }
                else
                {
                    var (type, texts) = Plain[random.Next(Plain.Length)];
                    string text = texts[random.Next(texts.Length)];
                    if (!records.Contains((type, text)))
                    {
                        records.Add((type, text));
                    }
                    update.Add(Name(name), type, 300, Rdata(type, text));
                }
            }
            serial++;
            update.SetSoa(300, Rdata(RecordType.SOA, $"ns1 hostmaster {serial} 3600 600 86400 300"));
            var diagnostics = new List<ZoneDiagnostic>();
            var updated = update.Build(diagnostics, "IXFR from test");
            Assert.True(updated is not null, string.Join("\n", diagnostics));
            var expected = Build(Text(model, serial));

            Assert.Equal(Dump(expected), Dump(updated!));
            Assert.Equal(expected.RecordCount, updated!.RecordCount);
            Assert.Equal(expected.NodeCount, updated.NodeCount);
            Assert.Equal(expected.HasCutsOrDnames, updated.HasCutsOrDnames);
            Assert.Equal(expected.DigestHex, updated.DigestHex);
            Assert.Equal(before, Dump(current));
            shared += ReferenceEquals(current.Find(Name("ns.sub")), updated.Find(Name("ns.sub"))) ? 1 : 0;

            // The same step as a reload of the whole new text, compared with the version served.
            var reloadDiagnostics = new List<ZoneDiagnostic>();
            var reloaded = ZoneUpdate.FromReload(current, Grouping(Text(model, serial)), reloadDiagnostics, ZoneText.FileName);
            if (reloaded is not null)
            {
                Assert.Equal(Dump(expected), Dump(reloaded));
                Assert.Equal(expected.RecordCount, reloaded.RecordCount);
                Assert.Equal(expected.DigestHex, reloaded.DigestHex);
                Assert.Same(current.Find(Name("ns.sub")), reloaded.Find(Name("ns.sub")));
                reloads++;
            }
            current = updated;
        }
        // Most steps took the sharing path (the glue below the cut is never changed, so it is shared whenever it is).
        Assert.True(shared > 40, $"{shared} of 60 updates shared the nodes they left alone");
        Assert.True(reloads > 40, $"{reloads} of 60 reloads shared the nodes they left alone");
    }

    [Fact]
    public void A_change_at_a_name_servers_address_takes_the_whole_build()
    {
        var model = new Dictionary<string, List<(RecordType Type, string Text)>>(StringComparer.Ordinal);
        var current = Build(Text(model, 1));
        var update = new ZoneUpdate(current);
        Assert.True(update.Delete(Name("ns1"), RecordType.A, Rdata(RecordType.A, "192.0.2.53")));
        update.SetSoa(300, Rdata(RecordType.SOA, "ns1 hostmaster 2 3600 600 86400 300"));
        var diagnostics = new List<ZoneDiagnostic>();

        Assert.Null(update.Build(diagnostics, "IXFR from test"));
        Assert.Contains(diagnostics, d => d.Severity == Severity.Error && d.Message.Contains("ns1", StringComparison.Ordinal));
    }

    [Fact]
    public void A_reload_that_changes_structure_or_breaks_a_rule_is_left_to_the_whole_build()
    {
        var model = new Dictionary<string, List<(RecordType Type, string Text)>>(StringComparer.Ordinal) { ["www"] = [(RecordType.A, "192.0.2.1")] };
        var current = Build(Text(model, 1));
        model["www"].Add((RecordType.NS, "ns1")); // a new cut
        Assert.Null(ZoneUpdate.FromReload(current, Grouping(Text(model, 2)), [], ZoneText.FileName));
        model["www"] = [(RecordType.A, "192.0.2.1")];
        Assert.NotNull(ZoneUpdate.FromReload(current, Grouping(Text(model, 2)), [], ZoneText.FileName));
        Assert.Null(ZoneUpdate.FromReload(current, Grouping(Text(model, 2) + "www.other.test. IN A 192.0.2.9\n"), [], ZoneText.FileName));
        Assert.Null(ZoneUpdate.FromReload(current, Grouping(Text(model, 2) + "@ IN SOA ns1 hostmaster 3 3600 600 86400 300\n"), [], ZoneText.FileName));
        Assert.Null(ZoneUpdate.FromReload(current, Grouping(Text(model, 2).Replace("cname    IN CNAME www", "cname IN CNAME mail", StringComparison.Ordinal)), [], ZoneText.FileName));
    }

    [Fact]
    public void A_large_zone_reloaded_with_one_edit_shares_every_other_node()
    {
        WithLargeZone((path, text, served) =>
        {
            File.WriteAllText(path, text.ToString().Replace(" 1 3600", " 2 3600", StringComparison.Ordinal).Replace("h7 IN A", "h7 IN AAAA 2001:db8::7\nh7 IN A", StringComparison.Ordinal) + "new IN TXT \"x\"\n");

            var reloaded = ZoneLoader.LoadFile(path, ZoneText.Origin, null, served);
            var whole = ZoneLoader.LoadFile(path);

            Assert.True(reloaded.Succeeded, string.Join("\n", reloaded.Diagnostics));
            Assert.Equal(whole.Zone!.DigestHex, reloaded.Zone!.DigestHex);
            Assert.Equal(Dump(whole.Zone), Dump(reloaded.Zone));
            Assert.Same(served.Find(Name("h8")), reloaded.Zone.Find(Name("h8")));
            Assert.NotSame(served.Find(Name("h7")), reloaded.Zone.Find(Name("h7")));
            Assert.Equal(2u, reloaded.Zone.Serial);
        });
    }

    [Fact]
    public void A_large_zone_reloaded_whole_takes_the_served_owner_names_but_a_new_case_from_the_file()
    {
        WithLargeZone((path, text, served) =>
        {
            // The reload groups the owners under the served nodes; the whole build must fill nodes of its own.
            string servedBefore = Dump(served);
            // A second name server at the apex: a change of structure, built whole; h9 written in capitals.
            File.WriteAllText(path, text.ToString().Replace(" 1 3600", " 2 3600", StringComparison.Ordinal)
                .Replace("@ IN NS ns1\n", "@ IN NS ns1\n@ IN NS ns2\nns2 IN A 192.0.2.54\n", StringComparison.Ordinal)
                .Replace("\nh9 IN A", "\nH9 IN A", StringComparison.Ordinal));

            var reloaded = ZoneLoader.LoadFile(path, ZoneText.Origin, null, served);
            var whole = ZoneLoader.LoadFile(path);

            Assert.True(reloaded.Succeeded, string.Join("\n", reloaded.Diagnostics));
            Assert.Equal(Dump(whole.Zone!), Dump(reloaded.Zone!));
            var h8 = reloaded.Zone!.Find(Name("h8"))!;
            Assert.NotSame(served.Find(Name("h8")), h8);
            Assert.Same(served.Find(Name("h8"))!.Name, h8.Name);
            Assert.Equal("H9." + ZoneText.Origin, reloaded.Zone.Find(Name("h9"))!.Name.ToString());
            Assert.NotSame(served.Find(Name("h9"))!.Name, reloaded.Zone.Find(Name("h9"))!.Name);
            Assert.Equal(2u, reloaded.Zone.Serial);
            Assert.Equal(servedBefore, Dump(served));
        });
    }

    /// <summary>A zone of 30,000 names, one A record each, in a file of its own: its path, its text and the zone loaded from it.</summary>
    private static void WithLargeZone(Action<string, StringBuilder, Zone> test)
    {
        string folder = Directory.CreateTempSubdirectory("anycastdns-reload-").FullName;
        try
        {
            string path = Path.Combine(folder, "example.test.zone");
            var text = new StringBuilder("$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\n");
            for (int i = 0; i < 30_000; i++)
            {
                text.Append(System.Globalization.CultureInfo.InvariantCulture, $"h{i} IN A 198.51.{i / 256 % 256}.{i % 256}\n");
            }
            File.WriteAllText(path, text.ToString());
            test(path, text, ZoneLoader.LoadFile(path).Zone!);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The text's records grouped by owner, as a reload reads them before it builds.</summary>
    private static ZoneGrouping Grouping(string text)
    {
        var parsed = ZoneText.Read(text);
        Assert.False(parsed.HasErrors, string.Join("\n", parsed.Diagnostics));
        var arena = new RecordArena();
        foreach (var record in parsed.Records)
        {
            arena.Add(record.Owner, record.Type, record.Class, record.Ttl, record.Rdata, record.Location);
        }
        var grouping = new ZoneGrouping(arena, ZoneText.Origin, arena.OwnerRuns);
        grouping.Add(0, arena.Count);
        return grouping;
    }

    private static string Text(Dictionary<string, List<(RecordType Type, string Text)>> model, uint serial)
    {
        var text = new StringBuilder("$TTL 300\n").AppendFormat(System.Globalization.CultureInfo.InvariantCulture, Fixed, serial).Append('\n');
        foreach (var (name, records) in model)
        {
            foreach (var (type, rdata) in records)
            {
                text.Append(name).Append(" IN ").Append(RecordTypeNames.ToText(type)).Append(' ').Append(rdata).Append('\n');
            }
        }
        return text.ToString();
    }

    private static Zone Build(string text)
    {
        var parsed = ZoneText.Read(text);
        Assert.False(parsed.HasErrors, string.Join("\n", parsed.Diagnostics));
        var diagnostics = new List<ZoneDiagnostic>();
        var zone = ZoneBuilder.Build(ZoneText.Origin, parsed.Records, diagnostics, ZoneText.FileName);
        Assert.True(zone is not null, string.Join("\n", diagnostics) + "\n" + text);
        return zone!;
    }

    /// <summary>Everything answering reads of a zone, node by node in name order, records in canonical order.</summary>
    private static string Dump(Zone zone)
    {
        var text = new StringBuilder();
        foreach (var node in zone.Nodes.OrderBy(n => n.Name))
        {
            text.Append(node.Name).Append(node.IsApex ? " apex" : "").Append(node.IsDelegation ? " cut" : "")
                .Append(node.IsOccluded ? " occluded" : "").Append(node.IsEmptyNonTerminal ? " empty" : "")
                .Append(" parent=").Append(node.Parent?.Name.ToString() ?? "-")
                .Append(" wildcard=").Append(node.WildcardChild?.Name.ToString() ?? "-")
                .Append(" cname=").Append(node.Cname is not null).Append('\n');
            foreach (var rrset in node.RRsets.ToArray().OrderBy(r => r.Type))
            {
                var rdata = Enumerable.Range(0, rrset.Count).Select(i => $"{rrset.RecordTtl(i)} {RdataPresentation.Format(rrset.Type, rrset.Rdata(i))}").Order(StringComparer.Ordinal);
                text.Append("  ").Append(RecordTypeNames.ToText(rrset.Type)).Append(": ").AppendJoin(" | ", rdata)
                    .Append(" targets=").AppendJoin(",", rrset.AdditionalTargets.Select(t => t.Name.ToString()).Order(StringComparer.Ordinal))
                    .Append(" target-data=").AppendJoin(",", rrset.AdditionalTargets.Select(t => t.Get(RecordType.A)?.Count ?? 0))
                    .Append('\n');
            }
        }
        return text.ToString();
    }

    private static DnsName Name(string relative) => DnsName.Parse(relative + "." + ZoneText.Origin);

    private static byte[] Rdata(RecordType type, string text) => RdataPresentation.Parse(type, text, ZoneText.Origin);
}
