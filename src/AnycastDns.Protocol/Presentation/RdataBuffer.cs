using System.Buffers.Binary;

namespace AnycastDns.Protocol.Presentation;

/// <summary>A growable octet buffer that RDATA is assembled in before it is copied out once, at its final size.</summary>
internal sealed class RdataBuffer
{
    /// <summary>RDLENGTH is 16 bits (RFC 1035 §3.2.1).</summary>
    public const int MaxRdataLength = ushort.MaxValue;

    private byte[] _buffer = new byte[512];

    public int Length { get; set; }

    public Span<byte> Written => _buffer.AsSpan(0, Length);

    public void Clear() => Length = 0;

    public Span<byte> Extend(int count)
    {
        if (Length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + count));
        }
        var span = _buffer.AsSpan(Length, count);
        Length += count;
        return span;
    }

    public void U8(int value) => Extend(1)[0] = (byte)value;

    public void U16(int value) => BinaryPrimitives.WriteUInt16BigEndian(Extend(2), (ushort)value);

    public void U32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Extend(4), value);

    public void Bytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Extend(bytes.Length));

    public void SetU8(int at, int value) => _buffer[at] = (byte)value;

    public void SetU16(int at, int value) => BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(at), (ushort)value);

    public byte[] ToArray() => _buffer.AsSpan(0, Length).ToArray();
}
