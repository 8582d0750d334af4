namespace AnycastDns.Zones;

/// <summary>Whether two versions of a zone hold the same data: the same names, RRsets, TTLs and RDATA, in any order.</summary>
public static class ZoneContent
{
    public static bool Equal(Zone a, Zone b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (!a.Origin.Equals(b.Origin) || a.NodeCount != b.NodeCount || a.RecordCount != b.RecordCount)
        {
            return false;
        }
        foreach (var node in a.Nodes)
        {
            var other = b.Find(node.Name);
            if (other is null || other.RRsets.Length != node.RRsets.Length || !node.Name.Wire.SequenceEqual(other.Name.Wire))
            {
                return false;
            }
            foreach (var rrset in node.RRsets)
            {
                if (other.Get(rrset.Type) is not { } same || same.Ttl != rrset.Ttl || !SameRdata(rrset, same))
                {
                    return false;
                }
            }
        }
        return true;
    }

    private static bool SameRdata(RRset a, RRset b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }
        // Records of an RRset are unique (duplicates are dropped at load), so "each of a is in b" with equal counts is equality.
        for (int i = 0; i < a.Count; i++)
        {
            bool found = false;
            for (int j = 0; j < b.Count && !found; j++)
            {
                found = a.Rdata(i).SequenceEqual(b.Rdata(j));
            }
            if (!found)
            {
                return false;
            }
        }
        return true;
    }
}
