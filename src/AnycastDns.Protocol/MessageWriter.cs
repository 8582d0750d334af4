using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace AnycastDns.Protocol;

/// <summary>
/// Writes a message into a caller's buffer with name compression (RFC 1035 §4.1.4) and no allocation.
/// Every write either fits entirely below <see cref="Limit"/> or returns false and leaves the buffer as it was,
/// so callers can add whole RRsets and roll back with <see cref="Mark"/>/<see cref="Reset"/> (RFC 2181 §9: no partial RRsets).
/// </summary>
public ref struct MessageWriter
{
    private const int MaxPointerTarget = 0x3FFF;

    private readonly Span<byte> _buffer;
    private CompressionTable _table;
    private int _tableCount;
    private int _position;
    private int _limit;
    private int _targetLimit;

    public MessageWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _limit = Math.Min(buffer.Length, ushort.MaxValue);
        _position = 0;
        _tableCount = 0;
    }

    /// <summary>Octets written so far.</summary>
    public readonly int Position => _position;

    /// <summary>The most octets the message may occupy (the UDP payload size, or 65535 on TCP).</summary>
    public int Limit
    {
        readonly get => _limit;
        set => _limit = Math.Min(value, Math.Min(_buffer.Length, ushort.MaxValue));
    }

    public readonly Span<byte> Buffer => _buffer;

    /// <summary>
    /// The most names (suffixes) kept as compression targets, at most 96 (the default). A zone transfer sets a few: its
    /// owners are all below the zone's origin, which the first names written hold, and a message of thousands of
    /// records would otherwise compare each name with 96 earlier ones (twice the time of Knot's transfer).
    /// </summary>
    public int CompressionTargets
    {
        readonly get => _targetLimit == 0 ? CompressionTable.Capacity : _targetLimit;
        set => _targetLimit = Math.Clamp(value, 1, CompressionTable.Capacity);
    }

    public readonly Span<byte> Written => _buffer[.._position];

    /// <summary>A point to return to with <see cref="Reset"/>.</summary>
    public readonly WriterMark Mark() => new(_position, _tableCount);

    /// <summary>Forgets everything written after <paramref name="mark"/>, compression targets included.</summary>
    public void Reset(WriterMark mark)
    {
        _position = mark.Position;
        _tableCount = mark.TableCount;
    }

    public bool WriteHeader(in Header header)
    {
        if (_position + Header.Length > _limit) return false;
        header.Write(_buffer[_position..]);
        _position += Header.Length;
        return true;
    }

    public bool WriteUInt16(ushort value)
    {
        if (_position + 2 > _limit) return false;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], value);
        _position += 2;
        return true;
    }

    public bool WriteUInt32(uint value)
    {
        if (_position + 4 > _limit) return false;
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[_position..], value);
        _position += 4;
        return true;
    }

    public bool WriteBytes(scoped ReadOnlySpan<byte> bytes)
    {
        if (_position + bytes.Length > _limit) return false;
        bytes.CopyTo(_buffer[_position..]);
        _position += bytes.Length;
        return true;
    }

    /// <summary>Patches a 16-bit value written earlier (RDLENGTH, section counts).</summary>
    public readonly void PatchUInt16(int at, ushort value) => BinaryPrimitives.WriteUInt16BigEndian(_buffer[at..], value);

    /// <summary>Writes an uncompressed wire name, compressed against names already in the message when <paramref name="compress"/>.</summary>
    public bool WriteName(scoped ReadOnlySpan<byte> name, bool compress = true)
    {
        int start = _position;
        // Only names complete before this one are compression targets: the labels this call adds are followed, until
        // it ends, by whatever the buffer held before (an earlier message), and must not be matched against.
        int tableStart = _tableCount;
        int pos = 0;
        while (name[pos] != 0)
        {
            if (compress)
            {
                int target = FindSuffix(name[pos..], tableStart);
                if (target >= 0)
                {
                    if (_position + 2 > _limit) goto Fail;
                    BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], (ushort)(0xC000 | target));
                    _position += 2;
                    return true;
                }
            }
            int len = name[pos];
            if (_position + len + 1 > _limit) goto Fail;
            AddTarget(_position);
            name.Slice(pos, len + 1).CopyTo(_buffer[_position..]);
            _position += len + 1;
            pos += len + 1;
        }
        if (_position + 1 > _limit) goto Fail;
        _buffer[_position++] = 0;
        return true;

    Fail:
        _position = start;
        _tableCount = tableStart;
        return false;
    }

    /// <summary>
    /// Writes one resource record. RDATA is given uncompressed; names inside it are compressed only for the
    /// RFC 1035 types (RFC 3597 §4).
    /// </summary>
    public bool WriteRecord(scoped ReadOnlySpan<byte> owner, RecordType type, ushort cls, uint ttl, scoped ReadOnlySpan<byte> rdata)
    {
        var mark = Mark();
        if (!WriteName(owner) || _position + 10 > _limit)
        {
            Reset(mark);
            return false;
        }
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], (ushort)type);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[(_position + 2)..], cls);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[(_position + 4)..], ttl);
        int rdlengthAt = _position + 8;
        _position += 10;
        int rdataStart = _position;
        if (!(RdataLayout.IsCompressible(type) ? WriteCompressedRdata(type, rdata) : WriteBytes(rdata)))
        {
            Reset(mark);
            return false;
        }
        PatchUInt16(rdlengthAt, (ushort)(_position - rdataStart));
        return true;
    }

    private bool WriteCompressedRdata(RecordType type, scoped ReadOnlySpan<byte> rdata)
    {
        var layout = RdataLayout.Of(type);
        int pos = 0;
        foreach (byte code in layout)
        {
            int next = RdataLayout.SkipField(code, rdata, pos);
            if (next < 0)
            {
                // Not well-formed for its type: send it as the opaque octets it is.
                return WriteBytes(rdata[pos..]);
            }
            if (code == (byte)'N' ? !WriteName(rdata[pos..next]) : !WriteBytes(rdata[pos..next]))
            {
                return false;
            }
            pos = next;
        }
        return pos >= rdata.Length || WriteBytes(rdata[pos..]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddTarget(int offset)
    {
        if (offset <= MaxPointerTarget && _tableCount < (_targetLimit == 0 ? CompressionTable.Capacity : _targetLimit))
        {
            _table[_tableCount++] = (ushort)offset;
        }
    }

    /// <summary>Offset of an occurrence of <paramref name="suffix"/> among the first <paramref name="count"/> targets (names already complete), or -1.</summary>
    private readonly int FindSuffix(scoped ReadOnlySpan<byte> suffix, int count)
    {
        for (int i = 0; i < count; i++)
        {
            int offset = _table[i];
            if (_buffer[offset] == suffix[0] && MatchesAt(offset, suffix))
            {
                return offset;
            }
        }
        return -1;
    }

    /// <summary>
    /// Compares the (possibly compressed) name at <paramref name="offset"/> in our own output with an uncompressed name.
    /// Every octet read lies below the write position, and a pointer must lead backwards (RFC 1035 §4.1.4 "prior
    /// occurrence"), so a result never depends on what the buffer held before this message.
    /// </summary>
    private readonly bool MatchesAt(int offset, scoped ReadOnlySpan<byte> name)
    {
        int pos = 0;
        int guard = 0;
        while (guard++ < 128 && offset < _position)
        {
            int len = _buffer[offset];
            if (len >= 0xC0)
            {
                if (offset + 1 >= _position) return false;
                int target = ((len & 0x3F) << 8) | _buffer[offset + 1];
                if (target >= offset) return false;
                offset = target;
                continue;
            }
            if (len > 63 || offset + 1 + len > _position || len != name[pos]) return false;
            if (len == 0) return true;
            if (!WireName.EqualsIgnoreCase(_buffer.Slice(offset + 1, len), name.Slice(pos + 1, len))) return false;
            offset += len + 1;
            pos += len + 1;
        }
        return false;
    }

    [InlineArray(Capacity)]
    private struct CompressionTable
    {
        public const int Capacity = 96;
        private ushort _element;
    }
}

/// <summary>A position in a <see cref="MessageWriter"/> to roll back to.</summary>
public readonly record struct WriterMark(int Position, int TableCount);
