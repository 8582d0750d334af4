using System.Buffers.Binary;
using AnycastDns.Protocol;

namespace AnycastDns.Authority;

/// <summary>What the message checks of RFC 1035 §4.1 and RFC 6891 decided about a received message.</summary>
internal enum QueryVerdict
{
    /// <summary>A well-formed query to answer.</summary>
    Answer,
    /// <summary>Not worth a reply: too short to carry an ID, or a response (QR set).</summary>
    Drop,
    /// <summary>Malformed: FORMERR (with the question echoed when it could be read).</summary>
    FormErr,
    /// <summary>An opcode we do not implement (RFC 1035 §4.1.1).</summary>
    NotImp,
    /// <summary>EDNS version above 0 (RFC 6891 §6.1.3).</summary>
    BadVers,
}

/// <summary>A parsed query: header, the one question (name in uncompressed wire form, case as sent), and the EDNS facts that shape the answer.</summary>
internal ref struct Query
{
    public Header Header;
    public ReadOnlySpan<byte> Name;
    public RecordType Type;
    public ushort Class;
    public bool HasQuestion;
    public bool HasEdns;
    public ushort ClientPayloadSize;
    public bool DnssecOk;
    public bool NsidRequested;
    public bool KeepaliveRequested;

    /// <summary>The query carried an EXPIRE option (RFC 7314 §2: empty in a query): a SOA, AXFR or IXFR answer gives the zone's expire.</summary>
    public bool ExpireRequested;

    /// <summary>The COOKIE option's client cookie (8 octets, RFC 7873 §4), or empty when the query had none.</summary>
    public ReadOnlySpan<byte> ClientCookie;

    /// <summary>The COOKIE option's server cookie (8 to 32 octets), or empty when the client sent none.</summary>
    public ReadOnlySpan<byte> ServerCookie;

    /// <summary>The COOKIE option was there but malformed (RFC 7873 §5.2.2): the query is FORMERR.</summary>
    public bool MalformedCookie;

    /// <summary>Parses <paramref name="message"/>; the question name is decompressed into <paramref name="nameBuffer"/>.</summary>
    public static QueryVerdict Parse(ReadOnlySpan<byte> message, Span<byte> nameBuffer, Transport transport, out Query query)
    {
        query = default;
        if (!Header.TryRead(message, out query.Header) || query.Header.IsResponse)
        {
            // RFC 1035 §4.1.1: QR=1 is a response; answering one invites reflection loops.
            return QueryVerdict.Drop;
        }
        if (query.Header.Opcode != Opcode.Query)
        {
            return QueryVerdict.NotImp;
        }
        if (query.Header.QuestionCount != 1)
        {
            return QueryVerdict.FormErr;
        }
        int offset = Header.Length;
        if (WireReader.ReadName(message, ref offset, nameBuffer, out int nameLength) != WireError.None || offset + 4 > message.Length)
        {
            return QueryVerdict.FormErr;
        }
        query.Name = nameBuffer[..nameLength];
        query.Type = (RecordType)BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
        query.Class = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
        query.HasQuestion = true;
        offset += 4;

        int records = query.Header.AnswerCount + query.Header.AuthorityCount;
        for (int i = 0; i < records; i++)
        {
            if (!SkipRecord(message, ref offset, out ushort type, out _, out _, out _) || type == (ushort)RecordType.OPT)
            {
                return QueryVerdict.FormErr;
            }
        }
        for (int i = 0; i < query.Header.AdditionalCount; i++)
        {
            int ownerAt = offset;
            if (!SkipRecord(message, ref offset, out ushort type, out ushort cls, out uint ttl, out int rdataAt))
            {
                return QueryVerdict.FormErr;
            }
            if (type != (ushort)RecordType.OPT)
            {
                continue;
            }
            // RFC 6891 §6.1.1: at most one OPT, owned by the root.
            if (query.HasEdns || message[ownerAt] != 0)
            {
                return QueryVerdict.FormErr;
            }
            query.HasEdns = true;
            query.ClientPayloadSize = cls;
            query.DnssecOk = (ttl & EdnsRecord.DoBit) != 0;
            if ((byte)(ttl >> 16) != 0)
            {
                return QueryVerdict.BadVers;
            }
            if (!ReadOptions(message[rdataAt..offset], transport, ref query))
            {
                return QueryVerdict.FormErr;
            }
        }
        return QueryVerdict.Answer;
    }

    private static bool ReadOptions(ReadOnlySpan<byte> rdata, Transport transport, ref Query query)
    {
        var options = new EdnsOptionReader(rdata);
        while (options.TryRead())
        {
            var data = options.Data;
            switch (options.Code)
            {
                case EdnsOptionCode.Nsid:
                    // RFC 5001 §2.1: the request carries an empty NSID option.
                    query.NsidRequested = data.IsEmpty;
                    break;
                case EdnsOptionCode.TcpKeepalive:
                    // RFC 7828 §3.2.1: over UDP the option is ignored; a client must not send a TIMEOUT value.
                    if (transport == Transport.Tcp)
                    {
                        if (!data.IsEmpty)
                        {
                            return false;
                        }
                        query.KeepaliveRequested = true;
                    }
                    break;
                case EdnsOptionCode.Expire:
                    // RFC 7314 §2: a query carries the option empty; one with data asks the same, and the data means nothing.
                    query.ExpireRequested = true;
                    break;
                case EdnsOptionCode.Cookie:
                    // RFC 7873 §4: a client cookie of 8 octets, alone or followed by a server cookie of 8 to 32;
                    // any other length is FORMERR (§5.2.2). A second COOKIE option is ignored.
                    if (data.Length != 8 && (data.Length < 16 || data.Length > 40))
                    {
                        query.MalformedCookie = true;
                        return false;
                    }
                    if (query.ClientCookie.IsEmpty)
                    {
                        query.ClientCookie = data[..8];
                        query.ServerCookie = data[8..];
                    }
                    break;
            }
        }
        return options.Problem is null;
    }

    private static bool SkipRecord(ReadOnlySpan<byte> message, ref int offset, out ushort type, out ushort cls, out uint ttl, out int rdataAt)
    {
        type = cls = 0;
        ttl = 0;
        rdataAt = 0;
        if (WireReader.SkipName(message, ref offset) != WireError.None
            || WireReader.ReadRecordHeader(message, ref offset, out type, out cls, out ttl, out int rdlength) != WireError.None)
        {
            return false;
        }
        rdataAt = offset;
        offset += rdlength;
        return true;
    }
}
