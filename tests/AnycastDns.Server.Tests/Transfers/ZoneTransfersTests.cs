using System.Buffers.Binary;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Protocol.Tsig;
using AnycastDns.Server.Telemetry;
using AnycastDns.Server.Transfers;
using AnycastDns.Zones;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnycastDns.Server.Tests.Transfers;

/// <summary>
/// What a TCP connection hands to the zone transfers, and what they answer, driven through
/// <see cref="ZoneTransfers.AnswerAsync"/> with the messages collected as a connection would send them.
/// </summary>
public sealed class ZoneTransfersTests
{
    private static readonly TsigKey Key = new(DnsName.Parse("xfr-key."), TsigAlgorithm.HmacSha256, Convert.FromBase64String("c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="));

    /// <summary>struct sockaddr_in of 192.0.2.7: family, port, address, padding.</summary>
    private static readonly byte[] AllowedClient = [2, 0, 0, 53, 192, 0, 2, 7, 0, 0, 0, 0, 0, 0, 0, 0];

    private static readonly byte[] OtherClient = [2, 0, 0, 53, 198, 51, 100, 1, 0, 0, 0, 0, 0, 0, 0, 0];

    [Fact]
    public void Only_AXFR_queries_and_messages_with_a_TSIG_record_are_handed_over()
    {
        Assert.True(ZoneTransfers.Handles(Query("example.test.", RecordType.AXFR)));
        Assert.False(ZoneTransfers.Handles(Query("example.test.", RecordType.SOA)));
        Assert.False(ZoneTransfers.Handles(Query("example.test.", RecordType.IXFR)));
        Assert.False(ZoneTransfers.Handles(DnsMessage.CreateQuery(DnsName.Parse("example.test."), RecordType.SOA, RecordClass.IN, 1, new EdnsRecord()).Encode()));
        Assert.True(ZoneTransfers.Handles(Signed(Query("example.test.", RecordType.SOA))));
        // A response, a header alone, a question cut short: not here.
        var response = Query("example.test.", RecordType.AXFR);
        response[2] |= 0x80;
        Assert.False(ZoneTransfers.Handles(response));
        Assert.False(ZoneTransfers.Handles(new byte[Header.Length]));
        Assert.False(ZoneTransfers.Handles(Query("example.test.", RecordType.AXFR)[..(Header.Length + 4)]));
    }

    [Fact]
    public async Task An_allowed_client_gets_the_zone_and_any_other_REFUSED_with_EDE_18()
    {
        var transfers = Transfers(maxConcurrent: 10);
        var messages = await AnswerAsync(transfers, Query("example.test.", RecordType.AXFR), AllowedClient);
        Assert.True(messages.Count >= 1);
        var answers = messages.SelectMany(m => m.Answers).ToList();
        Assert.Equal(RecordType.SOA, answers[0].Type);
        Assert.Equal(RecordType.SOA, answers[^1].Type);
        Assert.Equal(1, transfers.Counters.Axfr(TransferOutcome.Completed));
        Assert.True(transfers.Counters.Bytes > 0);

        var refused = Assert.Single(await AnswerAsync(transfers, Query("example.test.", RecordType.AXFR, edns: true), OtherClient));
        Assert.Equal(ResponseCode.Refused, refused.ResponseCode);
        Assert.Equal([0, (byte)ExtendedErrorCode.Prohibited], refused.Edns!.Options.Single(o => o.Code == EdnsOptionCode.ExtendedError).Data);
        Assert.Equal(1, transfers.Counters.Axfr(TransferOutcome.Refused));

        // Signed with the key Transfers:Allow names, from an address it does not: the zone, every message signed.
        var signedMessages = await AnswerAsync(transfers, Signed(Query("example.test.", RecordType.AXFR)), OtherClient);
        Assert.Equal(RecordType.SOA, signedMessages[0].Answers[0].Type);
        Assert.All(signedMessages, m => Assert.Equal(RecordType.TSIG, m.Additional[^1].Type));
        Assert.Equal(2, transfers.Counters.Axfr(TransferOutcome.Completed));

        var notOurs = Assert.Single(await AnswerAsync(transfers, Query("www.example.test.", RecordType.AXFR), AllowedClient));
        Assert.Equal(ResponseCode.NotAuth, notOurs.ResponseCode);
        Assert.Equal(1, transfers.Counters.Axfr(TransferOutcome.NotAuthoritative));
        Assert.Equal(0, transfers.Running);
    }

