using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Zones.Tests;

/// <summary>
/// The zone loader keeps the records it reads in a <see cref="RecordArena"/> (structs in chunks, RDATA in blocks)
/// instead of an object and an array per record, and groups them on a second thread while more are added. Each record
/// must read back as it went in, across chunk and block ends, and from the other thread.
/// </summary>
public sealed class RecordArenaTests
{
    private static readonly DnsName Origin = DnsName.Parse("arena.test.");

    [Fact]
    public void A_chunked_list_reads_back_every_entry_across_growing_and_full_chunks()
    {
        // Chunks of 4, 4, 8, 16, 32, then 32 each: a hundred thousand entries cross thousands of chunk ends.
        var list = new ChunkedList<long>(firstChunkShift: 2, mostChunkShift: 5);
        for (int i = 0; i < 100_000; i++)
        {
            list.Add(i * 7L);
        }
        Assert.Equal(100_000, list.Count);
        for (int i = 0; i < list.Count; i++)
        {
            Assert.Equal(i * 7L, list[i]);
            list[i] = -i; // an entry is a place: writing through the reference changes it, and no other
        }
        for (int i = 0; i < list.Count; i++)
        {
            Assert.Equal(-i, list[i]);
        }
    }

    [Fact]
    public void Chunks_of_references_to_new_objects_stay_young_and_those_to_old_objects_are_large()
    {
        // A chunk in the large object heap is old to the GC from the start: references to new objects stored there mark
        // cards that outlive it (ChunkedList<T>.ForReferences). A chunk of names or owner slots that a load fills with
        // new objects stays under the heap's threshold; one a reload fills with the served, old ones does not need to.
        const int LargeObject = 85_000;
        var young = ChunkedList<DnsName>.ForReferences(firstChunkShift: 4, toOldObjects: false);
        var old = ChunkedList<DnsName>.ForReferences(firstChunkShift: 4, toOldObjects: true);
        Assert.InRange(young.MostChunkEntries * IntPtr.Size, LargeObject / 2, LargeObject - 1);
        Assert.True(old.MostChunkEntries * IntPtr.Size >= LargeObject);
        for (int i = 0; i < 100_000; i++)
        {
            young.Add(Origin);
        }
        Assert.Same(Origin, young[99_999]);
    }

    [Fact]
    public void Records_read_back_as_added_across_rdata_blocks_with_owner_runs_counted()
    {
        var arena = new RecordArena();
        var owners = new[] { DnsName.Parse("a.arena.test."), DnsName.Parse("b.arena.test.") };
        var files = new[] { "arena.test.zone", "sub/included.zone" };
        var expected = new List<(DnsName Owner, RecordType Type, uint Ttl, byte[] Rdata, SourceLocation Location)>();
        var random = new Random(20);
        for (int i = 0; i < 3000; i++)
        {
            // Runs of three records per owner object; RDATA from none to 65,535 octets (larger than any block so far).
            var owner = owners[i / 3 % 2];
            int length = i == 1500 ? ushort.MaxValue : random.Next(0, 600);
            var rdata = new byte[length];
            random.NextBytes(rdata);
            var location = new SourceLocation(files[i / 1000 % 2], i + 1, i % 7 + 1);
            var type = (RecordType)(1 + i % 30);
            arena.Add(owner, type, RecordClass.IN, (uint)i, rdata, location);
            expected.Add((owner, type, (uint)i, rdata, location));
        }

        Assert.Equal(3000, arena.Count);
        Assert.Equal(1000, arena.OwnerRuns);
        for (int i = 0; i < expected.Count; i++)
        {
            var (owner, type, ttl, rdata, location) = expected[i];
            Assert.Same(owner, arena.Owner(i));
            Assert.Equal(type, arena[i].Type);
            Assert.Equal(ttl, arena[i].Ttl);
            Assert.Equal(rdata, arena.Rdata(i).ToArray());
            Assert.Equal(location, arena.Location(i));
            Assert.Equal(new ZoneRecord(owner, type, RecordClass.IN, ttl, rdata, location), arena.ToZoneRecord(i) with { Rdata = rdata });
        }
    }

