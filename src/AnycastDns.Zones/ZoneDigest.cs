using System.Buffers.Binary;
using System.Security.Cryptography;
using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// The message digest of a whole zone, RFC 8976 scheme 1 (SIMPLE, §3.3.1) with SHA-384 or SHA-512: every record of the
/// zone, in canonical order, each in canonical wire form, hashed as one stream.
/// <list type="bullet">
/// <item>Order (RFC 8976 §3.3.1, RFC 4034 §6.1 and §6.3): owner names in canonical order, then TYPE numerically, then
/// RDATA in canonical order. RRSIGs at a name sort as one RRset by their RDATA, which begins with the type covered.</item>
/// <item>Form (RFC 4034 §6.2): owner lower-cased and uncompressed; the names in the RDATA of the types listed there
/// lower-cased (<see cref="CanonicalForm"/>); CLASS IN; the TTL the zone gave the record.</item>
/// <item>Inclusion (RFC 8976 §3.3.1.1): glue and occluded data are digested like everything else; the apex ZONEMD
/// RRset and the apex RRSIGs covering ZONEMD are left out; a ZONEMD below the apex is ordinary data.</item>
/// <item>Duplicates, records equal in canonical form, are digested once (RFC 8976 §3.3.1).</item>
/// </list>
/// Zone load is not a hot path, but zones can hold millions of records: records are written to one reused buffer
/// that is handed to <see cref="IncrementalHash"/> in large blocks, and nothing per record is allocated.
/// </summary>
public static class ZoneDigest
{
    /// <summary>The SIMPLE-scheme digest of <paramref name="zone"/> with <paramref name="algorithm"/>.</summary>
    public static byte[] Compute(Zone zone, ZonemdHashAlgorithm algorithm) => Compute(zone, [algorithm])[0];

