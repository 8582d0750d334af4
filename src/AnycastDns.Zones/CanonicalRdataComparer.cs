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

    /// <summary>As <see cref="Equals(byte[], byte[])"/>, on RDATA held anywhere (the zone loader's records hold no arrays).</summary>
    internal bool Equals(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        if (x.Length != y.Length) return false;
        if (x.SequenceEqual(y)) return true;
        if (!_hasNames) return false;
        byte[] scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(x.Length * 2);
        try
        {
            var a = scratch.AsSpan(0, x.Length);
            var b = scratch.AsSpan(x.Length, y.Length);
            x.CopyTo(a);
            y.CopyTo(b);
            FoldNames(a);
            FoldNames(b);
            return a.SequenceEqual(b);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>As <see cref="GetHashCode(byte[])"/>, on RDATA held anywhere.</summary>
    internal int GetHashCode(ReadOnlySpan<byte> rdata)
    {
        var hash = new HashCode();
        if (!_hasNames)
        {
            hash.AddBytes(rdata);
            return hash.ToHashCode();
        }
        byte[] scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(1, rdata.Length));
        try
        {
            var folded = scratch.AsSpan(0, rdata.Length);
            rdata.CopyTo(folded);
            FoldNames(folded);
            hash.AddBytes(folded);
            return hash.ToHashCode();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private void FoldNames(Span<byte> rdata)
    {
        var layout = RdataLayout.Of(_type);
        int pos = 0;
        foreach (byte code in layout)
        {
            int next = RdataLayout.SkipField(code, rdata, pos);
            if (next < 0) break;
            if (code == (byte)'N') WireName.ToLowerInPlace(rdata[pos..next]);
            pos = next;
        }
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