    [Fact]
    public void A_reader_on_another_thread_sees_every_published_record_whole()
    {
        using var handoff = new RecordHandoff();
        var arena = new RecordArena { Handoff = handoff };
        const int records = 200_000;
        long sum = 0;
        int seen = 0;
        Exception? failure = null;
        var reader = new Thread(() =>
        {
            try
            {
                foreach (int ready in handoff.Consume())
                {
                    for (; seen < ready; seen++)
                    {
                        var rdata = arena.Rdata(seen);
                        // Each record's RDATA is its number, four times over: a torn or misplaced record shows.
                        Assert.Equal(16, rdata.Length);
                        for (int k = 0; k < 4; k++)
                        {
                            Assert.Equal(seen, BitConverter.ToInt32(rdata[(4 * k)..]));
                        }
                        Assert.Equal((uint)seen, arena[seen].Ttl);
                        sum += arena[seen].Ttl;
                    }
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        reader.Start();
        var owner = DnsName.Parse("x.arena.test.");
        var location = new SourceLocation("arena.test.zone", 1, 1);
        var data = new byte[16];
        for (int i = 0; i < records; i++)
        {
            for (int k = 0; k < 4; k++)
            {
                BitConverter.TryWriteBytes(data.AsSpan(4 * k), i);
            }
            arena.Add(owner, RecordType.TXT, RecordClass.IN, (uint)i, data, location);
        }
        handoff.Complete(arena.Count);
        Assert.True(reader.Join(TimeSpan.FromSeconds(60)), "the reader did not finish");

        Assert.Null(failure);
        Assert.Equal(records, seen);
        Assert.Equal((long)records * (records - 1) / 2, sum);
    }

    [Fact]
    public void Duplicates_in_a_large_RRset_are_dropped_with_their_lines_as_in_a_small_one()
    {
        // Past eight records an RRset's RDATA is looked up in a set, not one by one: both must find a duplicate,
        // names compared without regard to case (RFC 4034 §6.2).
        var text = new System.Text.StringBuilder("$TTL 300\n@ SOA ns hostmaster 1 7200 900 1209600 300\n@ NS ns\nns A 192.0.2.53\n");
        for (int i = 0; i < 20; i++)
        {
            text.Append($"mx MX {i} host{i}.example.\n");
        }
        text.Append("mx MX 3 HOST3.example.\n");   // line 25: a duplicate in the large RRset
        text.Append("few NS a.example.\nfew NS A.EXAMPLE.\n"); // line 27: a duplicate in a small one
        var read = ZoneFileReader.ReadText(text.ToString(), "arena.test.zone", Origin);
        var diagnostics = new List<ZoneDiagnostic>();

        var zone = ZoneBuilder.Build(Origin, read.Records, diagnostics, "arena.test.zone");

        Assert.NotNull(zone);
        Assert.Equal(
            [
                "arena.test.zone:25:1: warning: duplicate MX record at mx.arena.test. dropped",
                "arena.test.zone:27:1: warning: duplicate NS record at few.arena.test. dropped",
            ],
            diagnostics.ConvertAll(d => d.ToString()));
        Assert.Equal(20, zone.Find(DnsName.Parse("mx.arena.test."))!.Get(RecordType.MX)!.Count);
        Assert.Equal(1, zone.Find(DnsName.Parse("few.arena.test."))!.Get(RecordType.NS)!.Count);
    }

    [Fact]
    public void A_native_chunked_list_reads_back_every_entry_and_throws_for_a_chunk_given_back()
    {
        using var list = new NativeChunkedList<long>(firstChunkShift: 2, mostChunkShift: 5);
        for (int i = 0; i < 100_000; i++)
        {
            list.Add(i * 7L);
        }
        for (int i = 0; i < list.Count; i++)
        {
            Assert.Equal(i * 7L, list[i]);
            list[i] = -i;
        }
        // Entries 64-95 are chunk 5 (4, 4, 8, 16, 32, then 32 each); giving it back leaves its neighbours readable.
        int chunk = list.ChunkOf(64);
        Assert.Equal(chunk, list.ChunkOf(95));
        Assert.NotEqual(chunk, list.ChunkOf(63));
        Assert.NotEqual(chunk, list.ChunkOf(96));
        int kept = list.ChunksKept;
        list.Free(chunk);
        list.Free(chunk); // twice is once
        Assert.Equal(kept - 1, list.ChunksKept);
        Assert.Throws<InvalidOperationException>(() => list[64]);
        Assert.Throws<InvalidOperationException>(() => list[95]);
        Assert.Equal(-63L, list[63]);
        Assert.Equal(-96L, list[96]);
        list.Dispose();
        Assert.Equal(0, list.ChunksKept);
    }

    [Fact]
    public void Copying_every_RRset_as_the_build_does_gives_back_every_chunk_and_block_even_where_records_were_dropped()
    {
        // 60,000 records over many chunks and RDATA blocks; every 50th a duplicate the grouping drops, every 997th of a
        // class that is not served (an error, never grouped): neither is held, so neither keeps its chunk.
        var arena = new RecordArena();
        var random = new Random(7);
        DnsName? owner = null;
        for (int i = 0; i < 60_000; i++)
        {
            if (i % 3 == 0)
            {
                owner = DnsName.Parse($"n{i / 3}.arena.test.");
            }
            var rdata = new byte[4];
            random.NextBytes(rdata);
            if (i % 50 == 49)
            {
                rdata = arena.Rdata(i - 1).ToArray(); // the same A record as the one before
                arena.Add(owner!, arena[i - 1].Type, RecordClass.IN, 300, rdata, new SourceLocation("f", i + 1, 1));
                continue;
            }
            arena.Add(owner!, i % 2 == 0 ? RecordType.A : RecordType.TXT, i % 997 == 996 ? RecordClass.CH : RecordClass.IN, 300, rdata, new SourceLocation("f", i + 1, 1));
        }
        var grouping = new ZoneGrouping(arena, Origin, arena.OwnerRuns);
        grouping.Add(0, arena.Count);
        Assert.Contains(grouping.Diagnostics, d => d.Message.Contains("duplicate"));
        Assert.Contains(grouping.Diagnostics, d => d.Message.Contains("class CH"));
        int kept = arena.MemoryKept;
        Assert.True(kept > 20, $"{kept} chunks and blocks");

        var store = new RecordStore();
        var warnings = new List<ZoneDiagnostic>();
        int owners = grouping.OwnerCount;
        for (int i = 0; i < owners; i++)
        {
            foreach (var set in grouping.Owner(i).Sets)
            {
                var rrset = set.ToRRset(store, warnings);
                Assert.Equal(set.Count, rrset.Count);
                set.Consume();
            }
            if (i == owners / 2)
            {
                // Half way, about half of the memory is back already: the zone grows into what the records leave.
                Assert.InRange(arena.MemoryKept, 1, kept * 3 / 4);
            }
        }
        Assert.Equal(0, arena.MemoryKept);
        // Nothing reads a record given back: it throws, it does not read memory the system may have reused.
        Assert.Throws<InvalidOperationException>(() => arena[0].Ttl);
        arena.Release();
    }
}
