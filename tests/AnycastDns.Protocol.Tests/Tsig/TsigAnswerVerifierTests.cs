using AnycastDns.Protocol;
using AnycastDns.Protocol.Tsig;

namespace AnycastDns.Protocol.Tests.Tsig;

/// <summary>
/// The client side of a signed multi-message answer (RFC 8945 §5.3.1): what <see cref="TsigSigner"/> signs (itself
/// checked against dnspython in <see cref="TsigTests"/>) verifies message by message; a changed octet, a message
/// left out, another key, an unsigned first message are caught. Knot's signed transfers verify in the integration
/// tests (SecondaryModeTests).
/// </summary>
public sealed class TsigAnswerVerifierTests
{
    private static readonly TsigKey Key = new(DnsName.Parse("xfr-key."), TsigAlgorithm.HmacSha256, Convert.FromBase64String("c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="));
    private static readonly byte[] RequestMac = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    /// <summary>Three answer messages (each a header and one question), signed in order as a transfer's are.</summary>
    private static List<byte[]> SignedAnswer(TsigKey key)
    {
        var messages = new List<byte[]>();
        using var signer = new TsigSigner(key, RequestMac);
        for (int i = 0; i < 3; i++)
        {
            var buffer = new byte[1024];
            var w = new MessageWriter(buffer);
            w.WriteHeader(new Header { Id = 0x1234, Flags = Header.QrBit, QuestionCount = 1 });
            w.WriteName(DnsName.Parse($"m{i}.example.test.").Wire);
            w.WriteUInt16((ushort)RecordType.AXFR);
            w.WriteUInt16((ushort)RecordClass.IN);
            int length = signer.Sign(buffer, w.Position, TsigVerifier.Now());
            messages.Add(buffer[..length]);
        }
        return messages;
    }

    private static List<TsigVerdict> Verify(IEnumerable<byte[]> messages, TsigKey key)
    {
        using var verifier = new TsigAnswerVerifier(key, RequestMac);
        var verdicts = new List<TsigVerdict>();
        Span<byte> keyName = stackalloc byte[DnsName.MaxLength];
        Span<byte> algorithm = stackalloc byte[DnsName.MaxLength];
        foreach (var message in messages)
        {
            var presence = TsigRecord.Find(message, keyName, algorithm, out var tsig);
            verdicts.Add(verifier.Next(message, presence, tsig, TsigVerifier.Now()));
        }
        return verdicts;
    }

    [Fact]
    public void Every_message_of_a_signed_answer_verifies()
    {
        Assert.Equal([TsigVerdict.Verified, TsigVerdict.Verified, TsigVerdict.Verified], Verify(SignedAnswer(Key), Key));
    }

    [Fact]
    public void A_changed_octet_in_a_later_message_is_caught()
    {
        var messages = SignedAnswer(Key);
        messages[1][Header.Length + 1] ^= 0x20;
        Assert.Equal(TsigVerdict.BadSig, Verify(messages, Key)[1]);
    }

    [Fact]
    public void A_message_left_out_breaks_the_chain()
    {
        var messages = SignedAnswer(Key);
        messages.RemoveAt(1);
        Assert.Equal([TsigVerdict.Verified, TsigVerdict.BadSig], Verify(messages, Key));
    }

    [Fact]
    public void Another_key_of_the_same_name_and_an_unsigned_first_message_fail()
    {
        var other = new TsigKey(Key.Name, TsigAlgorithm.HmacSha256, new byte[32]);
        Assert.Equal(TsigVerdict.BadSig, Verify(SignedAnswer(Key), other)[0]);
        var unsigned = new byte[Header.Length];
        using var verifier = new TsigAnswerVerifier(Key, RequestMac);
        Assert.Equal(TsigVerdict.BadSig, verifier.Next(unsigned, TsigPresence.None, default, TsigVerifier.Now()));
        Assert.False(verifier.LastWasSigned);
    }
}
