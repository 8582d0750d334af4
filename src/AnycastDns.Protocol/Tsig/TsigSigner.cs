using System.Buffers.Binary;
using System.Security.Cryptography;

namespace AnycastDns.Protocol.Tsig;

/// <summary>
/// Signs the answer to one signed request, message by message (RFC 8945 §5.3): the first message's MAC covers the
/// request's MAC, the message and all the TSIG variables; each later message's covers the previous MAC, the message
/// and the timers alone (§5.3.1). Every message of a zone transfer is signed.
/// </summary>
public sealed class TsigSigner : IDisposable
{
    /// <summary>The time a signature is valid either side of Time Signed: 300 s, as RFC 8945 §10 recommends.</summary>
    public const ushort Fudge = 300;

    private readonly TsigKey _key;
    private readonly IncrementalHash _hmac;
    private readonly byte[] _priorMac = new byte[64];
    private int _priorMacLength;
    private bool _first = true;

    /// <param name="key">The key that verified the request.</param>
    /// <param name="requestMac">The request's MAC: the first message's digest starts with it. Empty: the signer signs a
    /// request (or a client's messages), whose digest has no prior MAC.</param>
    public TsigSigner(TsigKey key, ReadOnlySpan<byte> requestMac)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!key.CanSign)
        {
            throw new ArgumentException($"TSIG key {key} verifies only: it signs nothing", nameof(key));
        }
        _key = key;
        _hmac = TsigDigest.CreateHmac(key);
        requestMac.CopyTo(_priorMac);
        _priorMacLength = requestMac.Length;
    }

    public TsigKey Key => _key;

    /// <summary>The octets the TSIG record adds to a message (with <paramref name="otherLength"/> octets of Other Data).</summary>
    public int RecordLength(int otherLength = 0) =>
        TsigRecord.Length(_key.Name.Length, TsigAlgorithms.WireName(_key.Algorithm).Length, TsigAlgorithms.MacLength(_key.Algorithm), otherLength);

    /// <summary>
    /// Appends the TSIG record to the message in <paramref name="buffer"/>[..<paramref name="length"/>] and counts it in
    /// ARCOUNT; returns the new length, or 0 when the record does not fit the buffer (the message is then unchanged).
    /// </summary>
    /// <param name="timeSigned">Now, in seconds since 1970; for BADTIME, the request's Time Signed (RFC 8945 §5.2.3).</param>
    /// <param name="error">The TSIG error (0, or BADTIME or BADTRUNC, which are signed).</param>
    /// <param name="otherData">With BADTIME, the server's time (6 octets).</param>
    public int Sign(Span<byte> buffer, int length, ulong timeSigned, ushort error = TsigError.NoError, ReadOnlySpan<byte> otherData = default)
    {
        int macLength = TsigAlgorithms.MacLength(_key.Algorithm);
        if (length < Header.Length || length + RecordLength(otherData.Length) > Math.Min(buffer.Length, ushort.MaxValue))
        {
            return 0;
        }
        var message = buffer[..length];
        ushort id = BinaryPrimitives.ReadUInt16BigEndian(message);
        ushort additional = BinaryPrimitives.ReadUInt16BigEndian(message[10..]);
        var algorithmName = TsigAlgorithms.WireName(_key.Algorithm);
        // A request has no prior MAC (RFC 8945 §4.3.3): a signer given none signs requests.
        if (!_first || _priorMacLength > 0)
        {
            TsigDigest.AppendPriorMac(_hmac, _priorMac.AsSpan(0, _priorMacLength));
        }
        TsigDigest.AppendMessage(_hmac, message, id, additional);
        if (_first)
        {
            TsigDigest.AppendVariables(_hmac, _key.Name.Wire, algorithmName, timeSigned, Fudge, error, otherData);
        }
        else
        {
            TsigDigest.AppendTimers(_hmac, timeSigned, Fudge);
        }
        _hmac.TryGetHashAndReset(_priorMac, out _priorMacLength);
        _first = false;
        int end = WriteRecord(buffer, length, _key.Name.Wire, algorithmName, timeSigned, id, error, _priorMac.AsSpan(0, macLength), otherData);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[10..], (ushort)(additional + 1));
        return end;
    }

    /// <summary>
    /// Appends an unsigned TSIG record (MAC Size 0) carrying <paramref name="error"/>: the answer to a request whose key
    /// is unknown or whose MAC does not verify (RFC 8945 §5.2.1, §5.2.2), which the server cannot or must not sign.
    /// The key and algorithm names are the request's. Returns the new length, or 0 when it does not fit.
    /// </summary>
    public static int AppendUnsigned(Span<byte> buffer, int length, ReadOnlySpan<byte> keyName, ReadOnlySpan<byte> algorithmName, ulong timeSigned, ushort originalId, ushort error)
    {
        if (length < Header.Length || length + TsigRecord.Length(keyName.Length, algorithmName.Length, 0, 0) > Math.Min(buffer.Length, ushort.MaxValue))
        {
            return 0;
        }
        ushort additional = BinaryPrimitives.ReadUInt16BigEndian(buffer[10..]);
        int end = WriteRecord(buffer, length, keyName, algorithmName, timeSigned, originalId, error, [], []);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[10..], (ushort)(additional + 1));
        return end;
    }

    /// <summary>The TSIG record (RFC 8945 §4.2) at <paramref name="at"/>; returns where it ends.</summary>
    private static int WriteRecord(Span<byte> buffer, int at, ReadOnlySpan<byte> keyName, ReadOnlySpan<byte> algorithmName, ulong timeSigned, ushort originalId, ushort error, ReadOnlySpan<byte> mac, ReadOnlySpan<byte> otherData)
    {
        // Neither name is compressed: the owner could be, but uncompressed costs a few octets once per message and
        // reads the same to every verifier.
        keyName.CopyTo(buffer[at..]);
        at += keyName.Length;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[at..], (ushort)RecordType.TSIG);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[(at + 2)..], (ushort)RecordClass.ANY);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[(at + 4)..], 0);
        int rdlength = algorithmName.Length + 10 + mac.Length + 6 + otherData.Length;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[(at + 8)..], (ushort)rdlength);
        at += 10;
        algorithmName.CopyTo(buffer[at..]);
        at += algorithmName.Length;
        TsigDigest.WriteTimers(buffer[at..], timeSigned, Fudge);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[(at + 8)..], (ushort)mac.Length);
        at += 10;
        mac.CopyTo(buffer[at..]);
        at += mac.Length;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[at..], originalId);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[(at + 2)..], error);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[(at + 4)..], (ushort)otherData.Length);
        at += 6;
        otherData.CopyTo(buffer[at..]);
        return at + otherData.Length;
    }

    public void Dispose() => _hmac.Dispose();
}
