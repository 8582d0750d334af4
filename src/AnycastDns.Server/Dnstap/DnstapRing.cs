using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Numerics;
using System.Net.Sockets;
using AnycastDns.Authority;
using AnycastDns.Server.RateLimiting;

namespace AnycastDns.Server.Dnstap;

/// <summary>
/// The messages one receive thread hands to the dnstap writer: a byte ring allocated once, with one producer (the
/// thread that answers) and one consumer (<see cref="DnstapWriter"/>'s thread). <see cref="Add"/> copies a query and
/// its response with their client and times as one record and allocates nothing; when the ring has no room, the
/// exchange is dropped and counted, so a slow or absent collector never slows answering.
/// <para>
/// A record: a 64-octet header (length, flags, message lengths, times, the client's sockaddr), the query, the
/// response, the answering zone's origin; records start 8-aligned. A record that does not fit before the end of the buffer leaves a wrap marker
/// and starts over at offset 0.
/// </para>
/// </summary>
internal sealed class DnstapRing
{
    internal const int HeaderSize = 64;
    private const int WrapMarker = -1;
    private const int FlagQuery = 1;
    private const int FlagResponse = 2;
    private const int MaxSockaddr = 28;

    /// <summary>Producer and consumer positions a cache line (and more) apart, so neither thread's writes slow the other's reads.</summary>
    private const int HeadSlot = 8;
    private const int TailSlot = 24;
    private const int DroppedSlot = 40;

    private readonly byte[] _buffer;
    private readonly int _mask;
    private readonly long[] _positions = new long[56];
    private readonly bool _queries;
    private readonly bool _responses;
    private readonly int _oneIn;
    private readonly DnstapResponses _classes;
    private int _untilSent = 1;
    private long _readNext;

