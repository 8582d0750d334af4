using AnycastDns.Protocol;

namespace AnycastDns.Zones;

/// <summary>
/// Compares RDATA the way RR identity is defined: octet for octet, except that embedded domain names
/// compare without regard to case (RFC 4034 §6.2, RFC 4343).
/// </summary>
public sealed class CanonicalRdataComparer : IEqualityComparer<byte[]>
{
    private static readonly CanonicalRdataComparer Opaque = new(default);
    private readonly RecordType _type;
    private readonly bool _hasNames;

    private CanonicalRdataComparer(RecordType type)
    {
        _type = type;
        _hasNames = !RdataLayout.Of(type).IsEmpty;
    }

    public static CanonicalRdataComparer ForType(RecordType type) => RdataLayout.Of(type).IsEmpty ? Opaque : new CanonicalRdataComparer(type);

    public bool Equals(byte[]? x, byte[]? y)
    {
        if (x is null || y is null) return x == y;
        if (!_hasNames) return x.AsSpan().SequenceEqual(y);
        return x.Length == y.Length && NamesFolded(x).AsSpan().SequenceEqual(NamesFolded(y));
    }

    public int GetHashCode(byte[] obj)
    {
        var data = _hasNames ? NamesFolded(obj) : obj;
        var hash = new HashCode();
        hash.AddBytes(data);
        return hash.ToHashCode();
    }

    private byte[] NamesFolded(byte[] rdata)
    {
        var copy = (byte[])rdata.Clone();
        var layout = RdataLayout.Of(_type);
        int pos = 0;
        foreach (byte code in layout)
        {
            int next = RdataLayout.SkipField(code, copy, pos);
            if (next < 0) break;
            if (code == (byte)'N') WireName.ToLowerInPlace(copy.AsSpan(pos, next - pos));
            pos = next;
        }
        return copy;
    }
}
