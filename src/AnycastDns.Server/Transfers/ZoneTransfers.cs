using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using AnycastDns.Authority;
using AnycastDns.Authority.Transfers;
using AnycastDns.Protocol;
using AnycastDns.Protocol.Tsig;
using AnycastDns.Server.RateLimiting;
using AnycastDns.Server.Telemetry;
using AnycastDns.Zones;
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
internal sealed partial class ZoneTransfers
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

    public ZoneTransfers(Responder responder, TransferAllowList allow, TsigKeyring keys, int maxConcurrent, ushort udpPayload, ZoneHistory history, ILogger logger)
        : this(responder, allow, () => keys, maxConcurrent, udpPayload, history, logger)
    {
    }

    /// <param name="keys">The TSIG keys in force, asked at each signed request: the keys file reloads (<see cref="TsigKeysReloader"/>).</param>
    public ZoneTransfers(Responder responder, TransferAllowList allow, Func<TsigKeyring> keys, int maxConcurrent, ushort udpPayload, ZoneHistory history, ILogger logger)
    {
        _responder = responder;
        History = history;
        _allow = allow;
        _keys = keys;
        _maxConcurrent = maxConcurrent;
        _udpPayload = udpPayload;
        _logger = logger;
    }

    public TransferCounters Counters { get; } = new();

    /// <summary>The differences IXFR answers from, fed by the zone reloads.</summary>
    public ZoneHistory History { get; }

    /// <summary>Transfers sending now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>
    /// Keeps the differences a reload brought in <see cref="History"/> (on the reloading thread, after the swap; an
    /// IXFR meanwhile is answered with the whole zone), one line per zone whose difference was computed.
    /// </summary>
    public void RecordHistory(IReadOnlyList<ZoneChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        long started = Stopwatch.GetTimestamp();
        try
        {
            History.Record(changes);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or OutOfMemoryException)
        {
            // Losing the history costs full transfers, never a wrong one: every IXFR is answered with the whole zone.
            LogHistoryLost(_logger, e.Message);
            return;
        }
        foreach (var change in changes)
        {
            if (change is { Kind: ZoneChangeKind.Updated, After: { } after, Before: { } before })
            {
                LogHistory(_logger, after.Origin.ToString(), before.Serial, after.Serial, History.Versions(after.Origin),
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
    }

    /// <summary>
    /// Whether a TCP frame is for this class: a query whose QTYPE is AXFR or IXFR, or any message with a TSIG record
    /// (well-formed or not). Reads the header, the question's type and the records' types; allocates nothing.
    /// </summary>
    public static bool Handles(ReadOnlySpan<byte> query)
    {
        if (!Header.TryRead(query, out var header) || header.IsResponse)
        {
            return false;
        }
        int offset = Header.Length;
        if (header.QuestionCount == 1 && WireReader.SkipName(query, ref offset) == WireError.None && offset + 2 <= query.Length
            && BinaryPrimitives.ReadUInt16BigEndian(query[offset..]) is (ushort)RecordType.AXFR or (ushort)RecordType.IXFR)
        {
            return true;
        }
        return TsigRecord.IsCarried(query);
    }

    /// <summary>
    /// Answers <paramref name="request"/> (the first <paramref name="length"/> octets; this method may change them)
    /// from the client <paramref name="clientSockaddr"/>: every framed message goes out through <paramref name="send"/>,
    /// which writes it before returning. Returns false when the connection should close after this answer.
    /// </summary>
    /// <remarks>
    /// The request is counted once in <paramref name="stats"/> (by QTYPE and RCODE, as the responder's answers are):
    /// before the first await, so on the thread that owns <paramref name="stats"/>; a transfer when its first message
    /// is written.
    /// </remarks>
    public async ValueTask<bool> AnswerAsync(byte[] request, int length, byte[] clientSockaddr, QueryStats stats, Func<byte[], int, ValueTask> send)
    {
        ArgumentNullException.ThrowIfNull(send);
        ArgumentNullException.ThrowIfNull(stats);
        long start = stats.Start();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(FrameBuffer);
        TsigSigner? signer = null;
        TransferMessages? transfer = null;
        try
        {
            ulong now = TsigVerifier.Now();
            int written = Prepare(request, length, clientSockaddr, buffer, now, out signer, out transfer, out var decision);
            if (transfer is null)
            {
                stats.Count(decision, RateLimitAction.Answer, start, clientSockaddr, buffer.AsSpan(2));
                if (written > 0)
                {
                    await send(buffer, 2 + written).ConfigureAwait(false);
                }
                return written > 0;
            }
            return await SendTransferAsync(transfer, signer, buffer, now, clientSockaddr, (stats, start), send).ConfigureAwait(false);
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

    private async ValueTask<bool> SendTransferAsync(TransferMessages transfer, TsigSigner? signer, byte[] buffer, ulong now, byte[] clientSockaddr, (QueryStats Stats, long Start) counting, Func<byte[], int, ValueTask> send)
    {
        long started = Stopwatch.GetTimestamp();
        long octets = 0;
        bool completed = false;
        string? error = null;
        // Null, and nothing allocated, without a listener.
        var activity = ServerActivities.StartTransfer(transfer, Listeners.ClientAddress.Of(clientSockaddr), signer?.Key);
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
                    if (transfer.Messages == 0)
                    {
                        CountTransfer(counting, written, (int)ResponseCode.ServFail, buffer, clientSockaddr);
                    }
                    if (written > 0)
                    {
                        await send(buffer, 2 + written).ConfigureAwait(false);
                    }
                    LogTooLarge(_logger, transfer.Kind, transfer.Zone.Origin.ToString());
                    error = "a record does not fit in a message: ended with SERVFAIL";
                    return false;
                }
                if (signer is not null && (written = signer.Sign(buffer.AsSpan(2, ushort.MaxValue), written, now)) == 0)
                {
                    // The message left room for exactly this record: not signing it is a bug, never a reason to send it unsigned.
                    throw new InvalidOperationException($"axfr {transfer.Zone.Origin}: no room for the TSIG record of message {transfer.Messages}");
                }
                BinaryPrimitives.WriteUInt16BigEndian(buffer, (ushort)written);
                if (transfer.Messages == 1)
                {
                    CountTransfer(counting, written, (int)ResponseCode.NoError, buffer, clientSockaddr);
                }
                await send(buffer, 2 + written).ConfigureAwait(false);
                octets += 2 + written;
                // A later message's Time Signed is when it was signed (RFC 8945 §5.3.1); a long transfer crosses seconds.
                now = TsigVerifier.Now();
            }
            completed = true;
            Counters.Count(transfer.IsIxfr, TransferOutcome.Completed);
            LogCompleted(_logger, transfer.Kind, transfer.Zone.Origin.ToString(), transfer.Zone.Serial, ClientText(clientSockaddr),
                signer is null ? "unsigned" : signer.Key.ToString(), transfer.Records, transfer.Messages, octets,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return true;
        }
        catch (Exception e) when (Noted(e, ref error))
        {
            throw; // Not reached: the filter only keeps what ended the transfer for its span.
        }
        finally
        {
            Counters.CountBytes(octets);
            if (!completed)
            {
                Counters.Count(transfer.IsIxfr, TransferOutcome.Aborted);
            }
            ServerActivities.EndTransfer(activity, transfer, octets, completed, error);
        }
    }

    /// <summary>
    /// Decides what <paramref name="request"/> gets. A single-message answer is written framed into
    /// <paramref name="buffer"/> (its length without the prefix returned; 0 for none) and described in
    /// <paramref name="decision"/>; a transfer to run comes back in <paramref name="transfer"/>, holding a place under
    /// the concurrency limit.
    /// </summary>
    private int Prepare(byte[] request, int length, byte[] clientSockaddr, byte[] buffer, ulong now, out TsigSigner? signer, out TransferMessages? transfer, out ResponseDecision decision)
    {
        transfer = null;
        var response = buffer.AsSpan(2, ushort.MaxValue);
        var type = TransferType(request.AsSpan(0, length));
        bool ixfr = type == RecordType.IXFR;
        var client = Listeners.ClientAddress.Of(clientSockaddr);
        if (!PassesTsig(request.AsSpan(0, length), ref length, response, now, type, out signer, out var key, out int written, out decision))
        {
            return Frame(buffer, written);
        }
        var message = request.AsSpan(0, length);
        int reserve = signer?.RecordLength() ?? 0;
        var room = response[..(ushort.MaxValue - reserve)];
        if (type == 0)
        {
            // A signed query of any other kind: the responder's answer, signed (RFC 8945 §5.3).
            written = _responder.Respond(message, room, Transport.Tcp, client, out decision);
            return Frame(buffer, Signed(signer, response, written, now, ref decision));
        }
        if (!_allow.Allows(client, key))
        {
            // As every transfer was refused before there were transfers: REFUSED, EDE 18 Prohibited (RFC 5936 §2.2.1).
            Counters.Count(ixfr, TransferOutcome.Refused);
            written = _responder.Respond(message, room, Transport.Tcp, client, out decision);
            return Frame(buffer, Signed(signer, response, written, now, ref decision));
        }
        TransferMessages? messages;
        TransferOpening opening;
        if (ixfr)
        {
            opening = IxfrMessages.Open(message, Transport.Tcp, _responder.Zones.Current, History, _udpPayload, out messages);
        }
        else
        {
            opening = AxfrMessages.Open(message, _responder.Zones.Current, _udpPayload, out var axfr);
            messages = axfr;
        }
        switch (opening)
        {
            case TransferOpening.NotATransfer:
                // Not a well-formed AXFR query after all (FORMERR, BADVERS...): the responder says what is wrong.
                written = _responder.Respond(message, room, Transport.Tcp, client, out decision);
                return Frame(buffer, Signed(signer, response, written, now, ref decision));
            case TransferOpening.Malformed:
                // RFC 1995 §3: an IXFR query carries the client's SOA in its authority section.
                written = TransferMessages.WriteError(message, room, (int)ResponseCode.FormErr, -1, _udpPayload);
                return Frame(buffer, SignedError(signer, response, written, now, (int)ResponseCode.FormErr, out decision));
            case TransferOpening.NotAuthoritative:
                Counters.Count(ixfr, TransferOutcome.NotAuthoritative);
                written = TransferMessages.WriteError(message, room, (int)ResponseCode.NotAuth, ExtendedErrorCode.NotAuthoritative, _udpPayload);
                return Frame(buffer, SignedError(signer, response, written, now, (int)ResponseCode.NotAuth, out decision));
            case TransferOpening.NotReady:
                Counters.Count(ixfr, TransferOutcome.NotAuthoritative);
                written = TransferMessages.WriteError(message, room, (int)ResponseCode.ServFail, ExtendedErrorCode.NotReady, _udpPayload);
                return Frame(buffer, SignedError(signer, response, written, now, (int)ResponseCode.ServFail, out decision));
        }
        if (Interlocked.Increment(ref _running) > _maxConcurrent)
        {
            Interlocked.Decrement(ref _running);
            Counters.Count(ixfr, TransferOutcome.OverLimit);
            written = TransferMessages.WriteError(message, room, (int)ResponseCode.Refused, -1, _udpPayload);
            return Frame(buffer, SignedError(signer, response, written, now, (int)ResponseCode.Refused, out decision));
        }
        if (messages is AxfrMessages { IsIxfr: true })
        {
            Counters.CountIxfrInFull();
        }
        transfer = messages;
        decision = default;
        return 0;
    }

    /// <summary>
    /// Answers a UDP query that carries a TSIG record (<see cref="TsigRecord.IsCarried"/>) into
    /// <paramref name="response"/>, as <see cref="AnswerAsync"/> answers one over TCP (RFC 8945 §5.2, §5.3): the
    /// same checks and error answers; a verified request gets the responder's answer signed with the request's MAC,
    /// within the client's UDP size with the TSIG record counted, so that an answer too long is truncated (TC) and
    /// then signed, and the client retries over TCP. An AXFR stays refused over UDP (RFC 5936 §4.2), signed when the
    /// request was. Returns the length (0: no answer); <paramref name="verified"/> says the request's MAC verified.
    /// </summary>
    /// <remarks>Off the hot path: it copies the query (to take its TSIG record off) and allocates the HMAC of a signer.</remarks>
    public int AnswerDatagram(ReadOnlySpan<byte> query, Span<byte> response, ReadOnlySpan<byte> clientSockaddr, out ResponseDecision decision, out bool verified)
    {
        verified = false;
        var client = Listeners.ClientAddress.Of(clientSockaddr);
        byte[] request = ArrayPool<byte>.Shared.Rent(query.Length);
        TsigSigner? signer = null;
        try
        {
            query.CopyTo(request);
            ulong now = TsigVerifier.Now();
            int length = query.Length;
            var bounded = response[..Math.Min(response.Length, _responder.UdpLimit(query))];
            if (!PassesTsig(request.AsSpan(0, length), ref length, bounded, now, TransferType(query), out signer, out var key, out int written, out decision))
            {
                return written;
            }
            if (signer is null)
            {
                // A TSIG record that TsigRecord.Find cannot reach (the records before it do not read): the query's own
                // checks say what is wrong with it.
                return _responder.Respond(query, response, Transport.Udp, client, out decision);
            }
            verified = true;
            if (TransferType(request.AsSpan(0, length)) == RecordType.IXFR)
            {
                written = AnswerIxfr(request.AsSpan(0, length), bounded, client, key, signer.RecordLength(), out decision);
                return Signed(signer, bounded, written, now, ref decision);
            }
            written = _responder.Respond(request.AsSpan(0, length), bounded, Transport.Udp, client, signer.RecordLength(), out decision);
            return Signed(signer, bounded, written, now, ref decision);
        }
        finally
        {
            signer?.Dispose();
            ArrayPool<byte>.Shared.Return(request);
        }
    }

    /// <summary>
    /// Answers an unsigned IXFR over UDP (RFC 1995 §2) into <paramref name="response"/>, within the client's UDP size:
    /// the difference or the whole zone when it fits in one datagram, else the current SOA alone so that the client
    /// retries over TCP. Called by the UDP listener for what the responder refused as an IXFR, so that other queries
    /// pay nothing for it. Returns the length (0: no answer).
    /// </summary>
    public int AnswerIxfrDatagram(ReadOnlySpan<byte> query, Span<byte> response, ReadOnlySpan<byte> clientSockaddr, out ResponseDecision decision)
    {
        var bounded = response[..Math.Min(response.Length, _responder.UdpLimit(query))];
        return AnswerIxfr(query, bounded, Listeners.ClientAddress.Of(clientSockaddr), null, 0, out decision);
    }

    /// <summary>An IXFR over UDP, verified when <paramref name="key"/> is set, answered unsigned in <paramref name="response"/> with <paramref name="reserve"/> octets left for the TSIG record.</summary>
    private int AnswerIxfr(ReadOnlySpan<byte> message, Span<byte> response, ReadOnlySpan<byte> client, TsigKey? key, int reserve, out ResponseDecision decision)
    {
        var room = response[..(response.Length - reserve)];
        if (!_allow.Allows(client, key))
        {
            Counters.Count(true, TransferOutcome.Refused);
            return _responder.Respond(message, room, Transport.Udp, client, out decision);
        }
        var opening = IxfrMessages.Open(message, Transport.Udp, _responder.Zones.Current, History, _udpPayload, out var messages);
        int rcode;
        int written;
        switch (opening)
        {
            case TransferOpening.Transfer:
                written = messages!.WriteNext(response, reserve);
                if (written <= 0 || !messages.IsComplete)
                {
                    // RFC 1995 §2: what does not fit in the datagram is not truncated; the SOA alone sends the client to TCP.
                    written = IxfrMessages.CurrentSoa(messages).WriteNext(response, reserve);
                }
                else if (messages is AxfrMessages)
                {
                    Counters.CountIxfrInFull();
                }
                Counters.Count(true, TransferOutcome.Completed);
                decision = Decided(response, written, (int)ResponseCode.NoError);
                return written;
            case TransferOpening.NotATransfer:
                return _responder.Respond(message, room, Transport.Udp, client, out decision);
            case TransferOpening.Malformed:
                rcode = (int)ResponseCode.FormErr;
                written = TransferMessages.WriteError(message, room, rcode, -1, _udpPayload);
                break;
            case TransferOpening.NotAuthoritative:
                Counters.Count(true, TransferOutcome.NotAuthoritative);
                rcode = (int)ResponseCode.NotAuth;
                written = TransferMessages.WriteError(message, room, rcode, ExtendedErrorCode.NotAuthoritative, _udpPayload);
                break;
            default:
                Counters.Count(true, TransferOutcome.NotAuthoritative);
                rcode = (int)ResponseCode.ServFail;
                written = TransferMessages.WriteError(message, room, rcode, ExtendedErrorCode.NotReady, _udpPayload);
                break;
        }
        decision = Decided(response, written, rcode);
        return written;
    }

    /// <summary>
    /// The TSIG step of a request (RFC 8945 §5.2), the same over TCP and UDP. True: the request goes on, unsigned or to
    /// be signed by <paramref name="signer"/>, its TSIG record taken off (ARCOUNT, and <paramref name="length"/> cut to
    /// what the MAC covered, §4.3.2). False: the request is answered here, in <paramref name="response"/>
    /// (<paramref name="written"/> octets, described in <paramref name="decision"/>).
    /// </summary>
    private bool PassesTsig(Span<byte> request, ref int length, Span<byte> response, ulong now, RecordType type, out TsigSigner? signer, out TsigKey? key, out int written, out ResponseDecision decision)
    {
        signer = null;
        key = null;
        written = 0;
        decision = default;
        Span<byte> keyNameBuffer = stackalloc byte[DnsName.MaxLength];
        Span<byte> algorithmBuffer = stackalloc byte[DnsName.MaxLength];
        var presence = TsigRecord.Find(request[..length], keyNameBuffer, algorithmBuffer, out var tsig);
        if (presence == TsigPresence.None)
        {
            return true;
        }
        int rcode;
        if (presence == TsigPresence.Malformed)
        {
            // RFC 8945 §5.1: FORMERR, unsigned.
            CountIf(type, TransferOutcome.TsigError);
            rcode = (int)ResponseCode.FormErr;
            written = TransferMessages.WriteError(request[..length], response, rcode, -1, _udpPayload);
            decision = Decided(response, written, rcode);
            return false;
        }
        var verdict = TsigVerifier.Verify(request[..length], tsig, _keys(), now, out key);
        BinaryPrimitives.WriteUInt16BigEndian(request[10..], (ushort)(BinaryPrimitives.ReadUInt16BigEndian(request[10..]) - 1));
        length = tsig.Start;
        var message = request[..length];
        if (verdict != TsigVerdict.Verified)
        {
            CountIf(type, TransferOutcome.TsigError);
            rcode = verdict == TsigVerdict.FormErr ? (int)ResponseCode.FormErr : (int)ResponseCode.NotAuth;
            written = TsigErrorAnswer(message, response, verdict, tsig, key, now);
            decision = Decided(response, written, rcode);
            return false;
        }
        if (!key!.CanSign)
        {
            // An HMAC-SHA1 key verifies, and signs nothing: the request is understood and refused, unsigned.
            CountIf(type, TransferOutcome.Refused);
            rcode = (int)ResponseCode.Refused;
            written = TransferMessages.WriteError(message, response, rcode, ExtendedErrorCode.Prohibited, _udpPayload);
            decision = Decided(response, written, rcode);
            return false;
        }
        signer = new TsigSigner(key, tsig.Mac);
        return true;
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
            return TransferMessages.WriteError(message, response, (int)ResponseCode.FormErr, -1, _udpPayload);
        }
        int written = TransferMessages.WriteError(message, response, (int)ResponseCode.NotAuth, -1, _udpPayload);
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

    /// <summary>Keeps what ended a transfer (the client went away, mostly) for its span; false, so the exception goes on.</summary>
    private static bool Noted(Exception e, ref string? error)
    {
        error = e.Message;
        return false;
    }

    /// <summary>The client's address as text, for the one line a completed transfer logs.</summary>
    private static string ClientText(byte[] sockaddr)
    {
        var address = Listeners.ClientAddress.Of(sockaddr);
        return address.Length is 4 or 16 ? new System.Net.IPAddress(address).ToString() : "unknown";
    }

    private static int Sign(TsigSigner? signer, Span<byte> response, int written, ulong now) =>
        signer is null || written == 0 ? written : signer.Sign(response, written, now);

    /// <summary>The responder's answer signed, and its decision told the signed length (what the query log reads).</summary>
    private static int Signed(TsigSigner? signer, Span<byte> response, int written, ulong now, ref ResponseDecision decision)
    {
        written = Sign(signer, response, written, now);
        decision.Length = written;
        return written;
    }

    /// <summary>An answer without records written here (not by the responder), signed, and described for statistics.</summary>
    private static int SignedError(TsigSigner? signer, Span<byte> response, int written, ulong now, int rcode, out ResponseDecision decision)
    {
        written = Sign(signer, response, written, now);
        decision = Decided(response, written, rcode);
        return written;
    }

    /// <summary>
    /// What statistics need of an answer written here rather than by the responder: its RCODE (known to the caller)
    /// and the question it echoes, read back from the answer's start (uncompressed there: nothing precedes it).
    /// </summary>
    private static ResponseDecision Decided(ReadOnlySpan<byte> response, int length, int rcode)
    {
        var decision = new ResponseDecision
        {
            Length = length,
            Rcode = (ushort)rcode,
            Class = length == 0 ? ResponseClass.Dropped : rcode == (int)ResponseCode.NoError ? ResponseClass.Positive : ResponseClass.Error,
        };
        int offset = Header.Length;
        if (length > Header.Length && BinaryPrimitives.ReadUInt16BigEndian(response[4..]) == 1
            && WireReader.SkipName(response[..length], ref offset) == WireError.None && offset + 2 <= length)
        {
            decision.QNameLength = offset - Header.Length;
            decision.QType = BinaryPrimitives.ReadUInt16BigEndian(response[offset..]);
        }
        return decision;
    }

    /// <summary>Counts a transfer once, by its first message (in <paramref name="buffer"/>[2..]), before that message is sent.</summary>
    private static void CountTransfer((QueryStats Stats, long Start) counting, int written, int rcode, byte[] buffer, byte[] clientSockaddr)
    {
        var response = buffer.AsSpan(2);
        counting.Stats.Count(Decided(response, written, rcode), RateLimitAction.Answer, counting.Start, clientSockaddr, response);
    }

    /// <summary>Writes the length prefix of a message already in <paramref name="buffer"/>[2..]; returns its length.</summary>
    private static int Frame(byte[] buffer, int length)
    {
        BinaryPrimitives.WriteUInt16BigEndian(buffer, (ushort)length);
        return length;
    }

    private void CountIf(RecordType type, TransferOutcome outcome)
    {
        if (type != 0)
        {
            Counters.Count(type == RecordType.IXFR, outcome);
        }
    }

    /// <summary>AXFR or IXFR when that is the query's QTYPE, else 0.</summary>
    private static RecordType TransferType(ReadOnlySpan<byte> query)
    {
        int offset = Header.Length;
        if (query.Length >= Header.Length && BinaryPrimitives.ReadUInt16BigEndian(query[4..]) == 1
            && WireReader.SkipName(query, ref offset) == WireError.None && offset + 2 <= query.Length
            && (RecordType)BinaryPrimitives.ReadUInt16BigEndian(query[offset..]) is RecordType.AXFR or RecordType.IXFR)
        {
            return (RecordType)BinaryPrimitives.ReadUInt16BigEndian(query[offset..]);
        }
        return 0;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Kind} {Zone} serial {Serial} to {Client} ({Tsig}): {Records} records in {Messages} messages, {Octets} octets, {Milliseconds:F0} ms")]
    private static partial void LogCompleted(ILogger logger, string kind, string zone, uint serial, string client, string tsig, long records, int messages, long octets, double milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "ixfr history {Zone}: serial {Before} -> {After}; older versions IXFR can answer from: {Versions}; {Milliseconds:F0} ms")]
    private static partial void LogHistory(ILogger logger, string zone, uint before, uint after, int versions, double milliseconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Kind} {Zone}: a record does not fit in a 65,535-octet message; the transfer ended with SERVFAIL")]
    private static partial void LogTooLarge(ILogger logger, string kind, string zone);

    [LoggerMessage(Level = LogLevel.Error, Message = "ixfr history: {Error}; IXFR will be answered with whole zones")]
    private static partial void LogHistoryLost(ILogger logger, string error);
}
