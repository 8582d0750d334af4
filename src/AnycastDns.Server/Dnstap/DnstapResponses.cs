using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Server.RateLimiting;

namespace AnycastDns.Server.Dnstap;

/// <summary>
/// The response classes an operator may restrict dnstap to (key <c>Dnstap:Responses</c>), read from the responder's
/// <see cref="ResponseDecision"/> and rate limiting's action: an exchange is sent when its response is of any class named.
/// </summary>
[Flags]
public enum DnstapResponses
{
    None = 0,
    Positive = 1 << 0,
    NoData = 1 << 1,
    NxDomain = 1 << 2,
    Referral = 1 << 3,
    Wildcard = 1 << 4,
    /// <summary>Any error RCODE (REFUSED, FORMERR, NOTIMP, SERVFAIL, BADVERS, BADCOOKIE...).</summary>
    Error = 1 << 5,
    /// <summary>REFUSED alone (RFC 1035 §4.1.1), the answer to names outside every zone.</summary>
    Refused = 1 << 6,
    /// <summary>Responses response rate limiting dropped or slipped (a slipped one is sent as what went out).</summary>
    Limited = 1 << 7,
    All = (1 << 8) - 1,
}

/// <summary>Parsing and matching of <see cref="DnstapResponses"/>.</summary>
internal static class DnstapResponseClasses
{
    public const string Names = "all, positive, nodata, nxdomain, referral, wildcard, error, refused, limited";

    public static bool TryParse(string word, out DnstapResponses responses)
    {
        ArgumentNullException.ThrowIfNull(word);
        responses = word.ToLowerInvariant() switch
        {
            "all" => DnstapResponses.All,
            "positive" => DnstapResponses.Positive,
            "nodata" => DnstapResponses.NoData,
            "nxdomain" => DnstapResponses.NxDomain,
            "referral" => DnstapResponses.Referral,
            "wildcard" => DnstapResponses.Wildcard,
            "error" => DnstapResponses.Error,
            "refused" => DnstapResponses.Refused,
            "limited" => DnstapResponses.Limited,
            _ => DnstapResponses.None,
        };
        return responses != DnstapResponses.None;
    }

    /// <summary>The classes one exchange belongs to (several at once: REFUSED is an error, a limited answer has its own class).</summary>
    public static DnstapResponses Of(in ResponseDecision decision, RateLimitAction action)
    {
        var classes = decision.Class switch
        {
            ResponseClass.Positive => DnstapResponses.Positive,
            ResponseClass.NoData => DnstapResponses.NoData,
            ResponseClass.NxDomain => DnstapResponses.NxDomain,
            ResponseClass.Referral => DnstapResponses.Referral,
            ResponseClass.Wildcard => DnstapResponses.Wildcard,
            ResponseClass.Error => DnstapResponses.Error,
            _ => DnstapResponses.None,
        };
        if (decision.Rcode == (ushort)ResponseCode.Refused)
        {
            classes |= DnstapResponses.Refused | DnstapResponses.Error;
        }
        if (action != RateLimitAction.Answer)
        {
            classes |= DnstapResponses.Limited;
        }
        return classes;
    }
}
