using AnycastDns.Protocol;

namespace AnycastDns.Authority;

/// <summary>
/// The kind of answer a response gives: what response rate limiting keys its buckets by (the "DNS Response Rate
/// Limiting" technical note, as NSD and BIND apply it), and what statistics and dnstap filter on.
/// </summary>
public enum ResponseClass : byte
{
    /// <summary>No response is sent: the message was not a query (a response, or shorter than a header).</summary>
    Dropped,
    /// <summary>Data for the name and type asked (CHAOS identity answers included).</summary>
    Positive,
    /// <summary>The name exists without the type asked (RFC 2308 §2.2).</summary>
    NoData,
    /// <summary>The name does not exist (RFC 2308 §2.1).</summary>
    NxDomain,
    /// <summary>A delegation to a child zone's name servers (RFC 1034 §4.3.2 step 3b).</summary>
    Referral,
    /// <summary>An answer or NODATA synthesised from a wildcard (RFC 4592 §3.3.1).</summary>
    Wildcard,
    /// <summary>Any other RCODE: REFUSED, FORMERR, NOTIMP, SERVFAIL, BADVERS, BADCOOKIE, YXDOMAIN.</summary>
    Error,
}

/// <summary>What a query's COOKIE option (RFC 7873 §5.2) turned out to be.</summary>
public enum CookieState : byte
{
    /// <summary>No COOKIE option (or no EDNS).</summary>
    None,
    /// <summary>A client cookie alone (RFC 7873 §5.2.3).</summary>
    ClientOnly,
    /// <summary>A server cookie that this server, or any PoP sharing its secret, made for this client (RFC 9018 §4).</summary>
    Valid,
    /// <summary>A server cookie that does not verify (RFC 7873 §5.2.4), or a malformed option (§5.2.2, FORMERR).</summary>
    Invalid,
}

/// <summary>
/// What <see cref="Responder.Respond(ReadOnlySpan{byte}, Span{byte}, Transport, ReadOnlySpan{byte}, out ResponseDecision)"/>
/// decided, so that statistics, the query log and rate limiting need not read the response again. Allocation-free:
/// the bucket name is a name the zone already holds, or the question echoed at the start of the response.
/// </summary>
public struct ResponseDecision
{
    /// <summary>The response's length in octets; 0 when nothing is sent.</summary>
    public int Length;

    /// <summary>The full 12-bit RCODE (RFC 6891 §6.1.3: the header's 4 bits and the OPT record's 8).</summary>
    public ushort Rcode;

    /// <summary>TC was set: the answer did not fit.</summary>
    public bool Truncated;

    public ResponseClass Class;

    /// <summary>The QTYPE asked; 0 when the question could not be read.</summary>
    public ushort QType;

    public CookieState Cookie;

    /// <summary>The length of the question name, echoed uncompressed at offset 12 of the response; 0 without a question.</summary>
    public int QNameLength;

    /// <summary>
    /// The name that keys a rate-limiting bucket when it is not the question name: the zone for NXDOMAIN (so random
    /// subdomains share one bucket), the delegation for a referral, the wildcard for a synthesised answer.
    /// Null: the question name (<see cref="QName"/>).
    /// </summary>
    public DnsName? Bucket;

    /// <summary>The origin of the zone that answered (dnstap's <c>query_zone</c>); null when no zone did.</summary>
    public DnsName? Zone;

    /// <summary>The question name as echoed in <paramref name="response"/> (uncompressed wire form, the client's case).</summary>
    public readonly ReadOnlySpan<byte> QName(ReadOnlySpan<byte> response) =>
        QNameLength == 0 ? [] : response.Slice(Header.Length, QNameLength);
}
