using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using AnycastDns.Authority;
using AnycastDns.Protocol;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// The counts of one thread's answers on one transport and address family: by QTYPE and RCODE, truncated, dropped,
/// and how long each took. Only the thread that owns it writes, with plain increments into one array that nobody
/// else writes and that is padded a cache line on each side, so threads never contend; the metric callbacks read it
/// (<see cref="QueryStatistics"/>). <see cref="Count"/> reads QTYPE, RCODE and TC from the response's own octets
/// and allocates nothing.
/// </summary>
public sealed class QueryStats
{
    /// <summary>Eight longs: one cache line between these counters and whatever the allocator put beside them.</summary>
    private const int Pad = 8;

    internal const int Queries = Pad;
    internal const int Truncated = Queries + DnsLabels.TypeCount * DnsLabels.RcodeCount;
    internal const int Dropped = Truncated + 1;
    internal const int Durations = Dropped + 1;
    internal const int DurationTicks = Durations + AnswerDuration.BucketCount;
    internal const int Length = DurationTicks + 1 + Pad;

    /// <summary>Null when metrics are off: then <see cref="Count"/> costs one test.</summary>
    private readonly long[]? _slots;
    private readonly QueryLog? _log;
    private int _untilLogged = 1;

    internal QueryStats(Transport transport, AddressFamily family, bool counting, QueryLog? log)
    {
        Transport = transport;
        Family = family;
        _slots = counting ? new long[Length] : null;
        _log = log;
    }

    public Transport Transport { get; }

    public AddressFamily Family { get; }

    /// <summary>The timestamp to hand to <see cref="Count"/>; 0 when nothing is measured.</summary>
    public long Start() => _slots is null ? 0 : Stopwatch.GetTimestamp();

    /// <summary>
    /// Counts one message handled: <paramref name="response"/> is what is sent back, empty when the message was dropped
    /// (not a query: a response, or shorter than a header). <paramref name="client"/>, the sender's sockaddr (empty
    /// when unknown), is only read by the query log.
    /// </summary>
    public void Count(ReadOnlySpan<byte> response, long start, ReadOnlySpan<byte> client)
    {
        var slots = _slots;
        if (slots is not null)
        {
            if (response.Length < Header.Length)
            {
                slots[Dropped]++;
            }
            else
            {
                Classify(response, out int type, out int rcode);
                slots[Queries + type * DnsLabels.RcodeCount + rcode]++;
                // RFC 1035 §4.1.1: TC, the second-lowest bit of the third octet.
                if ((response[2] & 0x02) != 0)
                {
                    slots[Truncated]++;
                }
                long ticks = Stopwatch.GetTimestamp() - start;
                slots[Durations + AnswerDuration.Bucket(ticks)]++;
                slots[DurationTicks] += ticks;
            }
        }
        if (_log is not null && --_untilLogged <= 0 && response.Length >= Header.Length)
        {
            _untilLogged = _log.OneIn;
            _log.Write(Transport, client, response);
        }
    }

    /// <summary>A counter as last written; called from the metric callbacks, on another thread.</summary>
    internal long Read(int slot) => _slots is null ? 0 : Volatile.Read(ref _slots[slot]);

    /// <summary>The QTYPE and RCODE slots of a response this server wrote: its question is the query's, uncompressed.</summary>
    private static void Classify(ReadOnlySpan<byte> response, out int type, out int rcode)
    {
        int code = response[3] & 0x0F;
        type = DnsLabels.OtherType;
        if (BinaryPrimitives.ReadUInt16BigEndian(response[4..]) > 0)
        {
            int end = NameEnd(response, Header.Length);
            if (end >= 0 && end + 4 <= response.Length)
            {
                type = DnsLabels.TypeSlot(BinaryPrimitives.ReadUInt16BigEndian(response[end..]));
                // RFC 6891 §6.1.3: the upper 8 bits of the RCODE are in the OPT record's TTL. Our OPT is the last record;
                // when it is the only one after the question (answers that carry no records: REFUSED, BADVERS, ...) it
                // is right there, and BADVERS is only ever sent that way.
                int opt = end + 4;
                if (code == 0 && BinaryPrimitives.ReadUInt32BigEndian(response[6..]) == 0 && BinaryPrimitives.ReadUInt16BigEndian(response[10..]) == 1
                    && opt + 11 <= response.Length && response[opt] == 0 && BinaryPrimitives.ReadUInt16BigEndian(response[(opt + 1)..]) == (ushort)RecordType.OPT)
                {
                    code |= response[opt + 5] << 4;
                }
            }
        }
        rcode = DnsLabels.RcodeSlot(code);
    }

    /// <summary>Where the name starting at <paramref name="at"/> ends (RFC 1035 §4.1.4), or -1 if it runs off the message.</summary>
    private static int NameEnd(ReadOnlySpan<byte> message, int at)
    {
        while (at < message.Length)
        {
            int length = message[at];
            if (length == 0)
            {
                return at + 1;
            }
            if ((length & 0xC0) == 0xC0)
            {
                return at + 2;
            }
            at += 1 + length;
        }
        return -1;
    }
}
