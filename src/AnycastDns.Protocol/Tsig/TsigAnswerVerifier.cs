using System.Buffers.Binary;
using System.Security.Cryptography;

namespace AnycastDns.Protocol.Tsig;

/// <summary>
/// Verifies, message by message, the answer to a request this side signed when it spans several TCP messages (a zone
/// transfer in): the first message's MAC covers the request's MAC and all the TSIG variables; each later signed
/// message's covers the previous MAC, every unsigned message since, the message and the timers alone (RFC 8945
/// §5.3.1). The first and the last message must be signed, and at most 99 unsigned ones may come in a row.
/// </summary>
public sealed class TsigAnswerVerifier : IDisposable
{
    /// <summary>RFC 8945 §5.3.1: a client must accept up to 99 unsigned messages between two signed ones, and no more.</summary>
    public const int MaxUnsignedInARow = 99;

    private readonly TsigKey _key;
    private readonly IncrementalHash _hmac;
    private readonly byte[] _mac = new byte[64];
    private bool _first = true;
    private int _unsigned;

    /// <param name="requestMac">The MAC of the signed request.</param>
    public TsigAnswerVerifier(TsigKey key, ReadOnlySpan<byte> requestMac)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = key;
        _hmac = TsigDigest.CreateHmac(key);
        TsigDigest.AppendPriorMac(_hmac, requestMac);
    }

    /// <summary>True when the last message given was signed and verified: a transfer may end only there.</summary>
    public bool LastWasSigned { get; private set; }

    /// <summary>
    /// Checks one message of the answer. <paramref name="presence"/> and <paramref name="tsig"/> are what
    /// <see cref="TsigRecord.Find"/> said of it. An unsigned message is taken into the next MAC (BadSig when it is the
    /// first, or the 100th in a row); a signed one must verify with the request's key.
    /// </summary>
    public TsigVerdict Next(ReadOnlySpan<byte> message, TsigPresence presence, scoped in TsigRecord tsig, ulong now)
    {
        if (presence == TsigPresence.Malformed)
        {
            return TsigVerdict.FormErr;
        }
        if (presence == TsigPresence.None)
        {
            LastWasSigned = false;
            if (_first || ++_unsigned > MaxUnsignedInARow)
            {
                return TsigVerdict.BadSig;
            }
            _hmac.AppendData(message);
            return TsigVerdict.Verified;
        }
        if (!WireName.EqualsIgnoreCase(_key.Name.Wire, tsig.KeyName) || !TsigAlgorithms.TryFromWire(tsig.AlgorithmName, out var algorithm) || algorithm != _key.Algorithm)
        {
            return TsigVerdict.BadKey;
        }
        int full = TsigAlgorithms.MacLength(_key.Algorithm);
        if (tsig.Mac.Length > full || tsig.Mac.Length < Math.Max(10, full / 2))
        {
            return TsigVerdict.FormErr;
        }
        ushort additional = BinaryPrimitives.ReadUInt16BigEndian(message[10..]);
        TsigDigest.AppendMessage(_hmac, message[..tsig.Start], tsig.OriginalId, (ushort)(additional - 1));
        if (_first)
        {
            TsigDigest.AppendVariables(_hmac, tsig.KeyName, tsig.AlgorithmName, tsig.TimeSigned, tsig.Fudge, tsig.Error, tsig.OtherData);
        }
        else
        {
            TsigDigest.AppendTimers(_hmac, tsig.TimeSigned, tsig.Fudge);
        }
        _hmac.TryGetHashAndReset(_mac, out _);
        if (!CryptographicOperations.FixedTimeEquals(_mac.AsSpan(0, tsig.Mac.Length), tsig.Mac))
        {
            return TsigVerdict.BadSig;
        }
        ulong distance = now > tsig.TimeSigned ? now - tsig.TimeSigned : tsig.TimeSigned - now;
        if (distance > tsig.Fudge)
        {
            return TsigVerdict.BadTime;
        }
        if (tsig.Mac.Length < full)
        {
            return TsigVerdict.BadTrunc;
        }
        // The next message's digest starts with this MAC as it was sent (RFC 8945 §4.3.1).
        TsigDigest.AppendPriorMac(_hmac, tsig.Mac);
        _first = false;
        _unsigned = 0;
        LastWasSigned = true;
        return TsigVerdict.Verified;
    }

    public void Dispose() => _hmac.Dispose();
}
