using System.Buffers.Binary;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using static AnycastDns.Fuzz.FuzzFinding;

namespace AnycastDns.Fuzz;

/// <summary>
/// What every response of the server must be, whatever the query (issue 14): a message that parses to its last octet
/// with counts that match its sections; ID, opcode, RD and CD of the query (RFC 1035 §4.1.1, RFC 4035 §3.1.6); the
/// query's question, exactly, when it had one that could be read; no longer than the limit of its transport (512, the
/// EDNS size clamped to the server's maximum, 65535); every compression pointer leading back to a name written before
/// the one that holds it (RFC 1035 §4.1.4); and an answer to every query, since only what is not a query (shorter than a
/// header, or QR set) is dropped.
/// </summary>
internal sealed class ResponseRules
{
    private readonly QueryFacts _query = new();

    // For the compression walk: whether an offset starts a label (or the root octet) of a name already read, and how
    // many octets the name from there has, uncompressed.
    private readonly bool[] _labelStart = new bool[Responder.MaxResponseSize];
    private readonly int[] _suffixLength = new int[Responder.MaxResponseSize];
    private readonly int[] _labels = new int[DnsName.MaxLength];

    /// <summary>The query as read by these rules, after <see cref="Check"/>.</summary>
    public QueryFacts Query => _query;

    /// <summary>
    /// Throws <see cref="FuzzFinding"/> when <paramref name="response"/> (empty: not answered) breaks a rule for
    /// <paramref name="query"/>, or <paramref name="decision"/> says something else than the response.
    /// <paramref name="limited"/>: the reply is rate limiting's slip (RespondLimited).
    /// </summary>
    public void Check(ReadOnlySpan<byte> query, Transport transport, int maxUdpPayload, ReadOnlySpan<byte> response, in ResponseDecision decision, bool limited)
    {
        _query.Read(query);
        var q = _query;
        Require(decision.Length == response.Length, $"the decision says {decision.Length} octets, the response has {response.Length}");
        if (!q.IsQuery)
        {
            Require(response.Length == 0, $"a message that is not a query (shorter than a header, or QR set) was answered with {response.Length} octets");
            Require(decision.Class == ResponseClass.Dropped, $"a dropped message decided as {decision.Class}");
            return;
        }
        Require(response.Length > 0, "a query got no response");
        Require(response.Length >= Header.Length, $"a response of {response.Length} octets, shorter than a header");

        int limit = transport == Transport.Tcp ? ushort.MaxValue
            : q.HasEdns ? Math.Clamp(q.PayloadSize, Responder.ClassicUdpLimit, maxUdpPayload)
            : Responder.ClassicUdpLimit;
        Require(response.Length <= limit, $"a {transport} response of {response.Length} octets, over its limit of {limit}");

        Header.TryRead(response, out var header);
        Require(header.IsResponse, "QR clear in a response");
        Require(header.Id == q.Id, $"ID {header.Id}, not the query's {q.Id}");
        Require((header.Flags & 0x7800) == (q.Flags & 0x7800), $"opcode {header.Opcode}, not the query's {q.Opcode}");
        Require((header.Flags & (Header.RdBit | Header.CdBit)) == (q.Flags & (Header.RdBit | Header.CdBit)), "RD or CD not copied from the query");
        Require(transport == Transport.Udp || !header.Has(Header.TcBit), "TC set over TCP");

        DnsMessage message;
        try
        {
            message = DnsMessage.Parse(response);
        }
        catch (DnsFormatException e)
        {
            throw new FuzzFinding($"the response does not parse: {e.Message}", e);
        }
        CheckCompression(response, header);

        var rcode = message.ResponseCode;
        if (q.HasQuestion)
        {
            Require(message.Questions.Count == 1, $"{message.Questions.Count} questions in the response to a query with a readable question");
            var question = message.Questions[0];
            Require(question.Name.Wire.SequenceEqual(q.Name), $"the question {question.Name}, not the query's {WireName.ToText(q.Name)}");
            Require((ushort)question.Type == q.Type && (ushort)question.Class == q.Class, "the question's type or class is not the query's");
        }
        else
        {
            Require(message.Questions.Count == 0, "a question in the response to a query without a readable one");
            var expected = q.Opcode == Opcode.Query ? ResponseCode.FormErr : ResponseCode.NotImp;
            Require(rcode == expected, $"{rcode} to a query without a readable question, not {expected}");
        }
        if (rcode is ResponseCode.FormErr or ResponseCode.NotImp or ResponseCode.Refused)
        {
            Require(message.Answers.Count == 0, $"{rcode} with answers");
        }
        if (limited && q.HasQuestion && rcode is not (ResponseCode.FormErr or ResponseCode.BadVers))
        {
            // The slip: no records, TC, so that a resolver retries over TCP; or BADCOOKIE with a cookie. A query that
            // is answered FORMERR or BADVERS before any lookup gets that answer, as small as the slip and more useful.
            Require(message.Answers.Count + message.Authority.Count + message.Additional.Count == 0, "records in a rate-limited slip");
            Require(header.Has(Header.TcBit) || rcode == ResponseCode.BadCookie, $"a rate-limited slip without TC or BADCOOKIE: {rcode}");
        }

        // What the responder says it decided is what it wrote.
        Require(decision.Rcode == (ushort)rcode, $"the decision says RCODE {decision.Rcode}, the response {rcode}");
        Require(decision.Truncated == header.Has(Header.TcBit), $"the decision says TC {decision.Truncated}, the response {header.Has(Header.TcBit)}");
        Require(decision.QType == (q.HasQuestion ? q.Type : 0), $"the decision says QTYPE {decision.QType}");
        Require(decision.QName(response).SequenceEqual(q.HasQuestion ? q.Name : []), "the decision's question name is not the query's");
        var expectedClass = rcode switch
        {
            ResponseCode.NoError => decision.Class is ResponseClass.Positive or ResponseClass.NoData or ResponseClass.Referral or ResponseClass.Wildcard,
            ResponseCode.NXDomain => decision.Class == ResponseClass.NxDomain,
            _ => decision.Class == ResponseClass.Error,
        };
        Require(expectedClass, $"{rcode} decided as {decision.Class}");
        // RFC 6891 §7: OPT in the response only when the query had one; RFC 3225 §3: DO copied.
        if (message.Edns is { } edns)
        {
            Require(q.HasEdns, "OPT in the response to a query without one");
            Require(edns.DnssecOk == q.DnssecOk, "DO not copied from the query");
            Require(edns.Version == 0, $"EDNS version {edns.Version} in the response");
        }
        else
        {
            Require(!q.HasEdns, "no OPT in the response to a query with one");
        }
    }