    /// <summary>
    /// The SIMPLE-scheme digests of <paramref name="zone"/>, one per algorithm, in the order given, computed in one
    /// walk of the zone.
    /// </summary>
    public static byte[][] Compute(Zone zone, ReadOnlySpan<ZonemdHashAlgorithm> algorithms)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var hashes = new IncrementalHash[algorithms.Length];
        try
        {
            for (int i = 0; i < algorithms.Length; i++)
            {
                hashes[i] = IncrementalHash.CreateHash(algorithms[i] switch
                {
                    ZonemdHashAlgorithm.Sha384 => HashAlgorithmName.SHA384,
                    ZonemdHashAlgorithm.Sha512 => HashAlgorithmName.SHA512,
                    _ => throw new ArgumentOutOfRangeException(nameof(algorithms), algorithms[i], "not a supported ZONEMD hash algorithm"),
                });
            }
            using (var walk = new Walk(zone, hashes))
            {
                walk.Run();
            }
            var digests = new byte[hashes.Length][];
            for (int i = 0; i < hashes.Length; i++)
            {
                digests[i] = hashes[i].GetHashAndReset();
            }
            return digests;
        }
        finally
        {
            foreach (var hash in hashes)
            {
                hash?.Dispose();
            }
        }
    }

    /// <summary>
    /// The ZONEMD RDATA that describes <paramref name="zone"/> as it is: the SOA serial, SIMPLE, the algorithm and the
    /// digest (RFC 8976 §3). Any ZONEMD already at the apex does not count (RFC 8976 §3.3.1.1), so the result is the
    /// record to put there in its place.
    /// </summary>
    public static Zonemd CreateZonemd(Zone zone, ZonemdHashAlgorithm algorithm)
    {
        ArgumentNullException.ThrowIfNull(zone);
        return new Zonemd(zone.Serial, (byte)ZonemdScheme.Simple, (byte)algorithm, Compute(zone, algorithm));
    }

    /// <summary>One pass over a zone, feeding canonical records to the hashes.</summary>
    private sealed class Walk : IDisposable
    {
        // Room for the largest record, owner (255) + TYPE, CLASS, TTL, RDLENGTH (10) + RDATA (65535), and then some,
        // so the hashes are fed in blocks of about this size.
        private const int BlockSize = 128 * 1024;

        private readonly Zone _zone;
        private readonly IncrementalHash[] _hashes;
        // From the shared pool: a zone of ten records would otherwise make a 128 KiB array of garbage, and a start with
        // 10,000 of them 1.3 GB of large objects, which the background collection after it freed but did not give back
        // (30-40 MiB more resident once settled).
        private readonly byte[] _block = System.Buffers.ArrayPool<byte>.Shared.Rent(BlockSize);
        private int _filled;

        private readonly byte[] _owner = new byte[DnsName.MaxLength];
        private int _ownerLength;
        private RRset[] _rrsets = new RRset[8];

        // Canonical RDATA of the RRset at hand, back to back, and where each record's starts and ends.
        private byte[] _rdata = new byte[4096];
        private int[] _start = new int[16];
        private int[] _length = new int[16];
        private int[] _order = new int[16];
        private readonly RdataOrder _rdataOrder;

        public Walk(Zone zone, IncrementalHash[] hashes)
        {
            _zone = zone;
            _hashes = hashes;
            _rdataOrder = new RdataOrder(this);
        }

        public void Dispose() => System.Buffers.ArrayPool<byte>.Shared.Return(_block);

        public void Run()
        {
            var order = new CanonicalNameOrder(_zone);
            var nodes = order.Sort(out int count);
            for (int i = 0; i < count; i++)
            {
                // Canonical order is not the order the nodes were made in: each node, its RRsets and their records
                // are somewhere else in memory. Asking for them a few nodes ahead lets the loads overlap instead of
                // waiting for each in turn (a million nodes at a few cache misses each was most of the digest).
                if (i + 8 < count)
                {
                    Prefetch(nodes[i + 8].Node);
                }
                if (i + 4 < count)
                {
                    foreach (var rrset in nodes[i + 4].Node.RRsets)
                    {
                        Prefetch(rrset);
                        rrset.PrefetchRecords();
                    }
                }
                WriteNode(nodes[i].Node);
            }
            Flush();
        }

        /// <summary>A hint that <paramref name="o"/> is about to be read; it reads nothing itself, so it cannot fault.</summary>
        private static unsafe void Prefetch(object o)
        {
            if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
            {
                System.Runtime.Intrinsics.X86.Sse.Prefetch0((void*)System.Runtime.CompilerServices.Unsafe.As<object, nint>(ref o));
            }
        }

        private void WriteNode(ZoneNode node)
        {
            // RFC 4034 §6.2 items 1 and 2: the owner uncompressed and in lower case.
            var name = node.Name.Wire;
            name.CopyTo(_owner);
            _ownerLength = name.Length;
            WireName.ToLowerInPlace(_owner.AsSpan(0, _ownerLength));

            // RFC 8976 §3.3.1: RRsets of one owner by TYPE, numerically. Nodes hold a handful, so insertion sort.
            var rrsets = node.RRsets;
            if (_rrsets.Length < rrsets.Length)
            {
                _rrsets = new RRset[rrsets.Length];
            }
            int count = 0;
            foreach (var rrset in rrsets)
            {
                int at = count++;
                while (at > 0 && _rrsets[at - 1].Type > rrset.Type)
                {
                    _rrsets[at] = _rrsets[at - 1];
                    at--;
                }
                _rrsets[at] = rrset;
            }
            for (int i = 0; i < count; i++)
            {
                var rrset = _rrsets[i];
                // RFC 8976 §3.3.1.1: the apex ZONEMD RRset is not part of its own digest.
                if (node.IsApex && rrset.Type == RecordType.ZONEMD)
                {
                    continue;
                }
                WriteRRset(rrset, skipZonemdSignatures: node.IsApex && rrset.Type == RecordType.RRSIG);
            }
            Array.Clear(_rrsets, 0, count);
        }

        private void WriteRRset(RRset rrset, bool skipZonemdSignatures)
        {
            int count = rrset.Count;
            EnsureRecords(count);
            bool lowerCase = CanonicalForm.HasNames(rrset.Type);
            int used = 0;
            for (int i = 0; i < count; i++)
            {
                var rdata = rrset.Rdata(i);
                EnsureRdata(used + rdata.Length);
                var canonical = _rdata.AsSpan(used, rdata.Length);
                rdata.CopyTo(canonical);
                if (lowerCase)
                {
                    CanonicalForm.LowerCaseNames(rrset.Type, canonical);
                }
                _start[i] = used;
                _length[i] = rdata.Length;
                _order[i] = i;
                used += rdata.Length;
            }
            // RFC 4034 §6.3: RDATA as left-justified octet strings, a missing octet sorting first.
            if (count > 1)
            {
                Array.Sort(_order, 0, count, _rdataOrder);
            }

            for (int k = 0; k < count; k++)
            {
                int i = _order[k];
                var rdata = Canonical(i);
                // RFC 8976 §3.3.1: a record equal in canonical form to the one before it is digested once.
                if (k > 0 && rdata.SequenceEqual(Canonical(_order[k - 1])))
                {
                    continue;
                }
                // RFC 8976 §3.3.1.1: nor are the apex signatures over ZONEMD (RRSIG's RDATA starts with the type covered).
                if (skipZonemdSignatures && rdata.Length >= 2 && BinaryPrimitives.ReadUInt16BigEndian(rdata) == (ushort)RecordType.ZONEMD)
                {
                    continue;
                }
                WriteRecord(rrset.Type, rrset.RecordTtl(i), rdata);
            }
        }

        private void WriteRecord(RecordType type, uint ttl, ReadOnlySpan<byte> rdata)
        {
            int length = _ownerLength + 10 + rdata.Length;
            if (_filled + length > _block.Length)
            {
                Flush();
            }
            var output = _block.AsSpan(_filled, length);
            _owner.AsSpan(0, _ownerLength).CopyTo(output);
            RRset.WriteRecord(output[_ownerLength..], type, ttl, rdata);
            _filled += length;
        }

        private void Flush()
        {
            foreach (var hash in _hashes)
            {
                hash.AppendData(_block, 0, _filled);
            }
            _filled = 0;
        }

        private ReadOnlySpan<byte> Canonical(int record) => _rdata.AsSpan(_start[record], _length[record]);

        private void EnsureRecords(int count)
        {
            if (_start.Length < count)
            {
                int size = Math.Max(count, _start.Length * 2);
                _start = new int[size];
                _length = new int[size];
                _order = new int[size];
            }
        }

        private void EnsureRdata(int length)
        {
            if (_rdata.Length < length)
            {
                Array.Resize(ref _rdata, Math.Max(length, _rdata.Length * 2));
            }
        }

        /// <summary>Orders record indexes by their canonical RDATA; one instance per walk, so sorting allocates nothing.</summary>
        private sealed class RdataOrder(Walk walk) : IComparer<int>
        {
            public int Compare(int x, int y) => walk.Canonical(x).SequenceCompareTo(walk.Canonical(y));
        }
    }

    /// <summary>
    /// Sorts a zone's nodes into the canonical order of their names (RFC 4034 §6.1) through sort keys that compare as
    /// plain octet strings (<see cref="CanonicalNameKey"/>), which is several times faster than comparing names label by
    /// label for large zones. The first eight octets of each key, as a number, settle most comparisons without touching
    /// the key array.
    /// </summary>
    private sealed class CanonicalNameOrder(Zone zone) : IComparer<CanonicalNameOrder.Entry>
    {
        private byte[] _keys = [];

        /// <summary>The zone's nodes with records, in canonical order: the first <paramref name="count"/> entries.</summary>
        public Entry[] Sort(out int count)
        {
            var entries = new Entry[zone.NodeCount];
            _keys = new byte[zone.NodeCount * 16];
            count = 0;
            int used = 0;
            int originLabels = zone.Origin.LabelCount;
            foreach (var node in zone.Nodes)
            {
                if (node.IsEmptyNonTerminal)
                {
                    continue;
                }
                int start = used;
                if (_keys.Length < used + CanonicalNameKey.MaxLength)
                {
                    Array.Resize(ref _keys, Math.Max(_keys.Length * 2, used + CanonicalNameKey.MaxLength));
                }
                used += CanonicalNameKey.Write(node.Name.Wire, originLabels, _keys.AsSpan(used));
                ulong head = 0;
                for (int i = 0; i < 8; i++)
                {
                    head = (head << 8) | (start + i < used ? _keys[start + i] : 0u);
                }
                entries[count++] = new Entry(head, start, used - start, node);
            }
            Array.Sort(entries, 0, count, this);
            return entries;
        }

        public int Compare(Entry x, Entry y)
        {
            // Zero-padded heads that differ order their keys as the whole keys would (0x00 never precedes content).
            if (x.Head != y.Head)
            {
                return x.Head < y.Head ? -1 : 1;
            }
            return _keys.AsSpan(x.Start, x.Length).SequenceCompareTo(_keys.AsSpan(y.Start, y.Length));
        }

        internal readonly record struct Entry(ulong Head, int Start, int Length, ZoneNode Node);
    }
}
