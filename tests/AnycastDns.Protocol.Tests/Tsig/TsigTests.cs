using System.Buffers.Binary;
using System.Diagnostics;
using AnycastDns.Protocol;
using AnycastDns.Protocol.Tsig;

namespace AnycastDns.Protocol.Tests.Tsig;

/// <summary>
/// TSIG (RFC 8945) against dnspython's implementation (Debian's python3-dnspython), which nobody here wrote: it signs
/// requests that we verify, and verifies the answers we sign, single messages and multi-message TCP answers alike.
/// </summary>
public sealed class TsigTests
{
    private const string Secret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=";
    private const string KeyName = "xfr-key.";

    private static TsigKey Key(TsigAlgorithm algorithm, string secret = Secret, string name = KeyName) =>
        new(DnsName.Parse(name), algorithm, Convert.FromBase64String(secret));

    [Theory]
    [InlineData("hmac-sha1", TsigAlgorithm.HmacSha1)]
    [InlineData("hmac-sha256", TsigAlgorithm.HmacSha256)]
    [InlineData("hmac-sha384", TsigAlgorithm.HmacSha384)]
    [InlineData("hmac-sha512", TsigAlgorithm.HmacSha512)]
    public void A_request_dnspython_signed_verifies_and_every_change_is_caught(string algorithmName, TsigAlgorithm algorithm)
    {
        byte[] request = Python.SignedQuery(algorithmName, Secret, "example.test.", "AXFR");
        var keys = new TsigKeyring([Key(algorithm)]);
        ulong now = TsigVerifier.Now();

        Assert.Equal(TsigVerdict.Verified, Verify(request, keys, now));
        // Another secret, a key of another name, another algorithm under the name, a clock 301 s off.
        Assert.Equal(TsigVerdict.BadSig, Verify(request, new TsigKeyring([Key(algorithm, Convert.ToBase64String(new byte[32]))]), now));
        Assert.Equal(TsigVerdict.BadKey, Verify(request, new TsigKeyring([Key(algorithm, name: "other-key.")]), now));
        var other = algorithm == TsigAlgorithm.HmacSha256 ? TsigAlgorithm.HmacSha512 : TsigAlgorithm.HmacSha256;
        Assert.Equal(TsigVerdict.BadKey, Verify(request, new TsigKeyring([Key(other)]), now));
        Assert.Equal(TsigVerdict.BadTime, Verify(request, keys, now + 301));
        Assert.Equal(TsigVerdict.Verified, Verify(request, keys, now + 250));
        // One octet of the question changed: the MAC no longer covers it.
        byte[] tampered = (byte[])request.Clone();
        tampered[Header.Length + 1] ^= 0x01;
        Assert.Equal(TsigVerdict.BadSig, Verify(tampered, keys, now));
        // The ID changed (as a forwarder may): the Original ID still verifies (RFC 8945 §4.3.2).
        byte[] forwarded = (byte[])request.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(forwarded, (ushort)(BinaryPrimitives.ReadUInt16BigEndian(forwarded) + 1));
        Assert.Equal(TsigVerdict.Verified, Verify(forwarded, keys, now));
    }