    internal DnstapRing(DnstapOptions options, Transport transport, AddressFamily family, IPEndPoint? local)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)options.RingKilobytes * 1024);
        _buffer = GC.AllocateUninitializedArray<byte>(size, pinned: true);
        _mask = size - 1;
        _queries = options.LogQueries;
        _responses = options.LogResponses;
        _oneIn = options.OneIn;
        _classes = options.Responses;
        Transport = transport;
        Family = family;
        Local = local;
    }

    public Transport Transport { get; }

    public AddressFamily Family { get; }

    /// <summary>The address the queries came to (the listen address; a wildcard bind shows as such).</summary>
    public IPEndPoint? Local { get; }

    /// <summary>Messages (a query or a response) dropped because the ring was full or the exchange too large for it.</summary>
    public long Dropped => Volatile.Read(ref _positions[DroppedSlot]);

    /// <summary>
    /// Copies one exchange when the configuration wants it: <paramref name="response"/> is what was sent (empty when
    /// nothing was), <paramref name="client"/> the client's native sockaddr, <paramref name="start"/> the
    /// <see cref="Stopwatch"/> timestamp taken when the query was in hand (0 when none was taken).
    /// </summary>
    public void Add(ReadOnlySpan<byte> query, ReadOnlySpan<byte> response, ReadOnlySpan<byte> client, in ResponseDecision decision, RateLimitAction action, long start)
    {
        if (decision.Class == ResponseClass.Dropped)
        {
            return; // not a query (a response, or shorter than a header): nothing an authoritative server exchanged
        }
        if (_classes != DnstapResponses.All && (DnstapResponseClasses.Of(decision, action) & _classes) == 0)
        {
            return;
        }
        if (_oneIn > 1 && --_untilSent > 0)
        {
            return;
        }
        _untilSent = _oneIn;
        bool withQuery = _queries;
        bool withResponse = _responses && response.Length > 0;
        if (!withQuery && !withResponse)
        {
            return;
        }
        if (!withQuery)
        {
            query = [];
        }
        if (!withResponse)
        {
            response = [];
        }
        int messages = (withQuery ? 1 : 0) + (withResponse ? 1 : 0);
        var zone = decision.Zone is { } origin ? origin.Wire : [];
        int length = HeaderSize + query.Length + response.Length + zone.Length;
        int aligned = (length + 7) & ~7;
        long head = _positions[HeadSlot];
        long tail = Volatile.Read(ref _positions[TailSlot]);
        int offset = (int)(head & _mask);
        int toEnd = _buffer.Length - offset;
        long need = aligned <= toEnd ? aligned : toEnd + (long)aligned;
        if (aligned > _buffer.Length / 2 || head + need - tail > _buffer.Length)
        {
            _positions[DroppedSlot] += messages; // only this thread writes it; the writer reads it volatile
            return;
        }
        if (aligned > toEnd)
        {
            BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(offset), WrapMarker);
            head += toEnd;
            offset = 0;
        }
        long now = DateTime.UtcNow.Ticks;
        long received = start == 0 ? now : now - (long)Stopwatch.GetElapsedTime(start).Ticks;
        var record = _buffer.AsSpan(offset, length);
        BinaryPrimitives.WriteInt32LittleEndian(record, length);
        record[4] = (byte)((withQuery ? FlagQuery : 0) | (withResponse ? FlagResponse : 0));
        int sockaddr = Math.Min(client.Length, MaxSockaddr);
        record[5] = (byte)sockaddr;
        BinaryPrimitives.WriteUInt16LittleEndian(record[6..], (ushort)query.Length);
        BinaryPrimitives.WriteInt32LittleEndian(record[8..], response.Length);
        BinaryPrimitives.WriteInt32LittleEndian(record[12..], zone.Length);
        BinaryPrimitives.WriteInt64LittleEndian(record[16..], received);
        BinaryPrimitives.WriteInt64LittleEndian(record[24..], now);
        client[..sockaddr].CopyTo(record[32..]);
        query.CopyTo(record[HeaderSize..]);
        response.CopyTo(record[(HeaderSize + query.Length)..]);
        zone.CopyTo(record[(HeaderSize + query.Length + response.Length)..]);
        Volatile.Write(ref _positions[HeadSlot], head + aligned);
    }

    /// <summary>The writer's side: the oldest record not yet read, or false when the ring is empty. <see cref="Release"/> frees it.</summary>
    internal bool TryRead(out DnstapRecord record)
    {
        long tail = _positions[TailSlot];
        long head = Volatile.Read(ref _positions[HeadSlot]);
        if (tail == head)
        {
            record = default;
            return false;
        }
        int offset = (int)(tail & _mask);
        int length = BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(offset));
        if (length == WrapMarker)
        {
            tail += _buffer.Length - offset;
            offset = 0;
            length = BinaryPrimitives.ReadInt32LittleEndian(_buffer);
        }
        _readNext = tail + ((length + 7) & ~7);
        record = new DnstapRecord(_buffer.AsMemory(offset, length));
        return true;
    }

    /// <summary>Gives the space of the record last read back to the producer.</summary>
    internal void Release() => Volatile.Write(ref _positions[TailSlot], _readNext);

    /// <summary>One exchange as the ring holds it, read by the writer thread.</summary>
    internal readonly struct DnstapRecord(ReadOnlyMemory<byte> bytes)
    {
        private ReadOnlySpan<byte> Bytes => bytes.Span;

        public bool HasQuery => (Bytes[4] & FlagQuery) != 0;

        public bool HasResponse => (Bytes[4] & FlagResponse) != 0;

        public int Messages => (HasQuery ? 1 : 0) + (HasResponse ? 1 : 0);

        public ReadOnlySpan<byte> Client => Bytes.Slice(32, Bytes[5]);

        public DateTime Received => new(BinaryPrimitives.ReadInt64LittleEndian(Bytes[16..]), DateTimeKind.Utc);

        public DateTime Sent => new(BinaryPrimitives.ReadInt64LittleEndian(Bytes[24..]), DateTimeKind.Utc);

        public ReadOnlySpan<byte> Query => Bytes.Slice(HeaderSize, BinaryPrimitives.ReadUInt16LittleEndian(Bytes[6..]));

        public ReadOnlySpan<byte> Response => Bytes.Slice(HeaderSize + BinaryPrimitives.ReadUInt16LittleEndian(Bytes[6..]), BinaryPrimitives.ReadInt32LittleEndian(Bytes[8..]));

        /// <summary>The origin of the zone that answered, in wire form; empty when none did.</summary>
        public ReadOnlySpan<byte> Zone => Bytes.Slice(Bytes.Length - BinaryPrimitives.ReadInt32LittleEndian(Bytes[12..]));
    }
}
