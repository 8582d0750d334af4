using AnycastDns.Protocol;

namespace AnycastDns.Fuzz;

/// <summary>
/// The allocating side of the codec (<see cref="DnsMessage.Parse"/>), which the probe, the watchdog and fleet-check read
/// other servers' replies with: malformed input may only raise <see cref="DnsFormatException"/>, and what it reads must
/// write out again.
/// </summary>
internal static class ClientCodec
{
    public static void Read(ReadOnlySpan<byte> message)
    {
        DnsMessage parsed;
        try
        {
            parsed = DnsMessage.Parse(message);
        }
        catch (DnsFormatException)
        {
            return;
        }
        // Its own encoding of what it read is a message it reads back the same (counts and EDNS; names may be
        // compressed differently). Encode refuses only a message over 65535 octets, which names written out in full can make.
        byte[] encoded;
        try
        {
            encoded = parsed.Encode();
        }
        catch (InvalidOperationException e) when (e.Message.Contains("65535", StringComparison.Ordinal))
        {
            return;
        }
        var again = DnsMessage.Parse(encoded);
        FuzzFinding.Require(again.Questions.Count == parsed.Questions.Count && again.Answers.Count == parsed.Answers.Count
            && again.Authority.Count == parsed.Authority.Count && again.Additional.Count == parsed.Additional.Count,
            "a parsed message encodes to one with other counts");
        FuzzFinding.Require((again.Edns is null) == (parsed.Edns is null)
            && (again.Edns is null || again.Edns.Options.Count == parsed.Edns!.Options.Count),
            "a parsed message encodes to one with other EDNS options");
    }
}
