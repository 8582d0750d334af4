using System.Runtime.CompilerServices;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority;

/// <summary>The three record sections, written strictly in this order (RFC 1035 §4.1).</summary>
internal enum Section
{
    Answer,
    Authority,
    Additional,
}

/// <summary>
/// A response under construction: the writer, the section counts and the flags. RRsets go in whole or not at all
/// (RFC 2181 §9); when an answer or authority RRset does not fit, TC is set and nothing more is added.
/// </summary>
internal ref struct Response
{
    public MessageWriter Writer;
    public Header Header;
    public bool Truncated;

    /// <summary>
    /// The query set DO and the zone is signed (RFC 3225 §3, RFC 4035 §3.1): RRsets go with their RRSIGs, and negative
    /// and wildcard answers with the NSEC/NSEC3 records in <see cref="Proofs"/>.
    /// </summary>
    public bool Dnssec;

    /// <summary>The NSEC/NSEC3 owners the answer needs as proof, written to the authority section at the end.</summary>
    public DenialProofs Proofs;

    /// <summary>The kind of answer given, for rate limiting and statistics; the last link of a CNAME chain decides.</summary>
    public ResponseClass Class;

    /// <summary>The name keying the answer's rate-limiting bucket when it is not the question (<see cref="ResponseDecision.Bucket"/>).</summary>
    public DnsName? Bucket;

    /// <summary>The origin of the zone the answer came from; null when none did (REFUSED, FORMERR, CHAOS identity).</summary>
    public DnsName? Zone;

    /// <summary>The Extended DNS Error INFO-CODE to attach (RFC 8914 §4), or -1 for none.</summary>
    public int ExtendedError;

    /// <summary>With <see cref="ExtendedError"/> 24: the zone asked for has expired (the EDE's EXTRA-TEXT says so).</summary>
    public bool ZoneExpired;

    /// <summary>The seconds to send in an EXPIRE option (RFC 7314 §3), or -1 for none.</summary>
    public long Expire;
    private int _answer;
    private int _authority;
    private int _additional;
    private PendingAdditional _pending;
    private int _pendingCount;

    public Response(Span<byte> buffer)
    {
        Writer = new MessageWriter(buffer);
        ExtendedError = -1;
        Expire = -1;
    }

    /// <summary>Records what kind of answer this is and which name keys it (null: the question name).</summary>
    public void Decide(ResponseClass kind, DnsName? bucket = null)
    {
        Class = kind;
        Bucket = bucket;
    }

    public readonly int AnswerCount => _answer;

    /// <summary>Adds a zone RRset under <paramref name="owner"/> (the query's own name for exact and wildcard matches, so case is echoed).</summary>
    public bool Add(Section section, scoped ReadOnlySpan<byte> owner, RRset rrset)
    {
        if (Truncated)
        {
            return false;
        }
        var mark = Writer.Mark();
        for (int i = 0; i < rrset.Count; i++)
        {
            bool ok = rrset.IsCompressible
                ? Writer.WriteRecord(owner, rrset.Type, (ushort)RecordClass.IN, rrset.Ttl, rrset.Rdata(i))
                : Writer.WriteName(owner) && Writer.WriteBytes(rrset.Encoded(i));
            if (!ok)
            {
                Writer.Reset(mark);
                return Overflow(section);
            }
        }
        int signatures = 0;
        // RFC 4035 §3.1.1: with DO, an RRset goes with its RRSIGs; when they do not fit, the RRset goes neither.
        if (Dnssec && rrset.Signatures is { } covering)
        {
            if (!WriteSignatures(owner, covering, ttl: null))
            {
                Writer.Reset(mark);
                return Overflow(section);
            }
            signatures = covering.Records.Length;
        }
        Count(section, rrset.Count + signatures);
        if (rrset.AdditionalTargets.Length > 0 && section != Section.Additional)
        {
            QueueAdditional(rrset);
        }
        return true;
    }

    /// <summary>Adds one record made up for this answer (a synthesised CNAME, a negative-answer SOA, a CHAOS TXT).</summary>
    public bool AddRecord(Section section, scoped ReadOnlySpan<byte> owner, RecordType type, ushort cls, uint ttl, scoped ReadOnlySpan<byte> rdata)
    {
        if (Truncated)
        {
            return false;
        }
        if (!Writer.WriteRecord(owner, type, cls, ttl, rdata))
        {
            return Overflow(section);
        }
        Count(section, 1);
        return true;
    }

    /// <summary>
    /// Adds the RRSIGs of a record that was written with a TTL of its own (the SOA of a negative answer, RFC 2308 §3),
    /// with that TTL: a signature may not outlive the data it covers (RFC 4035 §3.1.3 asks for the SOA's RRSIGs).
    /// </summary>
    public bool AddSignatures(Section section, scoped ReadOnlySpan<byte> owner, CoveringSignatures covering, uint ttl)
    {
        if (Truncated)
        {
            return false;
        }
        if (!WriteSignatures(owner, covering, ttl))
        {
            return Overflow(section);
        }
        Count(section, covering.Records.Length);
        return true;
    }

    /// <summary>Writes every RRSIG of <paramref name="covering"/> under <paramref name="owner"/>; all or none.</summary>
    private bool WriteSignatures(scoped ReadOnlySpan<byte> owner, CoveringSignatures covering, uint? ttl)
    {
        var mark = Writer.Mark();
        var rrsigs = covering.Rrsigs;
        foreach (int i in covering.Records)
        {
            // RRSIG RDATA is never compressed (RFC 4034 §3.1.7), so the pre-encoded form is used as it is.
            bool ok = ttl is { } t
                ? Writer.WriteRecord(owner, RecordType.RRSIG, (ushort)RecordClass.IN, Math.Min(t, rrsigs.RecordTtl(i)), rrsigs.Rdata(i))
                : Writer.WriteName(owner) && Writer.WriteBytes(rrsigs.Encoded(i));
            if (!ok)
            {
                Writer.Reset(mark);
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// RFC 1034 §4.3.2 step 6: addresses of the names that NS, MX and SRV answers point at; for SVCB and HTTPS also
    /// the target's own SVCB/HTTPS RRset (RFC 9460 §4.5). They are optional: whatever does not fit is left out
    /// without TC (RFC 2181 §9).
    /// </summary>
    public void AddAdditionalAddresses()
    {
        PendingNodes written = default;
        int writtenCount = 0;
        for (int p = 0; p < _pendingCount; p++)
        {
            var pointer = _pending[p];
            foreach (var node in pointer.AdditionalTargets)
            {
                bool seen = false;
                for (int w = 0; w < writtenCount; w++)
                {
                    seen |= ReferenceEquals(written[w], node);
                }
                if (seen)
                {
                    continue;
                }
                if (writtenCount < PendingNodes.Capacity)
                {
                    written[writtenCount++] = node;
                }
                if (node.Get(RecordType.A) is { } a && !Add(Section.Additional, node.Name.Wire, a))
                {
                    return;
                }
                if (node.Get(RecordType.AAAA) is { } aaaa && !Add(Section.Additional, node.Name.Wire, aaaa))
                {
                    return;
                }
                if (pointer.Type is RecordType.SVCB or RecordType.HTTPS && node.Get(pointer.Type) is { } service
                    && !Add(Section.Additional, node.Name.Wire, service))
                {
                    return;
                }
            }
        }
    }

    /// <summary>Writes the final counts into the header.</summary>
    public void Finish()
    {
        Header.Set(Header.TcBit, Truncated);
        Header.AnswerCount = (ushort)_answer;
        Header.AuthorityCount = (ushort)_authority;
        Header.AdditionalCount = (ushort)_additional;
        Header.Write(Writer.Buffer);
    }

    public void CountAdditional() => _additional++;

    private bool Overflow(Section section)
    {
        // Optional additional data may simply be dropped; missing answer or authority data must be flagged (RFC 2181 §9).
        if (section != Section.Additional)
        {
            Truncated = true;
        }
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Count(Section section, int n)
    {
        switch (section)
        {
            case Section.Answer: _answer += n; break;
            case Section.Authority: _authority += n; break;
            default: _additional += n; break;
        }
    }

    private void QueueAdditional(RRset rrset)
    {
        if (_pendingCount < PendingAdditional.Capacity)
        {
            _pending[_pendingCount++] = rrset;
        }
    }

    [InlineArray(Capacity)]
    private struct PendingAdditional
    {
        public const int Capacity = 8;
        private RRset _element;
    }

    [InlineArray(Capacity)]
    private struct PendingNodes
    {
        public const int Capacity = 16;
        private ZoneNode _element;
    }
}
