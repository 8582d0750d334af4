using System.Buffers.Binary;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// Datagrams an attacker would send, in the families of the fuzz targets (fuzz/AnycastDns.Fuzz): compression pointers
/// that loop or lead forward, label lengths that are not lengths, counts of 0xFFFF, several OPT records, OPT owned by
/// another name than the root, EDNS options whose lengths overrun, and, most of all, valid queries (every query of
/// tests/zones/queries.txt) mutated as afl-fuzz mutates: flipped bits, interesting octets, cuts, copies, splices.
/// Each datagram's first two octets are its index, so that no reply can be mistaken for the probe's.
/// </summary>
internal static class MutatedDatagrams
{
    public enum Family
    {
        PointerLoop,
        ForwardPointer,
        BadLabelLength,
        CountsOfFfff,
        SeveralOpt,
        OptOwnerNotRoot,
        OptionOverrun,
        Mutation,
    }

    private static readonly byte[] Interesting = [0x00, 0x01, 0x3F, 0x40, 0x7F, 0x80, 0xBF, 0xC0, 0xC0, 0xFF, 0x0C, 0x29];

    public static List<(Family Family, byte[] Bytes)> Make(int count, int seed)
    {
        var random = new Random(seed);
        var valid = new List<byte[]>();
        ushort id = 0;
        foreach (var query in TestQuery.ReadAll(RepositoryPaths.TestQueries))
        {
            valid.Add(query.Encode(id++));
        }
        // And the EDNS options the server reads: NSID, a client cookie, edns-tcp-keepalive (over UDP), padding.
        foreach (var (code, data) in new (ushort, byte[])[] { (3, []), (10, [1, 2, 3, 4, 5, 6, 7, 8]), (11, []), (12, new byte[16]) })
        {
            var edns = new EdnsRecord { DnssecOk = code == 10 };
            edns.Options.Add(new EdnsOption(code, data));
            valid.Add(DnsMessage.CreateQuery(KnownAnswers.Www, RecordType.A, id: id++, edns: edns).Encode());
        }
        var families = Enum.GetValues<Family>();
        var datagrams = new List<(Family, byte[])>(count);
        for (int i = 0; i < count; i++)
        {
            // Half are mutations of valid queries; the other half spread over the structural families.
            var family = i % 2 == 0 ? Family.Mutation : families[random.Next(families.Length - 1)];
            var query = valid[random.Next(valid.Count)];
            byte[] bytes = family switch
            {
                Family.PointerLoop => PointerLoop(random, query),
                Family.ForwardPointer => ForwardPointer(random, query),
                Family.BadLabelLength => BadLabelLength(random, query),
                Family.CountsOfFfff => CountsOfFfff(random, query),
                Family.SeveralOpt => SeveralOpt(random, query),
                Family.OptOwnerNotRoot => OptOwnerNotRoot(random, query),
                Family.OptionOverrun => OptionOverrun(random, query),
                _ => Mutate(random, query, valid),
            };
            if (bytes.Length >= 2)
            {
                BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)(i % 60_000));
            }
            datagrams.Add((family, bytes));
        }
        return datagrams;
    }

    /// <summary>The offset just past the question's name, or the end when it cannot be found.</summary>
    private static int QuestionNameEnd(byte[] query)
    {
        int at = Header.Length;
        while (at < query.Length && query[at] != 0 && query[at] < 0xC0)
        {
            at += 1 + query[at];
        }
        return Math.Min(at + 1, query.Length);
    }

    private static byte[] WithCounts(byte[] body, ushort qd, ushort an, ushort ns, ushort ar)
    {
        var bytes = body.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), qd);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(6), an);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(8), ns);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(10), ar);
        return bytes;
    }

    private static byte[] Opt(Random random, byte[] options, byte[]? owner = null, bool dnssecOk = false)
    {
        byte[] fixedPart = new byte[10];
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart, (ushort)RecordType.OPT);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart.AsSpan(2), (ushort)random.Next(0, 5000));
        BinaryPrimitives.WriteUInt32BigEndian(fixedPart.AsSpan(4), dnssecOk ? 0x8000u : 0u);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart.AsSpan(8), (ushort)options.Length);
        return [.. owner ?? [0], .. fixedPart, .. options];
    }

    private static byte[] Question(byte[] query) => query[Header.Length..Math.Min(query.Length, QuestionNameEnd(query) + 4)];

    private static byte[] PointerLoop(Random random, byte[] query)
    {
        // The question's name, or an owner after it, ends in a pointer to itself or to a later pointer back.
        int end = QuestionNameEnd(query) - 1;
        var bytes = query[..end].ToList();
        switch (random.Next(3))
        {
            case 0:
                bytes.AddRange([0xC0, Header.Length]);
                break;
            case 1:
                int self = bytes.Count;
                bytes.AddRange([(byte)(0xC0 | (self >> 8)), (byte)self]);
                break;
            default:
                int at = bytes.Count;
                bytes.AddRange([(byte)(0xC0 | ((at + 2) >> 8)), (byte)(at + 2), (byte)(0xC0 | (at >> 8)), (byte)at]);
                break;
        }
        bytes.AddRange([0, 1, 0, 1]);
        return [.. bytes];
    }

    private static byte[] ForwardPointer(Random random, byte[] query)
    {
        // A question (or an answer owner) that points past itself at a good name that follows.
        var question = Question(query);
        int target = Header.Length + 2 + 4 + random.Next(0, 3);
        return random.Next(2) == 0
            ? [.. WithCounts(query[..Header.Length], 1, 0, 0, 0), (byte)(0xC0 | (target >> 8)), (byte)target, 0, 1, 0, 1, .. question]
            : [.. WithCounts(query[..Header.Length], 1, 1, 0, 0), .. question, 0xC0, (byte)(Header.Length + question.Length + 12), 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1, .. question];
    }

    private static byte[] BadLabelLength(Random random, byte[] query)
    {
        // A length octet of 64-191 (over 63, or the retired 0b01/0b10 label types), or one that runs off the message.
        var bytes = query.ToArray();
        int end = QuestionNameEnd(query) - 1;
        int at = Header.Length;
        for (int hops = random.Next(0, 4); hops > 0 && at < end && bytes[at] != 0; hops--)
        {
            at += 1 + bytes[at];
        }
        at = Math.Min(at, bytes.Length - 1);
        bytes[at] = random.Next(3) switch
        {
            0 => (byte)random.Next(64, 192),
            1 => (byte)random.Next(Math.Max(1, bytes.Length - at), 64),
            _ => 0x3F,
        };
        return bytes;
    }

    private static byte[] CountsOfFfff(Random random, byte[] query)
    {
        var bytes = query.ToArray();
        int count = random.Next(1, 5);
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4 + 2 * random.Next(4)), 0xFFFF);
        }
        return bytes;
    }

    private static byte[] SeveralOpt(Random random, byte[] query)
    {
        int opts = random.Next(2, 6);
        var bytes = new List<byte>(WithCounts(query[..Header.Length], 1, 0, 0, (ushort)opts));
        bytes.AddRange(Question(query));
        for (int i = 0; i < opts; i++)
        {
            bytes.AddRange(Opt(random, random.Next(2) == 0 ? [] : [0, 3, 0, 0], dnssecOk: random.Next(2) == 0));
        }
        return [.. bytes];
    }

    private static byte[] OptOwnerNotRoot(Random random, byte[] query)
    {
        byte[] owner = random.Next(3) switch
        {
            0 => [1, (byte)'x', 0],
            1 => [0xC0, Header.Length],
            _ => [3, (byte)'o', (byte)'p', (byte)'t', 0xC0, Header.Length],
        };
        return [.. WithCounts(query[..Header.Length], 1, 0, 0, 1), .. Question(query), .. Opt(random, [], owner)];
    }

    private static byte[] OptionOverrun(Random random, byte[] query)
    {
        // Options whose length runs past the RDATA, half an option header, or RDLENGTH past the message.
        int claimed = random.Next(1, 300);
        byte[] options = random.Next(3) switch
        {
            0 => [0, 3, (byte)(claimed >> 8), (byte)claimed, 1, 2],
            1 => [0, 10, 0],
            _ => [0, 11, 0, 2, 0, 100, 0, 12, (byte)(claimed >> 8), (byte)claimed],
        };
        var opt = Opt(random, options);
        if (random.Next(4) == 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(opt.AsSpan(9), (ushort)(options.Length + random.Next(1, 100)));
        }
        return [.. WithCounts(query[..Header.Length], 1, 0, 0, 1), .. Question(query), .. opt];
    }

    /// <summary>One to four of afl-fuzz's havoc steps on a valid query.</summary>
    private static byte[] Mutate(Random random, byte[] query, List<byte[]> valid)
    {
        var bytes = query.ToList();
        for (int steps = random.Next(1, 5); steps > 0 && bytes.Count > 0; steps--)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = Interesting[random.Next(Interesting.Length)];
                    break;
                case 2:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 3:
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 16), bytes.Count - at));
                    break;
                case 4:
                    int from = random.Next(bytes.Count);
                    int length = Math.Min(random.Next(1, 32), bytes.Count - from);
                    bytes.InsertRange(at, bytes.GetRange(from, length));
                    break;
                case 5:
                    // Splice: this query's start, another's end.
                    var other = valid[random.Next(valid.Count)];
                    int cut = random.Next(other.Length);
                    bytes = [.. bytes.Take(at), .. other.Skip(cut)];
                    break;
                default:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
            }
        }
        return [.. bytes];
    }
}
