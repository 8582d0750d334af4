using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using AnycastDns.Authority;
using AnycastDns.Authority.Transfers;
using AnycastDns.Protocol;
using AnycastDns.Protocol.Tsig;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.Transfers;

/// <summary>
/// Zone transfers out over TCP, and the TSIG of every request that carries one: the part of a TCP connection's work
/// that answers one query with many messages (RFC 5936 §2.2) or signs what it sends (RFC 8945 §5.3). A connection
/// hands a frame here when <see cref="Handles"/> says so; everything else goes to the responder as before.
/// </summary>
/// <remarks>
/// Order of decisions for a frame: the TSIG record, if any (RFC 8945 §5.2: FORMERR, BADKEY, BADSIG, BADTIME, BADTRUNC);
/// then, for an AXFR, <c>Transfers:Allow</c> (REFUSED with EDE 18, as every transfer was refused before), the
/// concurrency limit (REFUSED), the zone (NOTAUTH); then the messages, each signed when the request was. Any other
/// signed query is answered by the responder and the answer signed. Nothing here logs per request except a completed
/// transfer (one line, to an allowed client).
/// </remarks>
public sealed partial class ZoneTransfers
{
    /// <summary>Room for a length prefix and the largest message.</summary>
    private const int FrameBuffer = 2 + ushort.MaxValue;

    private readonly Responder _responder;
    private readonly TransferAllowList _allow;
    private readonly Func<TsigKeyring> _keys;
    private readonly int _maxConcurrent;
    private readonly ushort _udpPayload;
    private readonly ILogger _logger;
    private int _running;

    public ZoneTransfers(Responder responder, TransferAllowList allow, TsigKeyring keys, int maxConcurrent, ushort udpPayload, ILogger logger)
        : this(responder, allow, () => keys, maxConcurrent, udpPayload, logger)
    {
    }

    /// <param name="keys">The TSIG keys in force, asked at each signed request: the keys file reloads (<see cref="TsigKeysReloader"/>).</param>
    public ZoneTransfers(Responder responder, TransferAllowList allow, Func<TsigKeyring> keys, int maxConcurrent, ushort udpPayload, ILogger logger)
    {
        _responder = responder;
        _allow = allow;
        _keys = keys;
        _maxConcurrent = maxConcurrent;
        _udpPayload = udpPayload;
        _logger = logger;
    }

    public TransferCounters Counters { get; } = new();

    /// <summary>Transfers sending now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>
    /// Whether a TCP frame is for this class: a query whose QTYPE is AXFR, or any message with a TSIG record (well-formed
    /// or not). Reads the header, the question's type and the records' types; allocates nothing.
    /// </summary>
    public static bool Handles(ReadOnlySpan<byte> query)
    {
        if (!Header.TryRead(query, out var header) || header.IsResponse)
        {
            return false;
        }
        int offset = Header.Length;
        if (header.QuestionCount == 1 && WireReader.SkipName(query, ref offset) == WireError.None && offset + 2 <= query.Length
            && BinaryPrimitives.ReadUInt16BigEndian(query[offset..]) == (ushort)RecordType.AXFR)
        {
            return true;
        }
        Span<byte> keyName = stackalloc byte[DnsName.MaxLength];
        Span<byte> algorithm = stackalloc byte[DnsName.MaxLength];
        return TsigRecord.Find(query, keyName, algorithm, out _) != TsigPresence.None;
    }

