using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority;

/// <summary>
/// The identity of every zone a snapshot serves, as one value: the number of zones and one SHA-384 digest over each
/// zone's origin, SOA serial and ZONEMD digest (RFC 8976). Two PoPs serve the same data exactly when their summaries
/// are equal, whatever the number of zones, so <c>CH TXT zones.server</c> fits any fleet and <c>fleet-check</c>
/// compares 100,000 zones with one record.
/// <para>
/// What is hashed, so that an operator can recompute it: for each zone, in canonical order of the origins
/// (RFC 4034 §6.1, the order of <c>zones.server</c> and of the status endpoint's <c>/zones</c>), the UTF-8 line
/// <c>&lt;origin&gt; &lt;serial&gt; &lt;digest&gt;\n</c> — the origin in presentation form with its final dot and its
/// ASCII letters in lower case, the serial in decimal, the ZONEMD SHA-384 digest in 96 lower-case hex digits, one
/// space between — and the SHA-384 of all the lines, in lower-case hex. No zones: the SHA-384 of nothing. E.g.
/// <c>curl -s http://pop:8053/zones | jq -r '.zones[] | select(.digest) | "\(.origin|ascii_downcase) \(.serial) \(.digest)"' | sha384sum</c>.
/// </para>
/// <para>
/// It is made once per snapshot (every zone's digest must be known, which on a large zone takes a while), when the
/// reloader has computed the digests after a swap, or on a worker thread started by the first question that finds it
/// missing (answered SERVFAIL until then, as a zone not yet loaded is); answers read it from a table keyed by the
/// snapshot, without allocating.
/// </para>
/// </summary>
public sealed class ZoneSetIdentity
{
    /// <summary>
    /// The most octets the per-zone records of <c>zones.server</c> may take for the list to be given: a 64 KiB message
    /// less room for the header, the question, the summary record and an OPT with cookie and NSID options.
    /// </summary>
    internal const int MaxListOctets = ushort.MaxValue - 2048;

    /// <summary>The first string of the summary TXT; a zone's TXT starts with its origin, which ends in a dot.</summary>
    public const string SummaryLabel = "zones";

    private static readonly ConditionalWeakTable<ZoneSet, ZoneSetIdentity> Identities = new();

    private ZoneSetIdentity(int count, string digestHex, bool listFits)
    {
        Count = count;
        DigestHex = digestHex;
        ListFits = listFits;
        SummaryText = [.. Chaos.ToTxtRdata(SummaryLabel), .. Chaos.ToTxtRdata(count.ToString(CultureInfo.InvariantCulture)), .. Chaos.ToTxtRdata(digestHex)];
    }

    /// <summary>The number of zones served.</summary>
    public int Count { get; }

    /// <summary>The SHA-384 over every zone's line, lower-case hex (see the class comment).</summary>
    public string DigestHex { get; }

    /// <summary>Whether every zone's record fits in one message after the summary, so <c>zones.server</c> lists them too.</summary>
    public bool ListFits { get; }

    /// <summary>The summary as TXT RDATA: <c>"zones" "&lt;count&gt;" "&lt;digest&gt;"</c>.</summary>
    internal byte[] SummaryText { get; }

    /// <summary>The identity of <paramref name="zones"/>, made on the first call for that snapshot.</summary>
    public static ZoneSetIdentity Of(ZoneSet zones) => Identities.GetValue(zones, static z => Compute(z));

    /// <summary>Makes the identity of <paramref name="zones"/> now, off the answering path, so that no question waits for it.</summary>
    public static void Prepare(ZoneSet zones) => Of(zones);

    /// <summary>The snapshot whose identity a worker thread is making, so that it is asked for once.</summary>
    private static ZoneSet? _preparing;

    /// <summary>
    /// The identity of <paramref name="zones"/> if it is made; else false, and a worker thread starts making it (once
    /// per snapshot). The answering path uses this: making it can mean computing 100,000 zones' digests, seconds that
    /// no receive thread may spend. Allocates nothing once made.
    /// </summary>
    public static bool TryGet(ZoneSet zones, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ZoneSetIdentity? identity)
    {
        if (Identities.TryGetValue(zones, out identity))
        {
            return true;
        }
        if (IsSmall(zones))
        {
            // A few thousand records digest in a millisecond or two, once per snapshot: a small fleet's first
            // question after a start or reload gets its answer rather than SERVFAIL.
            identity = Of(zones);
            return true;
        }
        if (!ReferenceEquals(Interlocked.Exchange(ref _preparing, zones), zones))
        {
            ThreadPool.UnsafeQueueUserWorkItem(static z => Prepare(z), zones, preferLocal: false);
        }
        return false;
    }

