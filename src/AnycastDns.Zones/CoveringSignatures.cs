using System.Buffers.Binary;
using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// The RRSIGs that cover one RRset: indexes into the RRSIG RRset of the same owner, which keeps every signature of the
/// name (RRSIG queries and the zone digest need them all). Found once at load, so a signed answer is a copy.
/// </summary>
public sealed class CoveringSignatures
{
    private readonly int[] _records;

    internal CoveringSignatures(RRset rrsigs, int[] records)
    {
        Rrsigs = rrsigs;
        _records = records;
    }

    /// <summary>The owner's RRSIG RRset.</summary>
    public RRset Rrsigs { get; }

    /// <summary>Indexes into <see cref="Rrsigs"/> of the records that cover the RRset.</summary>
    public ReadOnlySpan<int> Records => _records;

    /// <summary>The type an RRSIG's RDATA covers: its first field (RFC 4034 §3.1.1).</summary>
    public static RecordType TypeCovered(ReadOnlySpan<byte> rrsigRdata) =>
        rrsigRdata.Length >= 2 ? (RecordType)BinaryPrimitives.ReadUInt16BigEndian(rrsigRdata) : 0;

    /// <summary>Hands every RRset of <paramref name="node"/> the RRSIGs at the node that cover its type.</summary>
    internal static void Attach(ZoneNode node)
    {
        var rrsigs = node.Get(RecordType.RRSIG);
        if (rrsigs is null)
        {
            return;
        }
        var covering = new List<int>(2);
        foreach (var rrset in node.RRsets)
        {
            if (rrset.Type == RecordType.RRSIG)
            {
                continue;
            }
            covering.Clear();
            for (int i = 0; i < rrsigs.Count; i++)
            {
                if (TypeCovered(rrsigs.Rdata(i)) == rrset.Type)
                {
                    covering.Add(i);
                }
            }
            rrset.Signatures = covering.Count == 0 ? null : new CoveringSignatures(rrsigs, [.. covering]);
        }
    }
}
