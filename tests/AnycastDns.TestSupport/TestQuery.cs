using System.Globalization;
using AnycastDns.Protocol;

namespace AnycastDns.TestSupport;

/// <summary>
/// One line of tests/zones/queries.txt: a question and how to ask it. The file's header describes the format.
/// </summary>
/// <param name="Name">The query name as written, made absolute.</param>
/// <param name="UdpPayloadSize">The EDNS UDP payload size, or null for a query without OPT (<c>noedns</c>).</param>
/// <param name="Group">The comment line heading the group the query is in, without the '#'.</param>
/// <param name="Line">1-based line number in the file, for messages.</param>
public sealed record TestQuery(
    DnsName Name,
    RecordType Type,
    RecordClass Class,
    bool Tcp,
    ushort? UdpPayloadSize,
    bool DnssecOk,
    bool RecursionDesired,
    string Group,
    int Line)
{
    /// <summary>The EDNS payload size when a line names none (what dig and kdig +edns send).</summary>
    public const ushort DefaultUdpPayloadSize = 1232;

    /// <summary>The query as wire octets, with <paramref name="id"/> as its ID.</summary>
    public byte[] Encode(ushort id)
    {
        var edns = UdpPayloadSize is { } size ? new EdnsRecord { UdpPayloadSize = size, DnssecOk = DnssecOk } : null;
        var message = DnsMessage.CreateQuery(Name, Type, Class, id, edns);
        message.RecursionDesired = RecursionDesired;
        return message.Encode();
    }

    /// <summary>The line as it is written in the file, less the group.</summary>
    public override string ToString()
    {
        var text = $"{Name} {RecordTypeNames.ToText(Type)}";
        if (Class != RecordClass.IN) text += " " + RecordTypeNames.ToText(Class);
        if (Tcp) text += " tcp";
        if (UdpPayloadSize is null) text += " noedns";
        else if (UdpPayloadSize != DefaultUdpPayloadSize) text += " bufsize=" + UdpPayloadSize.Value.ToString(CultureInfo.InvariantCulture);
        if (DnssecOk) text += " do";
        if (RecursionDesired) text += " rd";
        return text;
    }

    /// <summary>Reads every query of <paramref name="path"/>; a bad line throws <see cref="FormatException"/> naming file and line.</summary>
    public static IReadOnlyList<TestQuery> ReadAll(string path)
    {
        var queries = new List<TestQuery>();
        string group = "";
        int lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }
            if (line.StartsWith('#'))
            {
                group = line.TrimStart('#').Trim();
                continue;
            }
            queries.Add(Parse(line, group, lineNumber, path));
        }
        return queries;
    }

    private static TestQuery Parse(string line, string group, int lineNumber, string path)
    {
        string where = $"{path}:{lineNumber}";
        var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 2)
        {
            throw new FormatException($"{where}: expected 'name type [class] [flag...]', got '{line}'");
        }
        string nameText = fields[0].EndsWith('.') ? fields[0] : fields[0] + ".";
        if (!DnsName.TryParse(nameText, null, out var name, out var nameError))
        {
            throw new FormatException($"{where}: {nameError}: '{fields[0]}'");
        }
        if (!RecordTypeNames.TryParseType(fields[1], out var type))
        {
            throw new FormatException($"{where}: unknown type '{fields[1]}'");
        }
        int next = 2;
        var cls = RecordClass.IN;
        if (fields.Length > 2 && RecordTypeNames.TryParseClass(fields[2], out var parsedClass))
        {
            cls = parsedClass;
            next = 3;
        }
        bool tcp = false, noEdns = false, dnssecOk = false, recursionDesired = false;
        ushort? bufferSize = null;
        foreach (var flag in fields.AsSpan(next))
        {
            switch (flag)
            {
                case "tcp": tcp = true; break;
                case "noedns": noEdns = true; break;
                case "do": dnssecOk = true; break;
                case "rd": recursionDesired = true; break;
                default:
                    if (flag.StartsWith("bufsize=", StringComparison.Ordinal)
                        && ushort.TryParse(flag.AsSpan("bufsize=".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
                    {
                        bufferSize = size;
                        break;
                    }
                    throw new FormatException($"{where}: unknown flag '{flag}' (tcp, noedns, bufsize=N, do, rd)");
            }
        }
        if (noEdns && (bufferSize is not null || dnssecOk))
        {
            throw new FormatException($"{where}: 'noedns' cannot go with 'bufsize=' or 'do', which need EDNS");
        }
        ushort? payload = noEdns ? null : bufferSize ?? DefaultUdpPayloadSize;
        return new TestQuery(name, type, cls, tcp, payload, dnssecOk, recursionDesired, group, lineNumber);
    }
}