    /// <summary>
    /// Answers <paramref name="request"/> (the first <paramref name="length"/> octets; this method may change them)
    /// from the client <paramref name="clientSockaddr"/>: every framed message goes out through <paramref name="send"/>,
    /// which writes it before returning. Returns false when the connection should close after this answer.
    /// </summary>
    public async ValueTask<bool> AnswerAsync(byte[] request, int length, byte[] clientSockaddr, Func<byte[], int, ValueTask> send)
    {
        ArgumentNullException.ThrowIfNull(send);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(FrameBuffer);
        TsigSigner? signer = null;
        AxfrMessages? transfer = null;
        try
        {
            ulong now = TsigVerifier.Now();
            int written = Prepare(request, length, clientSockaddr, buffer, now, out signer, out transfer);
            if (transfer is null)
            {
                if (written > 0)
                {
                    await send(buffer, 2 + written).ConfigureAwait(false);
                }
                return written > 0;
            }
            return await SendTransferAsync(transfer, signer, buffer, now, clientSockaddr, send).ConfigureAwait(false);
        }
        finally
        {
            if (transfer is not null)
            {
                Interlocked.Decrement(ref _running);
            }
            signer?.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask<bool> SendTransferAsync(AxfrMessages transfer, TsigSigner? signer, byte[] buffer, ulong now, byte[] clientSockaddr, Func<byte[], int, ValueTask> send)
    {
        long started = Stopwatch.GetTimestamp();
        long octets = 0;
        bool completed = false;
        try
        {
            int reserve = signer?.RecordLength() ?? 0;
            while (true)
            {
                int written = transfer.WriteNext(buffer.AsSpan(2, ushort.MaxValue), reserve);
                if (written == 0)
                {
                    break;
                }
                if (written < 0)
                {
                    // A record larger than a message can hold with its owner: the secondary cannot have this zone by
                    // AXFR. The stream so far is closed with SERVFAIL, as RFC 5936 §2.2 ends a transfer that fails.
                    written = ServFail(transfer.Id, buffer, signer, now);
                    if (written > 0)
                    {
                        await send(buffer, 2 + written).ConfigureAwait(false);
                    }
                    LogTooLarge(_logger, transfer.Zone.Origin.ToString());
                    return false;
                }
                if (signer is not null && (written = signer.Sign(buffer.AsSpan(2, ushort.MaxValue), written, now)) == 0)
                {
                    // The message left room for exactly this record: not signing it is a bug, never a reason to send it unsigned.
                    throw new InvalidOperationException($"axfr {transfer.Zone.Origin}: no room for the TSIG record of message {transfer.Messages}");
                }
                BinaryPrimitives.WriteUInt16BigEndian(buffer, (ushort)written);
                await send(buffer, 2 + written).ConfigureAwait(false);
                octets += 2 + written;
                // A later message's Time Signed is when it was signed (RFC 8945 §5.3.1); a long transfer crosses seconds.
                now = TsigVerifier.Now();
            }
            completed = true;
            Counters.Count(TransferOutcome.Completed);
            LogCompleted(_logger, transfer.Zone.Origin.ToString(), transfer.Zone.Serial, ClientText(clientSockaddr),
                signer is null ? "unsigned" : signer.Key.ToString(), transfer.Records, transfer.Messages, octets,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return true;
        }
        finally
        {
            Counters.CountBytes(octets);
            if (!completed)
            {
                Counters.Count(TransferOutcome.Aborted);
            }
        }
    }

    /// <summary>
    /// Decides what <paramref name="request"/> gets. A single-message answer is written framed into
    /// <paramref name="buffer"/> (its length without the prefix returned; 0 for none); a transfer to run comes back
    /// in <paramref name="transfer"/>, holding a place under the concurrency limit.
    /// </summary>
    private int Prepare(byte[] request, int length, byte[] clientSockaddr, byte[] buffer, ulong now, out TsigSigner? signer, out AxfrMessages? transfer)
    {
        signer = null;
        transfer = null;
        var response = buffer.AsSpan(2, ushort.MaxValue);
        Span<byte> keyNameBuffer = stackalloc byte[DnsName.MaxLength];
        Span<byte> algorithmBuffer = stackalloc byte[DnsName.MaxLength];
        var message = request.AsSpan(0, length);
        var presence = TsigRecord.Find(message, keyNameBuffer, algorithmBuffer, out var tsig);
        TsigKey? key = null;
        bool isAxfr = IsAxfr(message);
        if (presence == TsigPresence.Malformed)
        {
            // RFC 8945 §5.1: FORMERR, unsigned.
            CountIf(isAxfr, TransferOutcome.TsigError);
            return Frame(buffer, AxfrMessages.WriteError(message, response, (int)ResponseCode.FormErr, -1, _udpPayload));
        }
        if (presence == TsigPresence.Present)
        {
            var verdict = TsigVerifier.Verify(message, tsig, _keys(), now, out key);
            // From here the request is read without its TSIG record (RFC 8945 §4.3.2: what the MAC covered).
            BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(10), (ushort)(BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(10)) - 1));
            message = request.AsSpan(0, tsig.Start);
            if (verdict != TsigVerdict.Verified)
            {
                CountIf(isAxfr, TransferOutcome.TsigError);
                return Frame(buffer, TsigErrorAnswer(message, response, verdict, tsig, key, now));
            }
            if (!key!.CanSign)
            {
                // An HMAC-SHA1 key verifies, and signs nothing: the request is understood and refused, unsigned.
                CountIf(isAxfr, TransferOutcome.Refused);
                return Frame(buffer, AxfrMessages.WriteError(message, response, (int)ResponseCode.Refused, ExtendedErrorCode.Prohibited, _udpPayload));
            }
            signer = new TsigSigner(key, tsig.Mac);
        }
        int reserve = signer?.RecordLength() ?? 0;
        var room = response[..(ushort.MaxValue - reserve)];
        int written;
        if (!isAxfr)
        {
            // A signed query of any other kind: the responder's answer, signed (RFC 8945 §5.3).
            written = _responder.Respond(message, room, Transport.Tcp, Listeners.ClientAddress.Of(clientSockaddr), out _);
            return Frame(buffer, Sign(signer, response, written, now));
        }
        if (!_allow.Allows(Listeners.ClientAddress.Of(clientSockaddr), key))
        {
            // As every transfer was refused before there were transfers: REFUSED, EDE 18 Prohibited (RFC 5936 §2.2.1).
            Counters.Count(TransferOutcome.Refused);
            written = _responder.Respond(message, room, Transport.Tcp, Listeners.ClientAddress.Of(clientSockaddr), out _);
            return Frame(buffer, Sign(signer, response, written, now));
        }
        var opening = AxfrMessages.Open(message, _responder.Zones.Current, _udpPayload, out var messages);
        switch (opening)
        {
            case AxfrOpening.NotATransfer:
                // Not a well-formed AXFR query after all (FORMERR, BADVERS...): the responder says what is wrong.
                written = _responder.Respond(message, room, Transport.Tcp, Listeners.ClientAddress.Of(clientSockaddr), out _);
                return Frame(buffer, Sign(signer, response, written, now));
            case AxfrOpening.NotAuthoritative:
                Counters.Count(TransferOutcome.NotAuthoritative);
                written = AxfrMessages.WriteError(message, room, (int)ResponseCode.NotAuth, ExtendedErrorCode.NotAuthoritative, _udpPayload);
                return Frame(buffer, Sign(signer, response, written, now));
            case AxfrOpening.NotReady:
                Counters.Count(TransferOutcome.NotAuthoritative);
                written = AxfrMessages.WriteError(message, room, (int)ResponseCode.ServFail, ExtendedErrorCode.NotReady, _udpPayload);
                return Frame(buffer, Sign(signer, response, written, now));
        }
        if (Interlocked.Increment(ref _running) > _maxConcurrent)
        {
            Interlocked.Decrement(ref _running);
            Counters.Count(TransferOutcome.OverLimit);
            written = AxfrMessages.WriteError(message, room, (int)ResponseCode.Refused, -1, _udpPayload);
            return Frame(buffer, Sign(signer, response, written, now));
        }
        transfer = messages;
        return 0;
    }

    /// <summary>
    /// The answer to a request whose TSIG failed (RFC 8945 §5.2): FORMERR for a MAC of impossible length; otherwise
    /// NOTAUTH with the TSIG error: unsigned for BADKEY and BADSIG (§5.2.1, §5.2.2), signed for BADTIME (with the
    /// request's Time Signed and the server's time in Other Data, §5.2.3) and BADTRUNC (§5.2.4).
    /// </summary>
    private int TsigErrorAnswer(ReadOnlySpan<byte> message, Span<byte> response, TsigVerdict verdict, scoped in TsigRecord tsig, TsigKey? key, ulong now)
    {
        if (verdict == TsigVerdict.FormErr)
        {
            return AxfrMessages.WriteError(message, response, (int)ResponseCode.FormErr, -1, _udpPayload);
        }
        int written = AxfrMessages.WriteError(message, response, (int)ResponseCode.NotAuth, -1, _udpPayload);
        if (written == 0)
        {
            return 0;
        }
        ushort error = TsigVerifier.ErrorOf(verdict);
        if (verdict is TsigVerdict.BadKey or TsigVerdict.BadSig || key is null || !key.CanSign)
        {
            return TsigSigner.AppendUnsigned(response, written, tsig.KeyName, tsig.AlgorithmName, now, BinaryPrimitives.ReadUInt16BigEndian(response), error);
        }
        using var signer = new TsigSigner(key, tsig.Mac);
        if (verdict == TsigVerdict.BadTime)
        {
            Span<byte> serverTime = stackalloc byte[6];
            BinaryPrimitives.WriteUInt16BigEndian(serverTime, (ushort)(now >> 32));
            BinaryPrimitives.WriteUInt32BigEndian(serverTime[2..], (uint)now);
            return signer.Sign(response, written, tsig.TimeSigned, error, serverTime);
        }
        return signer.Sign(response, written, now, error);
    }

    /// <summary>SERVFAIL in place of the rest of a transfer that cannot go on.</summary>
    private static int ServFail(ushort id, byte[] buffer, TsigSigner? signer, ulong now)
    {
        var response = buffer.AsSpan(2, ushort.MaxValue);
        var header = new Header { Id = id, Flags = (ushort)(Header.QrBit | (int)ResponseCode.ServFail) };
        header.Write(response);
        return Frame(buffer, Sign(signer, response, Header.Length, now));
    }

    /// <summary>The client's address as text, for the one line a completed transfer logs.</summary>
    private static string ClientText(byte[] sockaddr)
    {
        var address = Listeners.ClientAddress.Of(sockaddr);
        return address.Length is 4 or 16 ? new System.Net.IPAddress(address).ToString() : "unknown";
    }

    private static int Sign(TsigSigner? signer, Span<byte> response, int written, ulong now) =>
        signer is null || written == 0 ? written : signer.Sign(response, written, now);

    /// <summary>Writes the length prefix of a message already in <paramref name="buffer"/>[2..]; returns its length.</summary>
    private static int Frame(byte[] buffer, int length)
    {
        BinaryPrimitives.WriteUInt16BigEndian(buffer, (ushort)length);
        return length;
    }

    private void CountIf(bool isAxfr, TransferOutcome outcome)
    {
        if (isAxfr)
        {
            Counters.Count(outcome);
        }
    }

    private static bool IsAxfr(ReadOnlySpan<byte> query)
    {
        int offset = Header.Length;
        return query.Length >= Header.Length && BinaryPrimitives.ReadUInt16BigEndian(query[4..]) == 1
            && WireReader.SkipName(query, ref offset) == WireError.None && offset + 2 <= query.Length
            && BinaryPrimitives.ReadUInt16BigEndian(query[offset..]) == (ushort)RecordType.AXFR;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "axfr {Zone} serial {Serial} to {Client} ({Tsig}): {Records} records in {Messages} messages, {Octets} octets, {Milliseconds:F0} ms")]
    private static partial void LogCompleted(ILogger logger, string zone, uint serial, string client, string tsig, long records, int messages, long octets, double milliseconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "axfr {Zone}: a record does not fit in a 65,535-octet message; the transfer ended with SERVFAIL")]
    private static partial void LogTooLarge(ILogger logger, string zone);
}
