using System.Buffers.Binary;

namespace AnycastDns.Protocol.Presentation;

/// <summary>
/// Walks uncompressed RDATA field by field. A read past the end, or a malformed name or string, sets
/// <see cref="Failed"/> and returns an empty value, so a formatter can read a whole layout and check once.
/// </summary>
internal ref struct WireCursor
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;

    public WireCursor(ReadOnlySpan<byte> data)
    {
        _data = data;
        _pos = 0;
        Failed = false;
    }

    public bool Failed { get; private set; }

    public readonly int Remaining => _data.Length - _pos;

    /// <summary>True when every octet was consumed and nothing failed.</summary>
    public readonly bool Complete => !Failed && _pos == _data.Length;

    private bool Need(int count)
    {
        if (Failed || _pos + count > _data.Length)
        {
            Failed = true;
            return false;
        }
        return true;
    }

    public byte U8()
    {
        if (!Need(1)) return 0;
        return _data[_pos++];
    }

    public ushort U16()
    {
        if (!Need(2)) return 0;
        ushort v = BinaryPrimitives.ReadUInt16BigEndian(_data[_pos..]);
        _pos += 2;
        return v;
    }

    public uint U32()
    {
        if (!Need(4)) return 0;
        uint v = BinaryPrimitives.ReadUInt32BigEndian(_data[_pos..]);
        _pos += 4;
        return v;
    }

    public ReadOnlySpan<byte> Bytes(int count)
    {
        if (!Need(count)) return default;
        var v = _data.Slice(_pos, count);
        _pos += count;
        return v;
    }

    public ReadOnlySpan<byte> Rest() => Bytes(Remaining);

    /// <summary>An uncompressed domain name (RDATA in zones and in this codec never holds pointers).</summary>
    public ReadOnlySpan<byte> Name()
    {
        if (Failed) return default;
        if (WireName.Validate(_data[_pos..], out int length) != WireError.None)
        {
            Failed = true;
            return default;
        }
        return Bytes(length);
    }

    /// <summary>A length octet and that many octets (RFC 1035 §3.3).</summary>
    public ReadOnlySpan<byte> CharacterString()
    {
        int length = U8();
        return Bytes(length);
    }

    public void Fail() => Failed = true;
}
