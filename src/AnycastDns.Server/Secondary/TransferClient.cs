using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using AnycastDns.Protocol;
using AnycastDns.Protocol.Tsig;
using AnycastDns.Zones;

namespace AnycastDns.Server.Secondary;

/// <summary>
/// One exchange with a primary over TCP (RFC 7766; RFC 5936 §4.1 for AXFR, RFC 1995 §2 for IXFR): the request,
/// TSIG-signed when a key is set, then the answer's messages, each verified (RFC 8945 §5.3.1), until the transfer's
/// closing SOA. Returns the answer records in order, RDATA uncompressed, read straight from each message into a
/// <see cref="TransferRecords"/> (no object per record). Every failure is a
/// <see cref="TransferException"/> with one line saying what was wrong.
/// </summary>
internal static class TransferClient
{
    /// <summary>The most messages one transfer may take: a bound on what a broken or hostile primary can send.</summary>
    private const int MaxMessages = 1_000_000;

    /// <summary>How long the SOA query over UDP waits for each answer: three tries, then TCP (1.75 s in all).</summary>
    private static readonly TimeSpan[] UdpWaits = [TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1)];

    /// <summary>
    /// Asks a primary for the zone's SOA (RFC 1034 §4.3.5) over UDP, as NSD's xfrd does: no connection for a check that
    /// usually finds the serial unchanged. Over TCP (<see cref="ExchangeAsync"/>), whose answer is final, when the UDP
    /// answer is anything but a verified NOERROR with the SOA (truncated, an error, unsigned), when none comes after
    /// three tries, or when the primary cannot be reached over UDP; a datagram that does not answer the query (another
    /// ID or question, RFC 5452 §9.1) is passed over.
    /// </summary>
    public static async Task<TransferRecords> QuerySoaAsync(IPEndPoint primary, TsigKey? key, DnsName origin, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(origin);
        // The UDP tries take at most 1.75 s (and half the timeout); TCP then has the whole timeout, as if asked first.
        if (await QuerySoaOverUdpAsync(primary, key, origin, timeout, cancellationToken).ConfigureAwait(false) is { } answer)
        {
            return answer;
        }
        return await ExchangeAsync(primary, key, origin, RecordType.SOA, null, timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The SOA over UDP, or null when TCP should be asked: the answer is anything but a verified NOERROR with the SOA
    /// (truncated, an error, unsigned: some primaries answer their zones only to the transfer clients they let in over
    /// TCP; Knot REFUSES its generated catalog over UDP), or none came after three tries, or UDP is unreachable.
    /// </summary>
    private static async Task<TransferRecords?> QuerySoaOverUdpAsync(IPEndPoint primary, TsigKey? key, DnsName origin, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (request, length, id, verifier) = Request(key, origin, RecordType.SOA, null, new EdnsRecord { UdpPayloadSize = 1232 });
        try
        {
            using var socket = new Socket(primary.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            byte[] answer = new byte[ushort.MaxValue];
            byte[] rdata = new byte[ushort.MaxValue];
            string what = $"SOA of {origin} from {primary} over UDP";
            var started = System.Diagnostics.Stopwatch.StartNew();
            await socket.ConnectAsync(primary, cancellationToken).ConfigureAwait(false);
            foreach (var wait in UdpWaits)
            {
                if (started.Elapsed + wait > timeout / 2)
                {
                    break;
                }
                await socket.SendAsync(request.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(wait);
                try
                {
                    while (true)
                    {
                        int received = await socket.ReceiveAsync(answer, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                        var kind = Datagram(answer.AsSpan(0, received), id, origin);
                        if (kind != DatagramKind.Other)
                        {
                            return kind == DatagramKind.Answer ? Answered(answer.AsSpan(0, received), rdata, id, origin, verifier, what) : null;
                        }
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // No answer in time: the query again, waiting longer.
                }
            }
            return null;
        }
        catch (SocketException)
        {
            return null; // unreachable over UDP (the port closed, say): TCP may still be open
        }
        finally
        {
            verifier?.Dispose();
        }
    }

    /// <summary>The SOA of a verified NOERROR answer over UDP, or null.</summary>
    private static TransferRecords? Answered(ReadOnlySpan<byte> wire, Span<byte> rdata, ushort id, DnsName origin, TsigAnswerVerifier? verifier, string what)
    {
        try
        {
            Verify(wire, verifier, what, 0);
            if (verifier is not null && !verifier.LastWasSigned)
            {
                return null;
            }
            var records = new TransferRecords(what);
            ReadMessage(wire, rdata, id, origin, records, new TransferEnd(RecordType.SOA), what, 0);
            return records.Count > 0 ? records : null;
        }
        catch (TransferException)
        {
            return null;
        }
    }

    private enum DatagramKind
    {
        Answer,
        Truncated,
        Other,
    }

    /// <summary>Whether a datagram answers the query (its ID, QR and question), and whether it was truncated.</summary>
    private static DatagramKind Datagram(ReadOnlySpan<byte> wire, ushort id, DnsName origin)
    {
        if (!Header.TryRead(wire, out var header) || header.Id != id || !header.IsResponse || header.QuestionCount != 1)
        {
            return DatagramKind.Other;
        }
        Span<byte> name = stackalloc byte[DnsName.MaxLength + 1];
        int offset = Header.Length;
        if (WireReader.ReadName(wire, ref offset, name, out int length) != WireError.None || offset + 4 > wire.Length
            || !WireName.EqualsIgnoreCase(name[..length], origin.Wire)
            || BinaryPrimitives.ReadUInt16BigEndian(wire[offset..]) != (ushort)RecordType.SOA)
        {
            return DatagramKind.Other;
        }
        return header.Has(Header.TcBit) ? DatagramKind.Truncated : DatagramKind.Answer;
    }

    /// <summary>
    /// Sends a query for <paramref name="origin"/> of <paramref name="type"/> (SOA, AXFR or IXFR; IXFR carries
    /// <paramref name="currentSoa"/> in its authority section, RFC 1995 §3) over TCP and reads the whole answer.
    /// </summary>
    public static async Task<TransferRecords> ExchangeAsync(IPEndPoint primary, TsigKey? key, DnsName origin, RecordType type, ResourceRecord? currentSoa, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(origin);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        string what = $"{TypeName(type)} of {origin} from {primary}";
        var (request, length, id, verifier) = Request(key, origin, type, currentSoa, null);
        try
        {
            using var socket = new Socket(primary.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(primary, deadline.Token).ConfigureAwait(false);
                byte[] framed = new byte[length + 2];
                BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)length);
                request.AsSpan(0, length).CopyTo(framed.AsSpan(2));
                await socket.SendAsync(framed, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                return await ReadAnswerAsync(socket, id, origin, type, currentSoa, verifier, what, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TransferException($"{what}: no complete answer within {timeout.TotalSeconds:0.#} s");
            }
            catch (SocketException e)
            {
                throw new TransferException($"{what}: {e.Message}", e);
            }
        }
        finally
        {
            verifier?.Dispose();
        }
    }

    /// <summary>The query, TSIG-signed when a key is set (RFC 8945 §5.1), and what verifies the answer's signatures.</summary>
    private static (byte[] Request, int Length, ushort Id, TsigAnswerVerifier? Verifier) Request(TsigKey? key, DnsName origin, RecordType type, ResourceRecord? currentSoa, EdnsRecord? edns)
    {
        var query = DnsMessage.CreateQuery(origin, type, RecordClass.IN, (ushort)Random.Shared.Next(0, 65536), edns);
        if (currentSoa is not null)
        {
            query.Authority.Add(currentSoa);
        }
        byte[] request = new byte[ushort.MaxValue];
        byte[] encoded = query.Encode();
        encoded.CopyTo(request, 0);
        int length = encoded.Length;
        if (key is null)
        {
            return (request, length, query.Id, null);
        }
        using var signer = new TsigSigner(key, []);
        length = signer.Sign(request, length, TsigVerifier.Now());
        Span<byte> keyName = stackalloc byte[DnsName.MaxLength];
        Span<byte> algorithm = stackalloc byte[DnsName.MaxLength];
        TsigRecord.Find(request.AsSpan(0, length), keyName, algorithm, out var tsig);
        return (request, length, query.Id, new TsigAnswerVerifier(key, tsig.Mac));
    }

    private static async Task<TransferRecords> ReadAnswerAsync(Socket socket, ushort id, DnsName origin, RecordType type, ResourceRecord? currentSoa, TsigAnswerVerifier? verifier, string what, CancellationToken cancellationToken)
    {
        var records = new TransferRecords($"{TypeName(type)} from {socket.RemoteEndPoint}");
        var ending = new TransferEnd(type);
        byte[] lengthPrefix = new byte[2];
        byte[] message = new byte[ushort.MaxValue];
        byte[] rdata = new byte[ushort.MaxValue];
        for (int count = 0; count < MaxMessages; count++)
        {
            if (!await ReadExactlyAsync(socket, lengthPrefix, cancellationToken).ConfigureAwait(false))
            {
                throw new TransferException(count == 0 ? $"{what}: the connection closed without an answer" : $"{what}: the stream ended after {count} messages, before the closing SOA (truncated transfer)");
            }
            int length = BinaryPrimitives.ReadUInt16BigEndian(lengthPrefix);
            if (length < Header.Length || !await ReadExactlyAsync(socket, message.AsMemory(0, length), cancellationToken).ConfigureAwait(false))
            {
                throw new TransferException($"{what}: the stream ended inside message {count + 1} (truncated transfer)");
            }
            var wire = message.AsSpan(0, length);
            Verify(wire, verifier, what, count);
            ReadMessage(wire, rdata, id, origin, records, ending, what, count);
            if (type == RecordType.SOA || ending.Ended || (type == RecordType.IXFR && ending.SoaOnly && currentSoa is not null
                && !Zones.SerialNumber.IsGreater(SoaSerial(records.Rdata(0)), SoaSerial(currentSoa.Data))))
            {
                if (verifier is not null && !verifier.LastWasSigned)
                {
                    throw new TransferException($"{what}: the last message is not signed (RFC 8945 §5.3.1)");
                }
                if (records.Count == 0)
                {
                    throw new TransferException($"{what}: an empty answer");
                }
                return records;
            }
        }
        throw new TransferException($"{what}: more than {MaxMessages} messages");
    }

    /// <summary>
    /// Reads one message of the answer: its header must answer the request with NOERROR; each answer record goes into
    /// <paramref name="records"/>, its RDATA expanded through <paramref name="rdata"/>; the other sections are only
    /// checked to be well formed (the TSIG record among them is verified before).
    /// </summary>
    private static void ReadMessage(ReadOnlySpan<byte> wire, Span<byte> rdata, ushort id, DnsName origin, TransferRecords records, TransferEnd ending, string what, int index)
    {
        Header.TryRead(wire, out var header);
        if (header.Id != id || !header.IsResponse)
        {
            throw new TransferException($"{what}: message {index + 1} does not answer the request (ID {header.Id}, expected {id})");
        }
        if (header.Rcode != (int)ResponseCode.NoError)
        {
            throw new TransferException($"{what}: the primary answered {((ResponseCode)header.Rcode).ToString().ToUpperInvariant()}") { Refused = index == 0 };
        }
        Span<byte> name = stackalloc byte[DnsName.MaxLength + 1];
        int offset = Header.Length;
        for (int i = 0; i < header.QuestionCount; i++)
        {
            Check(WireReader.SkipName(wire, ref offset), what, index);
            offset += 4;
            if (offset > wire.Length)
            {
                Check(WireError.Truncated, what, index);
            }
        }
        DnsName? lastOwner = null;
        for (int i = 0; i < header.AnswerCount; i++)
        {
            Check(WireReader.ReadName(wire, ref offset, name, out int nameLength), what, index);
            Check(WireReader.ReadRecordHeader(wire, ref offset, out ushort rawType, out ushort rawClass, out uint ttl, out int rdlength), what, index);
            var recordType = (RecordType)rawType;
            if (WireReader.ReadRdata(wire, offset, rdlength, recordType, rdata, out int written) != WireError.None)
            {
                throw new TransferException($"{what}: message {index + 1} is malformed: {DnsName.FromWire(name[..nameLength])} {TypeName(recordType)} RDATA");
            }
            offset += rdlength;
            if (ending.Ended)
            {
                throw new TransferException($"{what}: records after the closing SOA");
            }
            var owner = records.Add(name[..nameLength], recordType, (RecordClass)rawClass, ttl, rdata[..written]);
            if (rawClass != (ushort)RecordClass.IN)
            {
                throw new TransferException($"{what}: {owner} {TypeName(recordType)} has class {rawClass}, not IN");
            }
            if (!ReferenceEquals(owner, lastOwner) && !owner.IsSubdomainOf(origin))
            {
                throw new TransferException($"{what}: {owner} {TypeName(recordType)} is outside the zone (out-of-zone record)");
            }
            lastOwner = owner;
            bool soa = recordType == RecordType.SOA && owner == origin;
            if (records.Count == 1 && !soa)
            {
                throw new TransferException($"{what}: the answer does not start with the zone's SOA");
            }
            ending.Add(soa, soa ? SoaSerial(rdata[..written]) : 0);
        }
        for (int i = header.AuthorityCount + header.AdditionalCount; i > 0; i--)
        {
            Check(WireReader.SkipName(wire, ref offset), what, index);
            Check(WireReader.ReadRecordHeader(wire, ref offset, out _, out _, out _, out int rdlength), what, index);
            offset += rdlength;
        }
        if (offset != wire.Length)
        {
            Check(WireError.TrailingData, what, index);
        }
    }

    private static void Check(WireError error, string what, int index)
    {
        if (error != WireError.None)
        {
            throw new TransferException($"{what}: message {index + 1} is malformed: {DnsFormatException.Describe(error)}");
        }
    }

    private static void Verify(ReadOnlySpan<byte> wire, TsigAnswerVerifier? verifier, string what, int index)
    {
        Span<byte> keyName = stackalloc byte[DnsName.MaxLength];
        Span<byte> algorithm = stackalloc byte[DnsName.MaxLength];
        var presence = TsigRecord.Find(wire, keyName, algorithm, out var tsig);
        if (verifier is null)
        {
            if (presence != TsigPresence.None)
            {
                throw new TransferException($"{what}: message {index + 1} is signed, but no key was asked for");
            }
            return;
        }
        if (presence == TsigPresence.Present && tsig.Error != TsigError.NoError)
        {
            throw new TransferException($"{what}: the primary answered with TSIG error {TsigErrorName(tsig.Error)} (is the key the primary's?)");
        }
        var verdict = verifier.Next(wire, presence, tsig, TsigVerifier.Now());
        if (verdict != TsigVerdict.Verified)
        {
            throw new TransferException($"{what}: message {index + 1} fails TSIG verification: {verdict}");
        }
    }

    private static string TsigErrorName(ushort error) => error switch
    {
        TsigError.BadSig => "BADSIG",
        TsigError.BadKey => "BADKEY",
        TsigError.BadTime => "BADTIME",
        TsigError.BadTrunc => "BADTRUNC",
        _ => error.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static async Task<bool> ReadExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }
            read += n;
        }
        return true;
    }

    public static string TypeName(RecordType type) => RecordTypeNames.ToText(type);

    /// <summary>
    /// Where a transfer ends (RFC 5936 §2.2, RFC 1995 §4): AXFR at the second SOA; IXFR at the SOA of the new serial
    /// that follows an added-records section ending at that serial, or, in the AXFR form of an IXFR answer, at the
    /// second SOA. An IXFR answered with the SOA alone says the zone is current.
    /// </summary>
    private sealed class TransferEnd(RecordType type)
    {
        private int _count;
        private uint _newSerial;
        private bool _incremental;
        private bool _adding;
        private uint _addingSerial;

        public bool Ended { get; private set; }

        public bool SoaOnly => _count == 1;

        /// <summary>The next record: whether it is the zone's SOA, and then its serial.</summary>
        public void Add(bool soa, uint serial)
        {
            _count++;
            if (_count == 1)
            {
                _newSerial = serial;
                return;
            }
            if (type == RecordType.IXFR && _count == 2 && soa && serial != _newSerial)
            {
                _incremental = true;
                _adding = false;
                return;
            }
            if (!soa)
            {
                return;
            }
            if (!_incremental)
            {
                Ended = true;
                return;
            }
            if (_adding && _addingSerial == _newSerial && serial == _newSerial)
            {
                Ended = true;
                return;
            }
            _adding = !_adding;
            _addingSerial = serial;
        }
    }

    /// <summary>The SERIAL field of SOA RDATA (uncompressed): the first of the five 32-bit fields that end it.</summary>
    public static uint SoaSerial(ReadOnlySpan<byte> rdata) => rdata.Length >= 20 ? BinaryPrimitives.ReadUInt32BigEndian(rdata[^20..]) : 0;

    /// <summary>REFRESH, RETRY, EXPIRE (seconds) of SOA RDATA.</summary>
    public static (uint Refresh, uint Retry, uint Expire) SoaTimers(ReadOnlySpan<byte> rdata) => rdata.Length >= 20
        ? (BinaryPrimitives.ReadUInt32BigEndian(rdata[^16..]), BinaryPrimitives.ReadUInt32BigEndian(rdata[^12..]), BinaryPrimitives.ReadUInt32BigEndian(rdata[^8..]))
        : (3600, 600, 604800);
}
