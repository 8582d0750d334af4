using AnycastDns.Protocol;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>Queries whose answers tests/zones fixes, and the check of those answers, shared by the server tests.</summary>
internal static class KnownAnswers
{
    /// <summary>www.example.test A 192.0.2.80 (tests/zones/example.test.zone).</summary>
    public static readonly DnsName Www = DnsName.Parse("www.example.test.");

    public static readonly byte[] WwwAddress = [192, 0, 2, 80];

    public static DnsMessage WwwQuery(ushort id, EdnsRecord? edns = null) => DnsMessage.CreateQuery(Www, RecordType.A, id: id, edns: edns);

    /// <summary>Asserts <paramref name="response"/> is the authoritative answer to <see cref="WwwQuery"/> with <paramref name="id"/>.</summary>
    public static void AssertWww(DnsMessage response, ushort id)
    {
        Assert.True(response.IsResponse, "QR is not set");
        Assert.Equal(id, response.Id);
        Assert.Equal(ResponseCode.NoError, response.ResponseCode);
        Assert.True(response.AuthoritativeAnswer, "AA is not set");
        var question = Assert.Single(response.Questions);
        Assert.Equal(Www, question.Name);
        Assert.Equal(RecordType.A, question.Type);
        var answer = Assert.Single(response.Answers);
        Assert.Equal(RecordType.A, answer.Type);
        Assert.Equal(WwwAddress, answer.Data);
    }
}
