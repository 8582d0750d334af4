using System.Text;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Server.Secondary;

/// <summary>
/// One member of a catalog zone (RFC 9432 §4.1): the zone named by the PTR at <c>&lt;unique-id&gt;.zones.&lt;catalog&gt;</c>,
/// its unique id (a change of it resets the zone's state, §5.4), its <c>group</c> property (§4.4.2) and its <c>coo</c>
/// property, the catalog it is moving to (§4.4.1).
/// </summary>
internal sealed record CatalogMember(DnsName Zone, string Id, string? Group, DnsName? ChangeOfOwnership);

/// <summary>
/// Reads a catalog zone's version (RFC 9432, schema version 2) as its consumer. What the RFC calls a broken catalog
/// (no <c>version</c> TXT "2", more than one PTR at a member node or a <c>coo</c> node, one zone under two unique ids)
/// is not processed at all (§5.1: the members of the last good version stay); a member this server will not take (a
/// PTR target that is not a sane zone name) is left out with its reason, and the others are applied.
/// </summary>
internal static class CatalogZone
{
    /// <summary>The schema version this consumer understands (RFC 9432 §4.2.1: <c>version.$CATZ TXT "2"</c>).</summary>
    public const string SchemaVersion = "2";

    /// <summary>
    /// The members of <paramref name="catalog"/>, or null when it is broken (<paramref name="broken"/> says why);
    /// <paramref name="leftOut"/> gets one line per member not taken.
    /// </summary>
    public static List<CatalogMember>? Read(Zone catalog, ICollection<string> leftOut, out string? broken)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(leftOut);
        broken = null;
        var origin = catalog.Origin;
        var version = catalog.Find(DnsName.Parse("version", origin))?.Get(RecordType.TXT);
        if (version is null)
        {
            broken = $"no version.{origin} TXT (RFC 9432 §4.2.1)";
            return null;
        }
        if (version.Count != 1)
        {
            broken = $"version.{origin} has {version.Count} TXT records, not one (RFC 9432 §4.2.1)";
            return null;
        }
        string versionText = TxtText(version.Rdata(0));
        if (versionText != SchemaVersion)
        {
            broken = $"schema version \"{versionText}\", this server reads version \"{SchemaVersion}\" (RFC 9432 §4.2.1)";
            return null;
        }
        var zones = DnsName.Parse("zones", origin);
        var members = new List<CatalogMember>();
        var byZone = new Dictionary<DnsName, string>(DnsNameComparer.Instance);
        foreach (var node in catalog.Nodes)
        {
            if (node.Name.LabelCount != zones.LabelCount + 1 || !node.Name.IsSubdomainOf(zones))
            {
                continue;
            }
            string id = LabelText(node.Name.Label(0));
            var ptr = node.Get(RecordType.PTR);
            if (ptr is null)
            {
                continue; // a node without a member PTR: nothing to provision (§4.1 defines members by their PTR)
            }
            if (ptr.Count != 1)
            {
                broken = $"member node {node.Name} has {ptr.Count} PTR records, not one (RFC 9432 §4.1)";
                return null;
            }
            DnsName member;
            try
            {
                member = DnsName.FromWire(ptr.Rdata(0)).ToLowerCase();
            }
            catch (DnsFormatException)
            {
                leftOut.Add($"member {id}: its PTR target is not a domain name");
                continue;
            }
            if (SaneZoneName(member, origin) is { } insane)
            {
                leftOut.Add($"member {id}: {Printable(member)} {insane}");
                continue;
            }
            if (byZone.TryGetValue(member, out string? other))
            {
                broken = $"zone {member} is listed under two unique ids, {other} and {id} (RFC 9432 §4.1)";
                return null;
            }
            DnsName? coo = null;
            if (catalog.Find(DnsName.Parse("coo", node.Name))?.Get(RecordType.PTR) is { } cooSet)
            {
                if (cooSet.Count != 1)
                {
                    broken = $"member {member}: coo property has {cooSet.Count} PTR records, not one (RFC 9432 §4.4.1)";
                    return null;
                }
                try
                {
                    coo = DnsName.FromWire(cooSet.Rdata(0)).ToLowerCase();
                }
                catch (DnsFormatException)
                {
                    broken = $"member {member}: its coo PTR target is not a domain name (RFC 9432 §4.4.1)";
                    return null;
                }
            }
            string? group = null;
            if (catalog.Find(DnsName.Parse("group", node.Name))?.Get(RecordType.TXT) is { Count: > 0 } groups)
            {
                // §4.4.2: with several values the consumer may pick any one: the first of the RRset.
                group = TxtText(groups.Rdata(0));
            }
            byZone[member] = id;
            members.Add(new CatalogMember(member, id, group, coo));
        }
        return members;
    }

    /// <summary>
    /// Null when <paramref name="name"/> may be a member zone; else why not: the root, the catalog itself or a name
    /// under it, and labels of anything but letters, digits, '-', '_' and '/' (RFC 2317's classless reverse zones) are
    /// refused: whoever controls the catalog must not make this server carry names no operator would configure.
    /// </summary>
    public static string? SaneZoneName(DnsName name, DnsName catalog)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(catalog);
        if (name.IsRoot)
        {
            return "is the root";
        }
        if (name.IsSubdomainOf(catalog))
        {
            return "is inside the catalog zone";
        }
        for (int i = 0; i < name.LabelCount; i++)
        {
            foreach (byte b in name.Label(i))
            {
                if (!(b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'_' or (byte)'/'))
                {
                    return "has a label that is not a host name (letters, digits, '-', '_', '/')";
                }
            }
        }
        return null;
    }

    /// <summary>The name as presentation text (escaped by <see cref="DnsName.ToString"/>), cut at 100 characters for a log line.</summary>
    private static string Printable(DnsName name)
    {
        string text = name.ToString();
        return text.Length > 100 ? text[..100] + "..." : text;
    }

    /// <summary>A TXT record's character-strings joined (RFC 1035 §3.3.14), unprintable octets as '?'.</summary>
    private static string TxtText(ReadOnlySpan<byte> rdata)
    {
        var text = new StringBuilder(rdata.Length);
        int at = 0;
        while (at < rdata.Length)
        {
            int length = rdata[at++];
            foreach (byte b in rdata.Slice(at, Math.Min(length, rdata.Length - at)))
            {
                text.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
            }
            at += length;
        }
        return text.ToString();
    }

    private static string LabelText(ReadOnlySpan<byte> label)
    {
        var text = new StringBuilder(label.Length);
        foreach (byte b in label)
        {
            text.Append(b is > 0x20 and < 0x7F and not (byte)'.' and not (byte)'\\' ? (char)b : '?');
        }
        return text.ToString();
    }
}
