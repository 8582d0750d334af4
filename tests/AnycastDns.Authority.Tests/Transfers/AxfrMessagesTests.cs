using System.Globalization;
using System.Text;
using AnycastDns.Authority.Transfers;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;
using AnycastDns.Zones;

namespace AnycastDns.Authority.Tests.Transfers;

/// <summary>
/// The messages of an AXFR answer (RFC 5936 §2.2): the SOA first and last, every other record exactly once, each
/// message at most 65,535 octets and packed close to it, readable by a parser that decompresses what was compressed.
/// </summary>
public sealed class AxfrMessagesTests
{
    [Theory]
    [InlineData("zones")]
    [InlineData("zones-dnssec")]
    [InlineData("signed")]
    public async Task Every_record_of_every_test_zone_once_between_two_SOAs(string folder)
    {
        string path = folder == "signed" ? (await SignedTestZones.GetAsync()).Folder : Path.Combine(RepositoryPaths.Root, "tests", folder);
        var load = ZoneLoader.LoadFolder(path);
        Assert.True(load.AllSucceeded);
        Assert.NotEmpty(load.ZoneSet.Zones);
        foreach (var zone in load.ZoneSet.Zones)
        {
            var messages = Transfer(load.ZoneSet, zone.Origin, reserve: 0, out _);
            var answers = messages.SelectMany(m => m.Answers).ToList();
            Assert.Equal(RecordType.SOA, answers[0].Type);
            Assert.Equal(RecordType.SOA, answers[^1].Type);
            Assert.Equal(Text(answers[0]), Text(answers[^1]));
            Assert.Equal(zone.Origin, answers[0].Name);
            Assert.Equal(zone.RecordCount + 1, answers.Count);
            // The records between the SOAs are the zone's records, each once (RFC 5936 §2.2: the SOA nowhere else).
            var expected = ZoneRecords(zone).Where(r => !(r.Type == RecordType.SOA && r.Name == zone.Origin)).Select(Text).Order(StringComparer.Ordinal).ToList();
            var sent = answers.Skip(1).SkipLast(1).Select(Text).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, sent);
            Assert.Equal(expected.Count, expected.Distinct(StringComparer.Ordinal).Count());
            if (folder == "signed")
            {
                Assert.Contains(answers, r => r.Type == RecordType.RRSIG);
                Assert.Contains(answers, r => r.Type == RecordType.DNSKEY);
                Assert.Contains(answers, r => r.Type is RecordType.NSEC or RecordType.NSEC3);
            }
        }
    }

    [Fact]
    public void A_large_zone_goes_in_messages_packed_close_to_64_KiB_with_room_for_a_TSIG()
    {
        var zone = LargeZone(20_000);
        var zones = new ZoneSet([zone]);
        const int reserve = 200;
        var messages = Transfer(zones, zone.Origin, reserve, out var lengths);
        Assert.True(messages.Count > 5, $"{messages.Count} messages");
        Assert.All(lengths, length => Assert.True(length <= ushort.MaxValue - reserve, $"{length} octets"));
        // Every message but the last is full: the next record (under 100 octets here) would not have fitted.
        Assert.All(lengths.SkipLast(1), length => Assert.True(length > ushort.MaxValue - reserve - 100, $"{length} octets"));
        Assert.Equal(zone.RecordCount + 1, messages.Sum(m => m.Answers.Count));
        // The question in the first message only (RFC 5936 §2.2.1 lets the others leave it out).
        Assert.Single(messages[0].Questions);
        Assert.All(messages.Skip(1), m => Assert.Empty(m.Questions));
        Assert.All(messages, m => Assert.True(m.IsResponse && m.AuthoritativeAnswer && m.ResponseCode == ResponseCode.NoError && m.Id == 0x4242));
    }

    [Fact]
    public void A_reload_during_a_transfer_does_not_mix_versions()
    {
        var first = LargeZone(5_000, serial: 1);
        var holder = new ZoneSetHolder(new ZoneSet([first]));
        var query = DnsMessage.CreateQuery(first.Origin, RecordType.AXFR, RecordClass.IN, 0x4242).Encode();
        Assert.Equal(TransferOpening.Transfer, AxfrMessages.Open(query, holder.Current, 1232, out var transfer));
        var buffer = new byte[ushort.MaxValue];
        var answers = new List<ResourceRecord>();
        int length = transfer!.WriteNext(buffer, 0);
        answers.AddRange(DnsMessage.Parse(buffer.AsSpan(0, length)).Answers);
        // The zone file changes: a new version with another serial and other addresses is published.
        holder.Current = new ZoneSet([LargeZone(5_000, serial: 2, lastOctet: 9)]);
        while ((length = transfer.WriteNext(buffer, 0)) > 0)
        {
            answers.AddRange(DnsMessage.Parse(buffer.AsSpan(0, length)).Answers);
        }
        Assert.True(transfer.IsComplete);
        Assert.Equal(first.RecordCount + 1, answers.Count);
        Assert.All(answers.Where(r => r.Type == RecordType.A), r => Assert.NotEqual(9, r.Data[3]));
        Assert.All(answers.Where(r => r.Type == RecordType.SOA), r => Assert.Equal(1u, Serial(r)));
    }

    [Fact]
    public void Every_message_has_an_OPT_when_the_query_had_one()
    {
        var zone = LargeZone(3_000);
        var query = DnsMessage.CreateQuery(zone.Origin, RecordType.AXFR, RecordClass.IN, 7, new EdnsRecord { DnssecOk = true }).Encode();
        Assert.Equal(TransferOpening.Transfer, AxfrMessages.Open(query, new ZoneSet([zone]), 1232, out var transfer));
        var buffer = new byte[ushort.MaxValue];
        int length;
        int count = 0;
        while ((length = transfer!.WriteNext(buffer, 0)) > 0)
        {
            var message = DnsMessage.Parse(buffer.AsSpan(0, length));
            Assert.NotNull(message.Edns);
            Assert.True(message.Edns!.DnssecOk);
            count++;
        }
        Assert.True(count > 1);
    }

    [Fact]
    public void Requests_that_are_not_a_transfer_of_a_served_apex_say_so()
    {
        var zone = LargeZone(10);
        var zones = new ZoneSet([zone]);
        Assert.Equal(TransferOpening.NotAuthoritative, Open(zones, "h1.big.test.", RecordType.AXFR));
        Assert.Equal(TransferOpening.NotAuthoritative, Open(zones, "other.test.", RecordType.AXFR));
        Assert.Equal(TransferOpening.NotATransfer, Open(zones, "big.test.", RecordType.SOA));
        Assert.Equal(TransferOpening.NotATransfer, Open(zones, "big.test.", RecordType.AXFR, RecordClass.CH));
        Assert.Equal(TransferOpening.Transfer, Open(zones, "BIG.test.", RecordType.AXFR));
        // Every truncation of the request: never a transfer, never an exception.
        var query = DnsMessage.CreateQuery(zone.Origin, RecordType.AXFR).Encode();
        for (int cut = 0; cut < query.Length; cut++)
        {
            Assert.Equal(TransferOpening.NotATransfer, AxfrMessages.Open(query.AsSpan(0, cut), zones, 1232, out _));
            var buffer = new byte[512];
            int length = AxfrMessages.WriteError(query.AsSpan(0, cut), buffer, (int)ResponseCode.FormErr, -1, 1232);
            if (cut >= Header.Length)
            {
                var answer = DnsMessage.Parse(buffer.AsSpan(0, length));
                Assert.Equal(ResponseCode.FormErr, answer.ResponseCode);
            }
            else
            {
                Assert.Equal(0, length);
            }
        }
    }

    [Fact]
    public void A_refusal_echoes_the_question_with_the_extended_error()
    {
        var query = DnsMessage.CreateQuery(DnsName.Parse("Big.Test."), RecordType.AXFR, RecordClass.IN, 99, new EdnsRecord()).Encode();
        var buffer = new byte[512];
        int length = AxfrMessages.WriteError(query, buffer, (int)ResponseCode.NotAuth, ExtendedErrorCode.NotAuthoritative, 1232);
        var answer = DnsMessage.Parse(buffer.AsSpan(0, length));
        Assert.Equal(ResponseCode.NotAuth, answer.ResponseCode);
        Assert.Equal(99, answer.Id);
        Assert.Equal("Big.Test.", answer.Questions.Single().Name.ToString());
        var ede = answer.Edns!.Options.Single(o => o.Code == EdnsOptionCode.ExtendedError);
        Assert.Equal([0, (byte)ExtendedErrorCode.NotAuthoritative], ede.Data);
    }

    [Fact]
    public void A_record_too_large_for_any_message_ends_the_transfer()
    {
        // A TXT of 255 strings of 255 octets: 65,280 octets of RDATA, which with its owner and the header fits no
        // message once the reserve for a TSIG is taken.
        var text = new StringBuilder("$ORIGIN big.test.\n@ 300 SOA ns host 1 7200 3600 1209600 300\n@ 300 NS ns\nns 300 A 192.0.2.1\nhuge 300 TXT");
        for (int i = 0; i < 255; i++)
        {
            text.Append(" \"").Append('x', 255).Append('"');
        }
        var zone = Engine.BuildZone("big.test.", text.Append('\n').ToString());
        var query = DnsMessage.CreateQuery(zone.Origin, RecordType.AXFR).Encode();
        Assert.Equal(TransferOpening.Transfer, AxfrMessages.Open(query, new ZoneSet([zone]), 1232, out var transfer));
        var buffer = new byte[ushort.MaxValue];
        int length;
        int guard = 0;
        while ((length = transfer!.WriteNext(buffer, 300)) > 0 && guard++ < 10)
        {
        }
        Assert.Equal(-1, length);
        Assert.False(transfer.IsComplete);
    }

    private static TransferOpening Open(ZoneSet zones, string name, RecordType type, RecordClass cls = RecordClass.IN) =>
        AxfrMessages.Open(DnsMessage.CreateQuery(DnsName.Parse(name), type, cls).Encode(), zones, 1232, out _);

    private static List<DnsMessage> Transfer(ZoneSet zones, DnsName origin, int reserve, out List<int> lengths)
    {
        var query = DnsMessage.CreateQuery(origin, RecordType.AXFR, RecordClass.IN, 0x4242).Encode();
        Assert.Equal(TransferOpening.Transfer, AxfrMessages.Open(query, zones, 1232, out var transfer));
        var messages = new List<DnsMessage>();
        lengths = [];
        var buffer = new byte[ushort.MaxValue];
        int length;
        while ((length = transfer!.WriteNext(buffer, reserve)) > 0)
        {
            lengths.Add(length);
            messages.Add(DnsMessage.Parse(buffer.AsSpan(0, length)));
            Assert.True(messages.Count < 10_000);
        }
        Assert.Equal(0, length);
        Assert.True(transfer.IsComplete);
        Assert.Equal(messages.Count, transfer.Messages);
        return messages;
    }

    /// <summary>Every record the zone holds, read from its nodes.</summary>
    private static List<ResourceRecord> ZoneRecords(Zone zone)
    {
        var records = new List<ResourceRecord>();
        foreach (var node in zone.Nodes)
        {
            foreach (var rrset in node.RRsets)
            {
                for (int i = 0; i < rrset.Count; i++)
                {
                    records.Add(new ResourceRecord(node.Name, rrset.Type, RecordClass.IN, rrset.RecordTtl(i), rrset.Rdata(i).ToArray()));
                }
            }
        }
        return records;
    }

    private static string Text(ResourceRecord r) => r.ToString().ToLowerInvariant();

    private static uint Serial(ResourceRecord soa) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(soa.Data.AsSpan(soa.Data.Length - 20));

    private static Zone LargeZone(int names, uint serial = 1, int lastOctet = 1)
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"$ORIGIN big.test.\n@ 300 SOA ns host {serial} 7200 3600 1209600 300\n@ 300 NS ns\nns 300 A 192.0.2.1\n");
        for (int i = 0; i < names; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"h{i} 300 A 10.{i / 256 % 256}.{i % 256}.{lastOctet}\nh{i} 300 MX 10 mail.h{i}\n");
        }
        return Engine.BuildZone("big.test.", text.ToString());
    }
}
