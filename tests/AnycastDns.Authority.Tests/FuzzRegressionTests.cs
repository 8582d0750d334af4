using AnycastDns.Authority;
using AnycastDns.Protocol;

namespace AnycastDns.Authority.Tests;

/// <summary>
/// Inputs that broke a rule of the fuzz targets (fuzz/AnycastDns.Fuzz, scripts/fuzz.sh), as they were found: each
/// query's octets, and what the responder must do with it. The same inputs are seeds in fuzz/corpus/regressions/.
/// </summary>
public class FuzzRegressionTests
{
    /// <summary>
    /// respond, second configuration (255-octet PoP id, the longest ServerOptions takes): a 255-octet name with an NSID
    /// request and an EDNS size of 512. Header, question and an OPT carrying the identity came to 541 octets: the
    /// responder wrote nothing and the query went unanswered.
    /// </summary>
    [Fact]
    public void A_long_question_with_an_nsid_request_under_512_octets_is_answered_without_the_nsid()
    {
        var engine = new Engine(new ResponderOptions { PopId = new string('p', 255), MaxUdpPayload = 4096 },
            ("example.test.", "$TTL 60\n@ SOA ns h 1 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n"));
        byte[] query = Convert.FromHexString(
            "65ED010000010000000000013E78787878787878787878787878787878787878787878787878787878787878787878787878"
            + "787878787878787878787878787878787878787878787878783E787878787878787878787878787878787878787878787878"
            + "78787878787878787878787878787878787878787878787878787878787878787878787878783E7878787878787878787878"
            + "7878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878"
            + "7832797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979"
            + "7979076578616D706C6504746573740000010001000029020000000000000400030000");

        var response = engine.Send(query);

        Assert.NotNull(response);
        Assert.Equal(ResponseCode.NXDomain, response.ResponseCode);
        Assert.Equal(0x65ED, response.Id);
        Assert.Empty(response.Edns!.Options);
        Assert.InRange(engine.RawLength(query), Header.Length, Responder.ClassicUdpLimit);

        // With a name that leaves room, the identity is still sent.
        var edns = new EdnsRecord { UdpPayloadSize = 512 };
        edns.Options.Add(new EdnsOption(EdnsOptionCode.Nsid, []));
        var shortName = engine.Ask("www.example.test.", RecordType.A, edns: edns);
        Assert.Equal(255, Assert.Single(shortName.Edns!.Options).Data.Length);
    }
}