    [Theory]
    [InlineData("hmac-sha256", TsigAlgorithm.HmacSha256)]
    [InlineData("hmac-sha384", TsigAlgorithm.HmacSha384)]
    [InlineData("hmac-sha512", TsigAlgorithm.HmacSha512)]
    public void Dnspython_verifies_a_signed_multi_message_answer(string algorithmName, TsigAlgorithm algorithm)
    {
        byte[] request = Python.SignedQuery(algorithmName, Secret, "example.test.", "AXFR");
        var keys = new TsigKeyring([Key(algorithm)]);
        Span<byte> keyName = stackalloc byte[DnsName.MaxLength];
        Span<byte> algorithmWire = stackalloc byte[DnsName.MaxLength];
        Assert.Equal(TsigPresence.Present, TsigRecord.Find(request, keyName, algorithmWire, out var tsig));
        var messages = new List<byte[]>();
        using (var signer = new TsigSigner(keys.Find(tsig.KeyName)!, tsig.Mac))
        {
            ushort id = BinaryPrimitives.ReadUInt16BigEndian(request);
            for (int i = 0; i < 3; i++)
            {
                var buffer = new byte[ushort.MaxValue];
                int length = WriteTransferMessage(buffer, id, first: i == 0, last: i == 2, records: 50 + i);
                length = signer.Sign(buffer, length, TsigVerifier.Now());
                Assert.True(length > 0);
                messages.Add(buffer[..length]);
            }
        }
        Assert.Equal(["ok 0", "ok 1", "ok 2"], Python.VerifyAnswer(algorithmName, Secret, request, messages));

        // The test can fail: one octet of the middle message changed, and dnspython rejects it.
        messages[1][Header.Length + 3] ^= 0x01;
        var verdicts = Python.VerifyAnswer(algorithmName, Secret, request, messages);
        Assert.Equal("ok 0", verdicts[0]);
        Assert.StartsWith("bad 1", verdicts[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Dnspython_verifies_a_request_we_sign_and_we_verify_it_too()
    {
        var key = Key(TsigAlgorithm.HmacSha256);
        var buffer = new byte[ushort.MaxValue];
        var w = new MessageWriter(buffer);
        w.WriteHeader(new Header { Id = 0x5a5a, QuestionCount = 1 });
        w.WriteName(DnsName.Parse("example.test.").Wire);
        w.WriteUInt16((ushort)RecordType.SOA);
        w.WriteUInt16((ushort)RecordClass.IN);
        using var signer = new TsigSigner(key, []);
        int length = signer.Sign(buffer, w.Position, TsigVerifier.Now());
        byte[] request = buffer[..length];
        Assert.Equal(TsigVerdict.Verified, Verify(request, new TsigKeyring([key]), TsigVerifier.Now()));
        Assert.Equal("verified", Python.VerifyRequest("hmac-sha256", Secret, request));
        request[Header.Length + 2] ^= 1;
        Assert.StartsWith("bad", Python.VerifyRequest("hmac-sha256", Secret, request), StringComparison.Ordinal);
    }

    [Fact]
    public void An_hmac_sha1_key_verifies_but_does_not_sign()
    {
        Assert.False(Key(TsigAlgorithm.HmacSha1).CanSign);
        Assert.Throws<ArgumentException>(() => new TsigSigner(Key(TsigAlgorithm.HmacSha1), new byte[20]));
    }

    [Fact]
    public void The_secret_is_never_in_the_text_of_a_key()
    {
        var key = Key(TsigAlgorithm.HmacSha256);
        Assert.Equal("xfr-key. (hmac-sha256)", key.ToString());
        Assert.DoesNotContain(Secret, key.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_tsig_records_are_found_malformed_and_nothing_throws()
    {
        byte[] request = Python.SignedQuery("hmac-sha256", Secret, "example.test.", "SOA");
        Span<byte> keyName = stackalloc byte[DnsName.MaxLength];
        Span<byte> algorithm = stackalloc byte[DnsName.MaxLength];
        Assert.Equal(TsigPresence.Present, TsigRecord.Find(request, keyName, algorithm, out var tsig));
        int start = tsig.Start;

        // Every truncation of the TSIG record: never Present, never an exception.
        for (int cut = start + 1; cut < request.Length; cut++)
        {
            Assert.NotEqual(TsigPresence.Present, TsigRecord.Find(request.AsSpan(0, cut), keyName, algorithm, out _));
        }
        // CLASS IN instead of ANY (RFC 8945 §4.2).
        byte[] classIn = (byte[])request.Clone();
        int typeAt = start + KeyName.Length + 1;
        BinaryPrimitives.WriteUInt16BigEndian(classIn.AsSpan(typeAt + 2), (ushort)RecordClass.IN);
        Assert.Equal(TsigPresence.Malformed, TsigRecord.Find(classIn, keyName, algorithm, out _));
        // Not the last record: an OPT after it (RFC 8945 §5.1).
        byte[] notLast = [.. request, 0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0];
        BinaryPrimitives.WriteUInt16BigEndian(notLast.AsSpan(10), 2);
        Assert.Equal(TsigPresence.Malformed, TsigRecord.Find(notLast, keyName, algorithm, out _));
        // In the answer section instead of the additional section.
        byte[] inAnswer = (byte[])request.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(inAnswer.AsSpan(6), 1);
        BinaryPrimitives.WriteUInt16BigEndian(inAnswer.AsSpan(10), 0);
        Assert.Equal(TsigPresence.Malformed, TsigRecord.Find(inAnswer, keyName, algorithm, out _));
        // A MAC Size beyond the record.
        byte[] longMac = (byte[])request.Clone();
        int macSizeAt = typeAt + 10 + "\u000bhmac-sha256\0".Length + 8;
        BinaryPrimitives.WriteUInt16BigEndian(longMac.AsSpan(macSizeAt), 200);
        Assert.Equal(TsigPresence.Malformed, TsigRecord.Find(longMac, keyName, algorithm, out _));
        // A MAC of 0 octets is FORMERR (RFC 8945 §5.2.2.1), checked before the MAC is computed.
        var empty = new byte[ushort.MaxValue];
        request.AsSpan(0, start).CopyTo(empty);
        BinaryPrimitives.WriteUInt16BigEndian(empty.AsSpan(10), 0);
        int length = TsigSigner.AppendUnsigned(empty, start, tsig.KeyName, tsig.AlgorithmName, TsigVerifier.Now(), 1, 0);
        Assert.Equal(TsigPresence.Present, TsigRecord.Find(empty.AsSpan(0, length), keyName, algorithm, out var zeroMac));
        Assert.Equal(TsigVerdict.FormErr, TsigVerifier.Verify(empty.AsSpan(0, length), zeroMac, new TsigKeyring([Key(TsigAlgorithm.HmacSha256)]), TsigVerifier.Now(), out _));
        // The same query unsigned.
        byte[] unsigned = request[..start];
        BinaryPrimitives.WriteUInt16BigEndian(unsigned.AsSpan(10), 0);
        Assert.Equal(TsigPresence.None, TsigRecord.Find(unsigned, keyName, algorithm, out _));
    }

    [Fact]
    public void A_reply_dnspython_signed_to_our_signed_request_verifies_with_the_request_MAC()
    {
        var key = Key(TsigAlgorithm.HmacSha256);
        var buffer = new byte[512];
        var w = new MessageWriter(buffer);
        var header = new Header { Id = 4242, Flags = Header.AaBit, QuestionCount = 1 };
        header.SetOpcode(Opcode.Notify);
        w.WriteHeader(header);
        w.WriteName(DnsName.Parse("example.test.").Wire);
        w.WriteUInt16((ushort)RecordType.SOA);
        w.WriteUInt16((ushort)RecordClass.IN);
        int length;
        using (var signer = new TsigSigner(key, []))
        {
            length = signer.Sign(buffer, w.Position, TsigVerifier.Now());
        }
        byte[] request = buffer[..length];
        Span<byte> keyName = stackalloc byte[DnsName.MaxLength];
        Span<byte> algorithm = stackalloc byte[DnsName.MaxLength];
        Assert.Equal(TsigPresence.Present, TsigRecord.Find(request, keyName, algorithm, out var requestTsig));
        byte[] requestMac = requestTsig.Mac.ToArray();

        byte[] reply = Python.SignedReply("hmac-sha256", Secret, request);
        Assert.Equal(TsigPresence.Present, TsigRecord.Find(reply, keyName, algorithm, out var tsig));
        ulong now = TsigVerifier.Now();
        Assert.Equal(TsigVerdict.Verified, TsigVerifier.VerifyAnswer(reply, tsig, key, requestMac, now));
        // Another request's MAC, another secret, another key name, a clock 301 s off.
        byte[] otherMac = (byte[])requestMac.Clone();
        otherMac[0] ^= 1;
        Assert.Equal(TsigVerdict.BadSig, TsigVerifier.VerifyAnswer(reply, tsig, key, otherMac, now));
        Assert.Equal(TsigVerdict.BadSig, TsigVerifier.VerifyAnswer(reply, tsig, Key(TsigAlgorithm.HmacSha256, Convert.ToBase64String(new byte[32])), requestMac, now));
        Assert.Equal(TsigVerdict.BadKey, TsigVerifier.VerifyAnswer(reply, tsig, Key(TsigAlgorithm.HmacSha256, name: "other-key."), requestMac, now));
        Assert.Equal(TsigVerdict.BadTime, TsigVerifier.VerifyAnswer(reply, tsig, key, requestMac, now + 301));
    }

    [Fact]
    public void IsCarried_says_whether_Find_would_find_a_TSIG_record_well_placed_or_not()
    {
        byte[] request = Python.SignedQuery("hmac-sha256", Secret, "example.test.", "SOA");
        Span<byte> keyName = stackalloc byte[DnsName.MaxLength];
        Span<byte> algorithm = stackalloc byte[DnsName.MaxLength];
        Assert.Equal(TsigPresence.Present, TsigRecord.Find(request, keyName, algorithm, out var tsig));
        Assert.True(TsigRecord.IsCarried(request));
        // Misplaced: still carried, so that the listener hands it to the TSIG checks (FORMERR, RFC 8945 §5.1).
        byte[] notLast = [.. request, 0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0];
        BinaryPrimitives.WriteUInt16BigEndian(notLast.AsSpan(10), 2);
        Assert.True(TsigRecord.IsCarried(notLast));
        byte[] inAnswer = (byte[])request.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(inAnswer.AsSpan(6), 1);
        BinaryPrimitives.WriteUInt16BigEndian(inAnswer.AsSpan(10), 0);
        Assert.True(TsigRecord.IsCarried(inAnswer));
        // Unsigned, with or without an OPT; no records at all; every truncation; a compressed owner.
        byte[] unsigned = request[..tsig.Start];
        BinaryPrimitives.WriteUInt16BigEndian(unsigned.AsSpan(10), 0);
        Assert.False(TsigRecord.IsCarried(unsigned));
        byte[] withOpt = [.. unsigned, 0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0];
        BinaryPrimitives.WriteUInt16BigEndian(withOpt.AsSpan(10), 1);
        Assert.False(TsigRecord.IsCarried(withOpt));
        for (int cut = 0; cut < request.Length; cut++)
        {
            Assert.Equal(TsigRecord.Find(request.AsSpan(0, cut), keyName, algorithm, out _) != TsigPresence.None, TsigRecord.IsCarried(request.AsSpan(0, cut)));
        }
        byte[] pointerOwner = [.. unsigned, 0xC0, 12, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0];
        BinaryPrimitives.WriteUInt16BigEndian(pointerOwner.AsSpan(10), 1);
        Assert.True(TsigRecord.IsCarried(pointerOwner));
    }

    private static TsigVerdict Verify(byte[] request, TsigKeyring keys, ulong now)
    {
        Span<byte> keyName = stackalloc byte[DnsName.MaxLength];
        Span<byte> algorithm = stackalloc byte[DnsName.MaxLength];
        Assert.Equal(TsigPresence.Present, TsigRecord.Find(request, keyName, algorithm, out var tsig));
        return TsigVerifier.Verify(request, tsig, keys, now, out _);
    }

    /// <summary>A message of a zone transfer of example.test.: the SOA first (and last), A records between.</summary>
    private static int WriteTransferMessage(byte[] buffer, ushort id, bool first, bool last, int records)
    {
        var w = new MessageWriter(buffer);
        var origin = DnsName.Parse("example.test.");
        var header = new Header { Id = id, Flags = Header.QrBit | Header.AaBit, QuestionCount = first ? (ushort)1 : (ushort)0 };
        w.WriteHeader(header);
        if (first)
        {
            w.WriteName(origin.Wire);
            w.WriteUInt16((ushort)RecordType.AXFR);
            w.WriteUInt16((ushort)RecordClass.IN);
        }
        byte[] soa = [.. DnsName.Parse("ns.example.test.").Wire, .. DnsName.Parse("host.example.test.").Wire, 0, 0, 0, 1, 0, 0, 14, 16, 0, 0, 7, 8, 0, 18, 117, 0, 0, 0, 1, 44];
        int count = 0;
        if (first)
        {
            w.WriteRecord(origin.Wire, RecordType.SOA, (ushort)RecordClass.IN, 3600, soa);
            count++;
        }
        for (int i = 0; i < records; i++)
        {
            w.WriteRecord(DnsName.Parse($"h{i}.m{records}.example.test.").Wire, RecordType.A, (ushort)RecordClass.IN, 300, [192, 0, 2, (byte)i]);
            count++;
        }
        if (last)
        {
            w.WriteRecord(origin.Wire, RecordType.SOA, (ushort)RecordClass.IN, 3600, soa);
            count++;
        }
        w.PatchUInt16(6, (ushort)count);
        return w.Position;
    }

    /// <summary>dnspython, run by Debian's python3 (bounded in time).</summary>
    private static class Python
    {
        private const string Path = "/usr/bin/python3";

        private const string Keyring = """
            import sys, dns.message, dns.tsig, dns.tsigkeyring, dns.name, dns.rdatatype
            algorithms = {'hmac-sha1': dns.tsig.HMAC_SHA1, 'hmac-sha256': dns.tsig.HMAC_SHA256,
                          'hmac-sha384': dns.tsig.HMAC_SHA384, 'hmac-sha512': dns.tsig.HMAC_SHA512}
            algorithm = algorithms[sys.argv[1]]
            keyname = dns.name.from_text('xfr-key.')
            keyring = {keyname: dns.tsig.Key(keyname, sys.argv[2], algorithm)}
            """;

        public static byte[] SignedQuery(string algorithm, string secret, string name, string type)
        {
            string script = Keyring + "\n" + """
                q = dns.message.make_query(sys.argv[3], sys.argv[4])
                q.use_tsig(keyring, keyname=keyname, algorithm=algorithm)
                print(q.to_wire().hex())
                """;
            return Convert.FromHexString(Run(script, [algorithm, secret, name, type], "").Trim());
        }

        /// <summary>dnspython's reply to a request it verifies, signed with the request's key and MAC.</summary>
        public static byte[] SignedReply(string algorithm, string secret, byte[] request)
        {
            string script = Keyring + "\n" + """
                q = dns.message.from_wire(bytes.fromhex(sys.argv[3]), keyring=keyring)
                print(dns.message.make_response(q).to_wire().hex())
                """;
            return Convert.FromHexString(Run(script, [algorithm, secret, Convert.ToHexString(request)], "").Trim());
        }

        /// <summary>"verified" when dnspython verifies the request's TSIG, else "bad: why".</summary>
        public static string VerifyRequest(string algorithm, string secret, byte[] request)
        {
            string script = Keyring + "\n" + """
                try:
                    dns.message.from_wire(bytes.fromhex(sys.argv[3]), keyring=keyring)
                    print('verified')
                except Exception as e:
                    print('bad:', type(e).__name__, e)
                """;
            return Run(script, [algorithm, secret, Convert.ToHexString(request)], "").Trim();
        }

        /// <summary>One line per message: "ok i" when dnspython verified it, "bad i: why" at the first it rejects.</summary>
        public static string[] VerifyAnswer(string algorithm, string secret, byte[] request, List<byte[]> messages)
        {
            string script = Keyring + "\n" + """
                q = dns.message.from_wire(bytes.fromhex(sys.argv[3]), keyring=keyring)
                ctx = None
                for i, line in enumerate(sys.stdin):
                    try:
                        r = dns.message.from_wire(bytes.fromhex(line.strip()), keyring=keyring, request_mac=q.mac,
                                                  xfr=True, origin=dns.name.from_text('example.test.'), tsig_ctx=ctx, multi=True)
                        ctx = r.tsig_ctx
                        print('ok', i)
                    except Exception as e:
                        print('bad', i, type(e).__name__, e)
                        break
                """;
            string input = string.Join('\n', messages.Select(Convert.ToHexString)) + "\n";
            return Run(script, [algorithm, secret, Convert.ToHexString(request)], input).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }

        private static string Run(string script, string[] arguments, string input)
        {
            Assert.True(File.Exists(Path), $"{Path} is missing: apt-get install python3-dnspython");
            var start = new ProcessStartInfo(Path) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(script);
            foreach (string argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
            using var process = Process.Start(start)!;
            process.StandardInput.Write(input);
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                process.Kill();
                Assert.Fail("python3 did not finish within 20 s");
            }
            Assert.True(process.ExitCode == 0, $"python3 failed: {error.Result}");
            return output.Result;
        }
    }
}