    /// <summary>
    /// Walks every name of the response (question, owners, and the names in RDATA of the types that may be compressed,
    /// RFC 3597 §4) and checks each pointer: it leads to the start of a label of a name read before this name began.
    /// </summary>
    private void CheckCompression(ReadOnlySpan<byte> message, Header header)
    {
        Array.Clear(_labelStart, 0, message.Length);
        int offset = Header.Length;
        for (int i = 0; i < header.QuestionCount; i++)
        {
            offset = WalkName(message, offset) + 4;
        }
        int records = header.AnswerCount + header.AuthorityCount + header.AdditionalCount;
        for (int i = 0; i < records; i++)
        {
            offset = WalkName(message, offset);
            var type = (RecordType)BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
            int rdlength = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 8)..]);
            offset += 10;
            int end = offset + rdlength;
            if (RdataLayout.MayArriveCompressed(type))
            {
                int at = offset;
                foreach (byte field in RdataLayout.Of(type))
                {
                    at = field switch
                    {
                        (byte)'N' => WalkName(message, at),
                        (byte)'2' => at + 2,
                        (byte)'4' => at + 4,
                        (byte)'S' => at + 1 + message[at],
                        _ => end,
                    };
                }
                Require(at <= end, $"{type} RDATA at {offset} runs past its RDLENGTH");
            }
            offset = end;
        }
        Require(offset == message.Length, "octets after the last record");
    }

    /// <summary>Reads the name at <paramref name="start"/>, records its labels, and returns the offset after it.</summary>
    private int WalkName(ReadOnlySpan<byte> message, int start)
    {
        int count = 0;
        int pos = start;
        int tail;
        while (true)
        {
            Require(pos < message.Length, $"the name at {start} runs off the message");
            int length = message[pos];
            if (length >= 0xC0)
            {
                Require(pos + 1 < message.Length, $"the name at {start} ends in half a pointer");
                int target = ((length & 0x3F) << 8) | message[pos + 1];
                Require(target < start, $"the name at {start} has a pointer at {pos} to {target}, not before the name");
                Require(_labelStart[target], $"the name at {start} has a pointer at {pos} to {target}, which starts no label of an earlier name");
                tail = _suffixLength[target];
                pos += 2;
                break;
            }
            Require(length <= DnsName.MaxLabelLength, $"a label of length {length} at {pos}");
            _labels[count++] = pos;
            if (length == 0)
            {
                tail = 0;
                pos++;
                break;
            }
            Require(count < _labels.Length, $"the name at {start} is longer than {DnsName.MaxLength} octets");
            pos += 1 + length;
        }
        // From the last label back: each label's suffix is itself plus what follows it.
        for (int i = count - 1; i >= 0; i--)
        {
            tail += 1 + message[_labels[i]];
            _labelStart[_labels[i]] = true;
            _suffixLength[_labels[i]] = tail;
        }
        Require(tail <= DnsName.MaxLength, $"the name at {start} is {tail} octets long, over {DnsName.MaxLength}");
        return pos;
    }
}
