using AnycastDns.Protocol;

namespace AnycastDns.Integration.Tests.Differential;

/// <summary>One line of tests/zones/queries.txt: <c>name type [class] [flags]</c>; flags: noedns, bufsize=N, tcp, do, nsid.</summary>
public sealed record QueryCase(int Line, string Text, DnsName Name, RecordType Type, RecordClass Class, bool Edns, ushort BufferSize, bool Tcp, bool DnssecOk)
{
    public static IReadOnlyList<QueryCase> ReadAll(string path)
    {
        var cases = new List<QueryCase>();
        var lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            var text = lines[i].Trim();
            if (text.Length == 0 || text[0] is '#' or ';')
            {
                continue;
            }
            var fields = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2)
            {
                throw new FormatException($"{path}:{i + 1}: expected 'name type [class] [flags]'");
            }
            var name = DnsName.Parse(fields[0].EndsWith('.') ? fields[0] : fields[0] + ".");
            if (!RecordTypeNames.TryParseType(fields[1], out var type))
            {
                throw new FormatException($"{path}:{i + 1}: unknown type '{fields[1]}'");
            }
            var cls = RecordClass.IN;
            bool edns = true, tcp = false, dnssecOk = false;
            ushort size = 1232;
            foreach (var flag in fields.Skip(2))
            {
                if (RecordTypeNames.TryParseClass(flag, out var c)) cls = c;
                else if (flag == "noedns") edns = false;
                else if (flag == "tcp") tcp = true;
                else if (flag == "do") dnssecOk = true;
                else if (flag.StartsWith("bufsize=", StringComparison.Ordinal)) size = ushort.Parse(flag["bufsize=".Length..], System.Globalization.CultureInfo.InvariantCulture);
                else throw new FormatException($"{path}:{i + 1}: unknown flag '{flag}'");
            }
            cases.Add(new QueryCase(i + 1, text, name, type, cls, edns, size, tcp, dnssecOk));
        }
        return cases;
    }

    public byte[] ToWire(ushort id)
    {
        var edns = Edns ? new EdnsRecord { UdpPayloadSize = BufferSize, DnssecOk = DnssecOk } : null;
        return DnsMessage.CreateQuery(Name, Type, Class, id, edns).Encode();
    }

    public override string ToString() => $"line {Line}: {Text}";
}
