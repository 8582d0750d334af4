using AnycastDns.Protocol;
using AnycastDns.Server.Secondary;
using AnycastDns.TestSupport;
using AnycastDns.Zones;

namespace AnycastDns.Server.Tests.Secondary;

/// <summary>
/// A zone received by AXFR (RFC 5936 §2.2: SOA, the records, SOA) becomes the same zone its file makes, records held as
/// received without an object each; and the version kept in the state folder, written record by record, loads back
/// as the same zone, every record type of the test zones (signed ones included) in presentation form.
/// </summary>
public sealed class TransferredZoneTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-state-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string> Folders => new() { "zones", "zones-dnssec", "signed" };

    [Theory]
    [MemberData(nameof(Folders))]
    public async Task An_axfr_of_every_test_zone_builds_the_zone_its_file_makes(string folder)
    {
        foreach (var zone in await ZonesOf(folder))
        {
            var answer = new TransferRecords("AXFR from test");
            var soa = (Ttl: zone.Soa.RecordTtl(0), Rdata: zone.Soa.Rdata(0).ToArray());
            answer.Add(zone.Origin.Wire, RecordType.SOA, RecordClass.IN, soa.Ttl, soa.Rdata);
            foreach (var node in zone.Nodes)
            {
                foreach (var rrset in node.RRsets)
                {
                    for (int i = 0; i < rrset.Count; i++)
                    {
                        if (!(node.IsApex && rrset.Type == RecordType.SOA))
                        {
                            // Each record's owner as octets, as read from a message: the name is made once per run of them.
                            answer.Add(node.Name.Wire, rrset.Type, RecordClass.IN, rrset.RecordTtl(i), rrset.Rdata(i));
                        }
                    }
                }
            }
            answer.Add(zone.Origin.Wire, RecordType.SOA, RecordClass.IN, soa.Ttl, soa.Rdata);
            Assert.Equal(zone.RecordCount + 1, answer.Count);
            Assert.True(TransferredZone.IsIncremental(answer) == false);

            var built = TransferredZone.FromAxfr(zone.Origin, answer, "AXFR from test", ZoneLoadOptions.Default);
            Assert.Equal(zone.RecordCount, built.RecordCount);
            Assert.Equal(zone.Serial, built.Serial);
            Assert.Equal(zone.DigestHex, built.DigestHex);
        }
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public async Task The_kept_version_loads_back_as_the_same_zone(string folder)
    {
        foreach (var zone in await ZonesOf(folder))
        {
            var refreshed = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);
            ZoneStateFile.SaveZone(_folder, zone);
            ZoneStateFile.SaveTimers(_folder, zone.Origin, zone.Serial, refreshed);
            var kept = ZoneStateFile.Load(_folder, zone.Origin, ZoneLoadOptions.Default, out string? problem);
            Assert.Null(problem);
            Assert.NotNull(kept);
            Assert.Equal(refreshed, kept.Value.Refreshed);
            Assert.Equal(zone.RecordCount, kept.Value.Zone.RecordCount);
            Assert.Equal(zone.DigestHex, kept.Value.Zone.DigestHex);
            Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
        }
    }

    [Fact]
    public void Records_of_one_owner_share_its_name_and_a_new_owner_gets_its_own()
    {
        var answer = new TransferRecords("test");
        var www = DnsName.Parse("www.example.test.");
        var first = answer.Add(www.Wire.ToArray(), RecordType.A, RecordClass.IN, 300, [192, 0, 2, 1]);
        var second = answer.Add(www.Wire.ToArray(), RecordType.A, RecordClass.IN, 300, [192, 0, 2, 2]);
        var other = answer.Add(DnsName.Parse("WWW.example.test.").Wire, RecordType.TXT, RecordClass.IN, 60, [1, (byte)'x']);
        Assert.Same(first, second);
        Assert.NotSame(first, other);
        // Kept as received: the name's case too (RFC 4343 §4: case is preserved where it can be).
        Assert.Equal("WWW.example.test.", other.ToString());
        Assert.Equal(3, answer.Count);
        Assert.Equal(www, answer.Owner(1));
        Assert.Equal([192, 0, 2, 2], answer.Rdata(1).ToArray());
        Assert.Equal((RecordType.TXT, 60u), (answer.Type(2), answer.Ttl(2)));
    }

    private static async Task<IReadOnlyList<Zone>> ZonesOf(string folder)
    {
        string path = folder == "signed" ? (await SignedTestZones.GetAsync()).Folder : Path.Combine(RepositoryPaths.Root, "tests", folder);
        var load = ZoneLoader.LoadFolder(path);
        Assert.True(load.AllSucceeded);
        Assert.NotEmpty(load.ZoneSet.Zones);
        return load.ZoneSet.Zones;
    }
}
