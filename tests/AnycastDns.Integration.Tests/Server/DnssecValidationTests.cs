using System.Text;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>The real <c>anycastdns serve</c> over the signed zones of tests/zones-dnssec, for validators to query.</summary>
public sealed class AnycastDnsOnSignedZones : IAsyncLifetime
{
    private AnycastDnsServer? _server;

    public AnycastDnsServer Server => _server ?? throw new InvalidOperationException("the server fixture has not started");

    public SignedZoneSet Signed { get; private set; } = new("", []);

    public async Task InitializeAsync()
    {
        Signed = await SignedTestZones.GetAsync();
        _server = await AnycastDnsServer.StartAsync(Signed.Folder, addresses: ["127.0.0.1"]);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>
/// Validation end to end: delv (BIND's validating lookup tool) asks the running server, trusting only each zone's KSK,
/// and must find positive, NXDOMAIN, NODATA (empty non-terminals included), wildcard, CNAME, DNAME and DS answers
/// "fully validated" (RFC 4035 §5) in all three denial kinds: NSEC, NSEC3 and NSEC3 with Opt-Out.
/// </summary>
public sealed class DnssecValidationTests(AnycastDnsOnSignedZones fixture) : IClassFixture<AnycastDnsOnSignedZones>
{
    private const string DelvPath = "/usr/bin/delv";

    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);

    public enum Outcome
    {
        Answer,
        NxDomain,
        NoData,
        /// <summary>
        /// A wildcard expansion whose next closer name is covered by an Opt-Out NSEC3: the name could be an unsigned
        /// delegation in the Opt-Out span, so validators take the answer as insecure, not bogus (RFC 5155 §6; BIND's
        /// and Unbound's rule). Knot gives the same records (the differential tests).
        /// </summary>
        OptOutWildcard,
    }

    public static TheoryData<string, string, string, Outcome> Cases()
    {
        var data = new TheoryData<string, string, string, Outcome>();
        foreach (var zone in new[] { "nsec.test.", "nsec3.test.", "optout.test." })
        {
            data.Add(zone, "www." + zone, "A", Outcome.Answer);
            data.Add(zone, zone, "DNSKEY", Outcome.Answer);
            data.Add(zone, "bigmx." + zone, "MX", Outcome.Answer);
            data.Add(zone, "nothere." + zone, "A", Outcome.NxDomain);
            data.Add(zone, "a.b.nothere." + zone, "TXT", Outcome.NxDomain);
            data.Add(zone, "www." + zone, "TXT", Outcome.NoData);
            data.Add(zone, "b.c." + zone, "A", Outcome.NoData);
            var wildcard = zone == "optout.test." ? Outcome.OptOutWildcard : Outcome.Answer;
            data.Add(zone, "host.wild." + zone, "A", wildcard);
            data.Add(zone, "a.b.wild." + zone, "TXT", wildcard);
            data.Add(zone, "host.wild." + zone, "MX", Outcome.NoData);
            data.Add(zone, "to-wild." + zone, "A", wildcard);
            data.Add(zone, "dangling." + zone, "A", Outcome.NxDomain);
            data.Add(zone, "x.dn." + zone, "A", Outcome.NxDomain);
            data.Add(zone, "secure." + zone, "DS", Outcome.Answer);
            data.Add(zone, "insecure." + zone, "DS", Outcome.NoData);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Delv_validates_the_answer(string zone, string name, string type, Outcome outcome)
    {
        ExternalTool.RequireInstalled(DelvPath, "bind9-dnsutils");
        string anchors = Path.Combine(fixture.Signed.Folder, zone + "anchors.conf");
        await File.WriteAllTextAsync(anchors, TrustAnchors(fixture.Signed[zone].TrustAnchor));

        // +root: the zone's own key is the trust anchor, so validation starts at the zone apex.
        var result = await ExternalTool.RunAsync(DelvPath,
            ["@127.0.0.1", "-p", fixture.Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-a", anchors, "+root=" + zone, name, type],
            RunTimeout);
        string output = result.Output;
        if (outcome == Outcome.OptOutWildcard)
        {
            Assert.Contains("unsigned answer", output, StringComparison.Ordinal);
            Assert.DoesNotContain("resolution failed", output, StringComparison.Ordinal);
            Assert.Matches($@"(?m)^\S+\s+\d+\s+IN\s+{type}\s", output);
            return;
        }
        Assert.Contains("fully validated", output, StringComparison.Ordinal);
        Assert.DoesNotContain("unsigned answer", output, StringComparison.Ordinal);
        switch (outcome)
        {
            case Outcome.Answer:
                // The record asked for, at the name or at the end of its CNAME chain.
                Assert.Matches($@"(?m)^\S+\s+\d+\s+IN\s+{type}\s", output);
                break;
            case Outcome.NxDomain:
                Assert.Contains("ncache nxdomain", output, StringComparison.Ordinal);
                break;
            case Outcome.NoData:
                Assert.Contains("ncache nxrrset", output, StringComparison.Ordinal);
                break;
        }
    }

    /// <summary>A BIND trust-anchors clause holding the DNSKEY record <paramref name="dnskey"/> (owner IN DNSKEY flags protocol algorithm key).</summary>
    internal static string TrustAnchors(string dnskey)
    {
        var fields = dnskey.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        int at = Array.IndexOf(fields, "DNSKEY");
        var text = new StringBuilder();
        text.Append("trust-anchors {\n  ").Append(fields[0]).Append(" static-key ")
            .Append(fields[at + 1]).Append(' ').Append(fields[at + 2]).Append(' ').Append(fields[at + 3])
            .Append(" \"").Append(string.Concat(fields[(at + 4)..])).Append("\";\n};\n");
        return text.ToString();
    }
}
