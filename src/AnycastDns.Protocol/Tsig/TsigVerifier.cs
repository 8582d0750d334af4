using System.Buffers.Binary;
using System.Security.Cryptography;

namespace AnycastDns.Protocol.Tsig;

/// <summary>The outcome of checking a signed request (RFC 8945 §5.2), in the order the RFC checks.</summary>
public enum TsigVerdict
{
    /// <summary>The key is known, the MAC verifies, the time is within the fudge: answer, and sign the answer.</summary>
    Verified,
    /// <summary>RFC 8945 §5.2.2.1: a MAC longer than the hash, or shorter than both 10 octets and half the hash: FORMERR.</summary>
    FormErr,
    /// <summary>§5.2.1: no key of that name, or the key has another algorithm: NOTAUTH, BADKEY, unsigned.</summary>
    BadKey,
    /// <summary>§5.2.2: the MAC does not verify: NOTAUTH, BADSIG, unsigned.</summary>
    BadSig,
    /// <summary>§5.2.3: signed more than Fudge seconds from now: NOTAUTH, BADTIME, signed, with the server's time.</summary>
    BadTime,
    /// <summary>§5.2.4: a truncated MAC that verifies, which this server's policy does not accept: NOTAUTH, BADTRUNC, signed.</summary>
    BadTrunc,
}

/// <summary>Checks the TSIG of a received request (RFC 8945 §5.2).</summary>
public static class TsigVerifier
{
    /// <summary>
    /// Checks <paramref name="tsig"/>, found in <paramref name="message"/>, against <paramref name="keys"/> at
    /// <paramref name="now"/> (seconds since 1970). <paramref name="key"/> is the key when it was known (every verdict
    /// but <see cref="TsigVerdict.BadKey"/>).
    /// </summary>
    public static TsigVerdict Verify(ReadOnlySpan<byte> message, scoped in TsigRecord tsig, TsigKeyring keys, ulong now, out TsigKey? key)
    {
        ArgumentNullException.ThrowIfNull(keys);
        key = keys.Find(tsig.KeyName);
        if (key is null || !TsigAlgorithms.TryFromWire(tsig.AlgorithmName, out var algorithm) || algorithm != key.Algorithm)
        {
            key = null;
            return TsigVerdict.BadKey;
        }
        return Check(message, tsig, key, [], now);
    }

    /// <summary>
    /// Checks the TSIG of an answer to a request this side signed (a NOTIFY's acknowledgement): its MAC covers the
    /// request's MAC first (RFC 8945 §4.3.1, §5.3), and it must be made with <paramref name="key"/>, the request's key.
    /// </summary>
    public static TsigVerdict VerifyAnswer(ReadOnlySpan<byte> message, scoped in TsigRecord tsig, TsigKey key, ReadOnlySpan<byte> requestMac, ulong now)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!WireName.EqualsIgnoreCase(key.Name.Wire, tsig.KeyName) || !TsigAlgorithms.TryFromWire(tsig.AlgorithmName, out var algorithm) || algorithm != key.Algorithm)
        {
            return TsigVerdict.BadKey;
        }
        return Check(message, tsig, key, requestMac, now);
    }

    /// <summary>The MAC's length, the MAC (after <paramref name="priorMac"/> when there is one), then the time (RFC 8945 §5.2.2, §5.2.3).</summary>
    private static TsigVerdict Check(ReadOnlySpan<byte> message, scoped in TsigRecord tsig, TsigKey key, ReadOnlySpan<byte> priorMac, ulong now)
    {
        int full = TsigAlgorithms.MacLength(key.Algorithm);
        if (tsig.Mac.Length > full || tsig.Mac.Length < Math.Max(10, full / 2))
        {
            return TsigVerdict.FormErr;
        }
        Span<byte> computed = stackalloc byte[64];
        using (var hmac = TsigDigest.CreateHmac(key))
        {
            if (!priorMac.IsEmpty)
            {
                TsigDigest.AppendPriorMac(hmac, priorMac);
            }
            ushort additional = BinaryPrimitives.ReadUInt16BigEndian(message[10..]);
            TsigDigest.AppendMessage(hmac, message[..tsig.Start], tsig.OriginalId, (ushort)(additional - 1));
            TsigDigest.AppendVariables(hmac, tsig.KeyName, tsig.AlgorithmName, tsig.TimeSigned, tsig.Fudge, tsig.Error, tsig.OtherData);
            hmac.TryGetHashAndReset(computed, out _);
        }
        if (!CryptographicOperations.FixedTimeEquals(computed[..tsig.Mac.Length], tsig.Mac))
        {
            return TsigVerdict.BadSig;
        }
        ulong distance = now > tsig.TimeSigned ? now - tsig.TimeSigned : tsig.TimeSigned - now;
        if (distance > tsig.Fudge)
        {
            return TsigVerdict.BadTime;
        }
        return tsig.Mac.Length < full ? TsigVerdict.BadTrunc : TsigVerdict.Verified;
    }

    /// <summary>The TSIG error code a verdict answers with.</summary>
    public static ushort ErrorOf(TsigVerdict verdict) => verdict switch
    {
        TsigVerdict.BadKey => TsigError.BadKey,
        TsigVerdict.BadSig => TsigError.BadSig,
        TsigVerdict.BadTime => TsigError.BadTime,
        TsigVerdict.BadTrunc => TsigError.BadTrunc,
        _ => TsigError.NoError,
    };

    /// <summary>Seconds since 1970, as Time Signed counts them.</summary>
    public static ulong Now() => (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