    [Fact]
    public async Task A_request_with_a_key_the_server_lacks_is_NOTAUTH_BADKEY_unsigned()
    {
        var transfers = Transfers(maxConcurrent: 10, keys: TsigKeyring.Empty);
        var answer = Assert.Single(await AnswerAsync(transfers, Signed(Query("example.test.", RecordType.AXFR)), AllowedClient));
        Assert.Equal(ResponseCode.NotAuth, answer.ResponseCode);
        var tsig = answer.Additional.Single(r => r.Type == RecordType.TSIG).Data;
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(tsig.AsSpan(13 + 8)));
        Assert.Equal(TsigError.BadKey, BinaryPrimitives.ReadUInt16BigEndian(tsig.AsSpan(13 + 10 + 2)));
        Assert.Equal(1, transfers.Counters.Axfr(TransferOutcome.TsigError));
    }

    private static ZoneTransfers Transfers(int maxConcurrent, TsigKeyring? keys = null)
    {
        var zone = ZoneFromText("example.test.", "$ORIGIN example.test.\n@ 300 SOA ns host 1 7200 3600 1209600 300\n@ 300 NS ns\nns 300 A 192.0.2.1\nwww 300 A 192.0.2.2\n");
        var responder = new Responder(new ZoneSet([zone]), new ResponderOptions { PopId = "test" });
        return new ZoneTransfers(responder, TransferAllowList.Parse(["192.0.2.0/24", "key:xfr-key"]), keys ?? new TsigKeyring([Key]), maxConcurrent, 1232, NullLogger.Instance);
    }

    private static Zone ZoneFromText(string origin, string text)
    {
        var name = DnsName.Parse(origin);
        var parsed = ZoneFileReader.ReadText(text, origin + "zone", name);
        Assert.False(parsed.HasErrors);
        var zone = ZoneBuilder.Build(name, parsed.Records, [], origin + "zone");
        Assert.NotNull(zone);
        return zone!;
    }

    private static async Task<List<DnsMessage>> AnswerAsync(ZoneTransfers transfers, byte[] request, byte[] client)
    {
        var messages = new List<DnsMessage>();
        byte[] copy = [.. request];
        var stats = new QueryStatistics(new TelemetryOptions(), NullLoggerFactory.Instance).ForThread(Transport.Tcp, System.Net.Sockets.AddressFamily.InterNetwork);
        await transfers.AnswerAsync(copy, copy.Length, client, stats, (buffer, count) =>
        {
            Assert.Equal(count - 2, BinaryPrimitives.ReadUInt16BigEndian(buffer));
            messages.Add(DnsMessage.Parse(buffer.AsSpan(2, count - 2)));
            return ValueTask.CompletedTask;
        });
        return messages;
    }

    private static byte[] Query(string name, RecordType type, bool edns = false) =>
        DnsMessage.CreateQuery(DnsName.Parse(name), type, RecordClass.IN, 0x2222, edns ? new EdnsRecord() : null).Encode();

    /// <summary>The query signed with <see cref="Key"/>, as a client would sign it (RFC 8945 §4.3.3: no request MAC).</summary>
    private static byte[] Signed(byte[] query)
    {
        var buffer = new byte[ushort.MaxValue];
        query.CopyTo(buffer, 0);
        using var signer = new TsigSigner(Key, []);
        int length = signer.Sign(buffer, query.Length, TsigVerifier.Now());
        return buffer[..length];
    }
}
