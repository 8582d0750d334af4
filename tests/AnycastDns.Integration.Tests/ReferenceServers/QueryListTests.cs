using AnycastDns.Protocol;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.ReferenceServers;

/// <summary>tests/zones/queries.txt parses, and covers what the differential tests promise to cover.</summary>
public sealed class QueryListTests
{
    private static readonly IReadOnlyList<TestQuery> Queries = TestQuery.ReadAll(RepositoryPaths.TestQueries);

    [Fact]
    public void Every_query_is_under_a_group_comment()
    {
        Assert.True(Queries.Count > 200, $"only {Queries.Count} queries");
        Assert.All(Queries, q => Assert.False(string.IsNullOrEmpty(q.Group), $"line {q.Line} has no group comment above it"));
    }

    [Fact]
    public void Each_transport_and_EDNS_variant_is_asked()
    {
        Assert.Contains(Queries, q => q.Tcp);
        Assert.Contains(Queries, q => q.UdpPayloadSize is null);
        Assert.Contains(Queries, q => q.UdpPayloadSize == 512);
        Assert.Contains(Queries, q => q.UdpPayloadSize == TestQuery.DefaultUdpPayloadSize);
        Assert.Contains(Queries, q => q.DnssecOk);
        Assert.Contains(Queries, q => q.Class == RecordClass.CH);
        Assert.Contains(Queries, q => q.Type == RecordType.ANY);
    }

    [Fact]
    public void Every_zone_is_asked_about()
    {
        foreach (var zone in ZoneFile.FindIn(RepositoryPaths.TestZones))
        {
            var apex = DnsName.Parse(zone.Origin + ".");
            Assert.Contains(Queries, q => q.Name.Equals(apex));
        }
    }

    [Fact]
    public void Case_variations_are_asked()
    {
        Assert.Contains(Queries, q => q.Name.ToString() == "WwW.ExAmPlE.test.");
    }

    [Theory]
    [InlineData("www.example.test", "expected 'name type")]
    [InlineData("www.example.test NOTATYPE", "unknown type 'NOTATYPE'")]
    [InlineData("www.example.test A udp", "unknown flag 'udp'")]
    [InlineData("www.example.test A noedns do", "'noedns' cannot go with")]
    [InlineData("www..example.test A", "empty label")]
    public void A_bad_line_is_reported_with_file_and_line(string line, string message)
    {
        string path = Path.Combine(Path.GetTempPath(), $"anycastdns-queries-{Guid.NewGuid():N}.txt");
        try
        {
            File.WriteAllLines(path, ["# a group", "www.example.test A", line]);

            var error = Assert.Throws<FormatException>(() => TestQuery.ReadAll(path));

            Assert.StartsWith($"{path}:3: ", error.Message, StringComparison.Ordinal);
            Assert.Contains(message, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_line_reads_back_as_written()
    {
        string path = Path.Combine(Path.GetTempPath(), $"anycastdns-queries-{Guid.NewGuid():N}.txt");
        try
        {
            File.WriteAllLines(path, ["# group one", "WwW.ExAmPlE.test AAAA CH tcp bufsize=512 do rd", "", "# group two", "x.test TYPE65300 noedns"]);

            var queries = TestQuery.ReadAll(path);

            Assert.Equal(2, queries.Count);
            Assert.Equal("WwW.ExAmPlE.test. AAAA CH tcp bufsize=512 do rd", queries[0].ToString());
            Assert.Equal("group one", queries[0].Group);
            Assert.Equal(2, queries[0].Line);
            Assert.Equal("x.test. TYPE65300 noedns", queries[1].ToString());
            Assert.Equal("group two", queries[1].Group);
            var encoded = DnsMessage.Parse(queries[0].Encode(42));
            Assert.Equal(42, encoded.Id);
            Assert.True(encoded.RecursionDesired);
            Assert.Equal(512, encoded.Edns!.UdpPayloadSize);
            Assert.True(encoded.Edns.DnssecOk);
            Assert.Null(DnsMessage.Parse(queries[1].Encode(1)).Edns);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
