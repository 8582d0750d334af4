using System.Net;
using AnycastDns.Protocol;
using AnycastDns.Server.Probing;

namespace AnycastDns.Fleet;

/// <summary>One zone as a PoP reports it over CHAOS <c>zones.server</c>: origin, SOA serial, ZONEMD SHA-384 digest.</summary>
internal sealed record ZoneReport(string Origin, string Serial, string Digest);

/// <summary>
/// A PoP's DNS cookie secrets as it reports them over CHAOS <c>cookies.server</c>: whether they come from a file or were
/// made at random, and their fingerprints, the one making cookies first.
/// </summary>
internal sealed record CookieReport(bool IsRandom, IReadOnlyList<string> Fingerprints)
{
    /// <summary>The fingerprint of the secret that makes this PoP's cookies.</summary>
    public string Fingerprint => Fingerprints[0];
}

/// <summary>
/// What a PoP's <c>zones.server</c> summary says: how many zones it serves and the SHA-384 over every zone's origin,
/// serial and digest (<see cref="Authority.ZoneSetIdentity"/>). Equal summaries mean the same zones, at any scale.
/// </summary>
internal sealed record ZoneSummary(int Count, string Digest)
{
    /// <summary>The summary of a per-zone list in canonical order, as the server computes it.</summary>
    public static ZoneSummary Of(IReadOnlyList<ZoneReport> zones) =>
        new(zones.Count, Authority.ZoneSetIdentity.DigestOf(zones.Select(z => $"{z.Origin} {z.Serial} {z.Digest}")));
}

/// <summary>
/// What one PoP said about itself, or why it said nothing. <see cref="Cookies"/> is null for a server that does not
/// say. <see cref="Zones"/> is the per-zone list when <c>zones.server</c> gave it or it was fetched from the PoP's
/// <c>/zones</c>, else null (the PoP is compared by its <see cref="Summary"/>); <see cref="ZonesNote"/> says why a list
/// that was wanted could not be had.
/// </summary>
internal sealed record PopReport(IPEndPoint Address, string? Identity, IReadOnlyList<ZoneReport>? Zones, string? Failure, CookieReport? Cookies = null)
{
    /// <summary>zones.server is asked again this many times, this far apart, while it is SERVFAIL (10 s in all).</summary>
    private const int SummaryRetries = 20;

    private static readonly TimeSpan SummaryRetryInterval = TimeSpan.FromMilliseconds(500);

    public bool Answered => Failure is null;

    /// <summary>The PoP's status endpoint, where its per-zone list can be fetched; null when none was given.</summary>
    public IPEndPoint? Http { get; init; }

    /// <summary>The number of zones and the digest over all of them; null when the PoP did not answer.</summary>
    public ZoneSummary? Summary { get; init; }

    /// <summary>Why the per-zone list could not be had when the summaries differed, in one line.</summary>
    public string? ZonesNote { get; init; }

    /// <summary>The PoP's secondary zones as its <c>/zones</c> reports them; null without a status endpoint.</summary>
    public IReadOnlyList<SecondaryReport>? Secondaries { get; init; }

    /// <summary>Why the secondary zones could not be had from the status endpoint, in one line.</summary>
    public string? SecondariesNote { get; init; }

    /// <summary>
    /// Asks the PoP <c>CH TXT id.server</c> and <c>cookies.server</c> (UDP) and <c>CH TXT zones.server</c> (TCP, as the
    /// list can be long): its summary, and its per-zone list when it fits one message. A server that gives no summary
    /// (before it had one) is summarised from its list.
    /// </summary>
    public static async Task<PopReport> ProbeAsync(IPEndPoint address, IPEndPoint? http, TimeSpan timeout, CancellationToken cancel)
    {
        try
        {
            var id = await AskAsync(address, "id.server.", tcp: false, timeout, cancel).ConfigureAwait(false);
            string identity = id.Answers.Count > 0 && id.Answers[0].Type == RecordType.TXT
                ? string.Concat(DnsProbe.TxtStrings(id.Answers[0].Data))
                : $"({id.ResponseCode})";
            var cookies = ReadCookies(await AskAsync(address, "cookies.server.", tcp: false, timeout, cancel).ConfigureAwait(false));
            var list = await AskAsync(address, "zones.server.", tcp: true, timeout, cancel).ConfigureAwait(false);
            // SERVFAIL: the PoP is still computing the digests of the zones it just loaded; ask again, for a while.
            for (int again = 0; again < SummaryRetries && list.ResponseCode == ResponseCode.ServFail; again++)
            {
                await Task.Delay(SummaryRetryInterval, cancel).ConfigureAwait(false);
                list = await AskAsync(address, "zones.server.", tcp: true, timeout, cancel).ConfigureAwait(false);
            }
            if (list.ResponseCode != ResponseCode.NoError)
            {
                return new PopReport(address, identity, null, $"zones.server answered {list.ResponseCode}: not an AnycastDns server?") { Http = http };
            }
            var zones = new List<ZoneReport>();
            ZoneSummary? summary = null;
            foreach (var rr in list.Answers)
            {
                var strings = DnsProbe.TxtStrings(rr.Data);
                if (rr.Type != RecordType.TXT || strings.Count != 3)
                {
                    return new PopReport(address, identity, null, "zones.server: expected TXT records of origin, serial and digest") { Http = http };
                }
                if (strings[0] == Authority.ZoneSetIdentity.SummaryLabel)
                {
                    if (!int.TryParse(strings[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int count))
                    {
                        return new PopReport(address, identity, null, $"zones.server: summary count '{strings[1]}' is not a number") { Http = http };
                    }
                    summary = new ZoneSummary(count, strings[2]);
                    continue;
                }
                zones.Add(new ZoneReport(strings[0].ToLowerInvariant(), strings[1], strings[2]));
            }
            bool listed = summary is null || zones.Count == summary.Count;
            return new PopReport(address, identity, listed ? zones : null, null, cookies)
            {
                Http = http,
                Summary = summary ?? ZoneSummary.Of(zones),
            };
        }
        catch (Exception e) when (e is TimeoutException or System.Net.Sockets.SocketException or DnsFormatException)
        {
            return new PopReport(address, null, null, e.Message) { Http = http };
        }
    }

    /// <summary>The answer to <c>cookies.server</c>: one TXT of <c>file</c> or <c>random</c> and the fingerprints; null otherwise.</summary>
    private static CookieReport? ReadCookies(DnsMessage answer)
    {
        if (answer.ResponseCode != ResponseCode.NoError || answer.Answers.Count != 1 || answer.Answers[0].Type != RecordType.TXT)
        {
            return null;
        }
        var strings = DnsProbe.TxtStrings(answer.Answers[0].Data);
        if (strings.Count < 2 || strings[0] is not ("file" or "random"))
        {
            return null;
        }
        return new CookieReport(strings[0] == "random", [.. strings.Skip(1)]);
    }

    private static Task<DnsMessage> AskAsync(IPEndPoint address, string name, bool tcp, TimeSpan timeout, CancellationToken cancel)
    {
        var query = DnsMessage.CreateQuery(DnsName.Parse(name), RecordType.TXT, RecordClass.CH, (ushort)Random.Shared.Next(1, ushort.MaxValue));
        return DnsProbe.QueryAsync(address, query, tcp, timeout, cancel);
    }
}
