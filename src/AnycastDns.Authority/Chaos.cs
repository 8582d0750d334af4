using System.Text;
using AnycastDns.Protocol;

namespace AnycastDns.Authority;

/// <summary>
/// The CHAOS-class names that identify a server (RFC 4892 §2): id.server and hostname.bind name the PoP,
/// version.server and version.bind the software. Anything else in class CH is REFUSED, as NSD and Knot do.
/// </summary>
internal sealed class Chaos
{
    private static readonly byte[] IdServer = DnsName.Parse("id.server.").Wire.ToArray();
    private static readonly byte[] HostnameBind = DnsName.Parse("hostname.bind.").Wire.ToArray();
    private static readonly byte[] VersionServer = DnsName.Parse("version.server.").Wire.ToArray();
    private static readonly byte[] VersionBind = DnsName.Parse("version.bind.").Wire.ToArray();

    private readonly byte[] _identity;
    private readonly byte[]? _version;

    public Chaos(string popId, string? version)
    {
        _identity = ToTxtRdata(popId);
        _version = string.IsNullOrEmpty(version) ? null : ToTxtRdata(version);
    }

    public void Write(ref Response response, scoped ReadOnlySpan<byte> qname, RecordType qtype)
    {
        byte[]? text = null;
        if (WireName.EqualsIgnoreCase(qname, IdServer) || WireName.EqualsIgnoreCase(qname, HostnameBind))
        {
            text = _identity;
        }
        else if (WireName.EqualsIgnoreCase(qname, VersionServer) || WireName.EqualsIgnoreCase(qname, VersionBind))
        {
            text = _version;
        }
        if (text is null || qtype is not (RecordType.TXT or RecordType.ANY))
        {
            response.Header.SetRcode((int)ResponseCode.Refused);
            return;
        }
        // AA stays off, as Knot answers: no zone holds these names; they describe the server (RFC 4892 §2).
        // TTL 0: the answer describes this server at this moment, and must not be cached for another PoP (RFC 4892 §2.2).
        response.AddRecord(Section.Answer, qname, RecordType.TXT, (ushort)RecordClass.CH, 0, text);
    }

    /// <summary>TXT RDATA: the text as UTF-8 in character-strings of at most 255 octets (RFC 1035 §3.3.14).</summary>
    internal static byte[] ToTxtRdata(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length == 0)
        {
            return [0];
        }
        var rdata = new List<byte>(bytes.Length + bytes.Length / 255 + 1);
        for (int at = 0; at < bytes.Length; at += 255)
        {
            int n = Math.Min(255, bytes.Length - at);
            rdata.Add((byte)n);
            rdata.AddRange(bytes.AsSpan(at, n));
        }
        return [.. rdata];
    }
}