    /// <summary>The summary digest of lines already in canonical order of their origins (what fleet-check recomputes).</summary>
    public static string DigestOf(IEnumerable<string> lines)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA384);
        var buffer = new byte[1024];
        foreach (string line in lines)
        {
            HashLine(hash, line, ref buffer);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// Adds <paramref name="line"/> and its newline, in UTF-8, to <paramref name="hash"/> through <paramref name="buffer"/>
    /// (made larger when the line needs it); returns the octets added.
    /// </summary>
    private static int HashLine(IncrementalHash hash, ReadOnlySpan<char> line, ref byte[] buffer)
    {
        int length = Encoding.UTF8.GetByteCount(line) + 1;
        if (length > buffer.Length)
        {
            buffer = new byte[length];
        }
        Encoding.UTF8.GetBytes(line, buffer);
        buffer[length - 1] = (byte)'\n';
        hash.AppendData(buffer, 0, length);
        return length;
    }

    /// <summary>
    /// Writes the line of one zone that the summary digest covers, without its newline (see the class comment): the
    /// origin in lower case, the serial, the ZONEMD digest in hex.
    /// </summary>
    private static void WriteLine(StringBuilder line, Zone zone, Span<char> hex)
    {
        line.Clear();
        WireName.AppendText(line, zone.Origin.Wire);
        for (int i = 0; i < line.Length; i++)
        {
            // ASCII only: presentation text escapes every other octet as \DDD.
            if (line[i] is >= 'A' and <= 'Z')
            {
                line[i] = (char)(line[i] + ('a' - 'A'));
            }
        }
        line.Append(' ').Append(zone.Serial).Append(' ');
        if (!Convert.TryToHexStringLower(zone.Digest.Span, hex, out int written))
        {
            throw new InvalidOperationException($"zone {zone.Origin}: a digest of {zone.Digest.Length} octets");
        }
        line.Append(hex[..written]);
    }

    /// <summary>Snapshots of at most this many records in all have their identity made on the spot.</summary>
    private const int MadeOnTheSpotUpTo = 10_000;

    /// <summary>Whether <paramref name="zones"/> holds at most <see cref="MadeOnTheSpotUpTo"/> records; stops counting past it.</summary>
    private static bool IsSmall(ZoneSet zones)
    {
        if (zones.Count > MadeOnTheSpotUpTo)
        {
            return false;
        }
        long records = 0;
        var list = zones.Zones;
        for (int i = 0; i < list.Count; i++)
        {
            records += list[i].RecordCount;
            if (records > MadeOnTheSpotUpTo)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Hashes every zone's line (<see cref="WriteLine"/>) written into reused buffers: a string per zone would leave
    /// tens of MiB of garbage per snapshot of 100,000 zones, resident until a collection, after a reload of one of them.
    /// </summary>
    private static ZoneSetIdentity Compute(ZoneSet zones)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA384);
        var line = new StringBuilder(256);
        var chars = new char[256];
        Span<char> hex = stackalloc char[2 * 64];
        var octets = new byte[1024];
        long listOctets = 0;
        foreach (var zone in zones.Zones)
        {
            WriteLine(line, zone, hex);
            if (line.Length > chars.Length)
            {
                chars = new char[line.Length];
            }
            line.CopyTo(0, chars, line.Length);
            int length = HashLine(hash, chars.AsSpan(0, line.Length), ref octets);
            // Owner written in full (no compression assumed), type, class, TTL, RDLENGTH, then three strings of at
            // most 255 octets each with their length octets (the line without its newline, less its two spaces).
            listOctets += ZonesServerWireLength + 10 + (length - 1) - 2 + 3;
        }
        return new ZoneSetIdentity(zones.Count, Convert.ToHexStringLower(hash.GetHashAndReset()), listOctets <= MaxListOctets);
    }

    /// <summary>The wire length of <c>zones.server.</c>.</summary>
    private const int ZonesServerWireLength = 14;
}
