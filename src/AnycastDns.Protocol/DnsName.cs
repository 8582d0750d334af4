using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace AnycastDns.Protocol;

/// <summary>
/// A domain name held in uncompressed wire form (RFC 1035 §3.1) with its original case.
/// Equality and hashing ignore ASCII case (RFC 4343); ordering is the canonical order of RFC 4034 §6.1.
/// Instances are made at zone load; the query path works on <see cref="WireName"/> spans instead.
/// </summary>
public sealed class DnsName : IEquatable<DnsName>, IComparable<DnsName>
{
    /// <summary>RFC 1035 §2.3.4: 255 octets including length octets and the root.</summary>
    public const int MaxLength = 255;

    /// <summary>RFC 1035 §2.3.4.</summary>
    public const int MaxLabelLength = 63;

    public static readonly DnsName Root = new([(byte)0]);

    // A zone holds one DnsName per owner, millions of them. The wire form of most names (www.example.com. is 17
    // octets) fits inside the object, which then is all the name costs (56 octets, where an object and its array took
    // 80); longer names keep an array. Label offsets are found by walking the length octets when needed.
    private const int InlineLength = 24;

    [InlineArray(InlineLength)]
    private struct InlineWire
    {
        private byte _first;
    }

    private readonly byte[]? _longWire;
    private readonly InlineWire _inlineWire;
    private readonly int _hash;
    private readonly byte _length;
    private readonly byte _labelCount;

    private DnsName(ReadOnlySpan<byte> wire)
    {
        if (wire.Length <= InlineLength)
        {
            wire.CopyTo(_inlineWire);
        }
        else
        {
            _longWire = wire.ToArray();
        }
        _length = (byte)wire.Length;
        _hash = WireName.Hash(wire);
        _labelCount = (byte)WireName.CountLabels(wire);
    }

    /// <summary>Uncompressed wire form, terminated by the root label, original case.</summary>
    public ReadOnlySpan<byte> Wire => _longWire ?? ((ReadOnlySpan<byte>)_inlineWire)[.._length];

    /// <summary>Octets in wire form, root included.</summary>
    public int Length => _length;

    /// <summary>Labels, not counting the root (so the root has 0).</summary>
    public int LabelCount => _labelCount;

    public bool IsRoot => _length == 1;

    /// <summary>True when the first label is the single octet '*' (RFC 4592 §2.1.1).</summary>
    public bool IsWildcard => _length >= 2 && Wire[0] == 1 && Wire[1] == (byte)'*';

    /// <summary>The label at <paramref name="index"/>, 0 being the leftmost.</summary>
    public ReadOnlySpan<byte> Label(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_labelCount, nameof(index));
        var wire = Wire;
        int at = WireName.SkipLabels(wire, index);
        return wire.Slice(at + 1, wire[at]);
    }

    /// <summary>Makes a name from uncompressed wire octets, validating them.</summary>
    public static DnsName FromWire(ReadOnlySpan<byte> wire)
    {
        var error = WireName.Validate(wire, out int length);
        if (error != WireError.None || length != wire.Length)
        {
            throw new DnsFormatException(error == WireError.None ? WireError.TrailingData : error);
        }
        return new DnsName(wire);
    }

    /// <summary>Parses presentation format (RFC 1035 §5.1): escapes \X and \DDD, relative names completed with <paramref name="origin"/>.</summary>
    public static DnsName Parse(string text, DnsName? origin = null)
    {
        if (!TryParse(text, origin, out var name, out var error))
        {
            throw new FormatException(error);
        }
        return name;
    }

    public static bool TryParse(ReadOnlySpan<char> text, DnsName? origin, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DnsName? name, out string? error)
    {
        name = null;
        Span<byte> buffer = stackalloc byte[ParseBufferLength];
        error = TryParseToWire(text, origin, buffer, out int length);
        if (error is not null)
        {
            return false;
        }
        name = new DnsName(buffer[..length]);
        return true;
    }

    /// <summary>The room <see cref="TryParseWire"/> needs: a name's most octets, and one label beyond them to find it too long.</summary>
    public const int ParseBufferLength = MaxLength + MaxLabelLength + 2;

    /// <summary>
    /// As <see cref="TryParse(ReadOnlySpan{char}, DnsName?, out DnsName?, out string?)"/>, into the wire form in
    /// <paramref name="buffer"/> (at least <see cref="ParseBufferLength"/> octets) without making a name: RDATA that
    /// holds names (NS, MX, CNAME...) is written from it, a zone file's worth of names that live only until copied.
    /// </summary>
    public static bool TryParseWire(ReadOnlySpan<char> text, DnsName? origin, Span<byte> buffer, out int length, out string? error)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buffer.Length, ParseBufferLength, nameof(buffer));
        error = TryParseToWire(text, origin, buffer, out length);
        return error is null;
    }

    private static string? TryParseToWire(ReadOnlySpan<char> text, DnsName? origin, Span<byte> buffer, out int length)
    {
        length = 0;
        if (text.Length == 0)
        {
            return "empty domain name";
        }
        if (text is ".")
        {
            buffer[0] = 0;
            length = 1;
            return null;
        }
        int pos = 0;
        int labelStart = 0;
        buffer[0] = 0;
        pos = 1;
        bool absolute = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '.')
            {
                int labelLength = pos - labelStart - 1;
                if (labelLength == 0)
                {
                    return "empty label in domain name";
                }
                buffer[labelStart] = (byte)labelLength;
                if (i == text.Length - 1)
                {
                    absolute = true;
                    break;
                }
                labelStart = pos;
                buffer[pos++] = 0;
                if (pos > MaxLength)
                {
                    return "domain name longer than 255 octets";
                }
                continue;
            }
            int value;
            if (c == '\\')
            {
                if (i + 1 >= text.Length)
                {
                    return "dangling backslash in domain name";
                }
                char n = text[i + 1];
                if (char.IsAsciiDigit(n))
                {
                    if (i + 3 >= text.Length)
                    {
                        return "\\DDD escape needs three digits";
                    }
                    if (!char.IsAsciiDigit(text[i + 2]) || !char.IsAsciiDigit(text[i + 3]))
                    {
                        return "\\DDD escape needs three digits";
                    }
                    value = (n - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
                    if (value > 255)
                    {
                        return "\\DDD escape above 255";
                    }
                    i += 3;
                }
                else
                {
                    value = n;
                    i += 1;
                }
            }
            else
            {
                value = c;
            }
            if (value > 255)
            {
                return "non-ASCII character in domain name";
            }
            if (pos - labelStart - 1 >= MaxLabelLength)
            {
                return "label longer than 63 octets";
            }
            buffer[pos++] = (byte)value;
            if (pos >= MaxLength)
            {
                return "domain name longer than 255 octets";
            }
        }
        if (!absolute)
        {
            int labelLength = pos - labelStart - 1;
            if (labelLength == 0)
            {
                return "empty label in domain name";
            }
            buffer[labelStart] = (byte)labelLength;
            if (origin is null)
            {
                return "relative domain name without an origin";
            }
            if (pos + origin.Length > MaxLength)
            {
                return "domain name longer than 255 octets";
            }
            origin.Wire.CopyTo(buffer[pos..]);
            length = pos + origin.Length;
            return null;
        }
        buffer[pos++] = 0;
        length = pos;
        return length > MaxLength ? "domain name longer than 255 octets" : null;
    }

    /// <summary>The name with its first <paramref name="count"/> labels removed.</summary>
    public DnsName RemoveLabels(int count)
    {
        if (count == 0) return this;
        if (count >= LabelCount) return Root;
        var wire = Wire;
        return new DnsName(wire[WireName.SkipLabels(wire, count)..]);
    }

    /// <summary>The immediate parent; the root's parent is the root.</summary>
    public DnsName Parent() => RemoveLabels(1);

    /// <summary>The name made by putting <paramref name="label"/> in front of this one.</summary>
    public DnsName Prepend(ReadOnlySpan<byte> label)
    {
        if (label.Length is 0 or > MaxLabelLength || Length + label.Length + 1 > MaxLength)
        {
            throw new DnsFormatException(label.Length > MaxLabelLength ? WireError.LabelTooLong : WireError.NameTooLong);
        }
        Span<byte> wire = stackalloc byte[Length + label.Length + 1];
        wire[0] = (byte)label.Length;
        label.CopyTo(wire[1..]);
        Wire.CopyTo(wire[(label.Length + 1)..]);
        return new DnsName(wire);
    }

    /// <summary>The wildcard name "*." + this (RFC 4592 §2.1.1).</summary>
    public DnsName ToWildcard() => Prepend("*"u8);

    /// <summary>True when this name equals <paramref name="ancestor"/> or is below it.</summary>
    public bool IsSubdomainOf(DnsName ancestor)
    {
        int extra = LabelCount - ancestor.LabelCount;
        if (extra < 0) return false;
        // Skipping every label (the ancestor is the root) stops at the root octet.
        var wire = Wire;
        return WireName.EqualsIgnoreCase(wire[WireName.SkipLabels(wire, extra)..], ancestor.Wire);
    }

    /// <summary>A copy with every ASCII letter lower-cased (RFC 4034 §6.2).</summary>
    public DnsName ToLowerCase()
    {
        Span<byte> wire = stackalloc byte[Length];
        Wire.CopyTo(wire);
        WireName.ToLowerInPlace(wire);
        return new DnsName(wire);
    }

    public bool Equals(DnsName? other) =>
        other is not null && (ReferenceEquals(this, other) || (_hash == other._hash && WireName.EqualsIgnoreCase(Wire, other.Wire)));

    public override bool Equals(object? obj) => Equals(obj as DnsName);

    public override int GetHashCode() => _hash;

    /// <summary>Canonical DNS name order, RFC 4034 §6.1.</summary>
    public int CompareTo(DnsName? other)
    {
        if (other is null) return 1;
        // Labels compare from the right; their offsets are found once, not walked to for each label.
        Span<byte> mine = stackalloc byte[MaxLength / 2 + 1];
        Span<byte> theirs = stackalloc byte[MaxLength / 2 + 1];
        ReadOnlySpan<byte> x = Wire, y = other.Wire;
        WireName.LabelOffsets(x, mine);
        WireName.LabelOffsets(y, theirs);
        int a = LabelCount - 1, b = other.LabelCount - 1;
        while (a >= 0 && b >= 0)
        {
            int c = WireName.CompareLabels(x.Slice(mine[a] + 1, x[mine[a]]), y.Slice(theirs[b] + 1, y[theirs[b]]));
            if (c != 0) return c;
            a--;
            b--;
        }
        return (a < 0 ? 0 : 1) - (b < 0 ? 0 : 1);
    }

    public static bool operator ==(DnsName? left, DnsName? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(DnsName? left, DnsName? right) => !(left == right);

    public static bool operator <(DnsName left, DnsName right) => left is null ? right is not null : left.CompareTo(right) < 0;

    public static bool operator >(DnsName left, DnsName right) => left is not null && left.CompareTo(right) > 0;

    public static bool operator <=(DnsName left, DnsName right) => left is null || left.CompareTo(right) <= 0;

    public static bool operator >=(DnsName left, DnsName right) => left is null ? right is null : left.CompareTo(right) >= 0;

    /// <summary>Presentation format with a trailing dot; special and non-printable octets escaped (RFC 1035 §5.1).</summary>
    public override string ToString() => WireName.ToText(Wire);
}

/// <summary>Operations on uncompressed wire-form names held in spans: the allocation-free side of <see cref="DnsName"/>.</summary>
public static class WireName
{
    /// <summary>Checks that <paramref name="wire"/> starts with a well-formed uncompressed name; returns its length.</summary>
    public static WireError Validate(ReadOnlySpan<byte> wire, out int length)
    {
        int pos = 0;
        length = 0;
        while (true)
        {
            if (pos >= wire.Length) return WireError.Truncated;
            int len = wire[pos];
            if (len == 0)
            {
                length = pos + 1;
                return length > DnsName.MaxLength ? WireError.NameTooLong : WireError.None;
            }
            if (len > DnsName.MaxLabelLength) return (len & 0xC0) == 0xC0 ? WireError.BadPointer : WireError.BadLabelType;
            pos += len + 1;
            if (pos >= DnsName.MaxLength) return WireError.NameTooLong;
        }
    }

    /// <summary>Writes where each label of a valid wire name starts (at most 127 labels fit in 255 octets).</summary>
    internal static void LabelOffsets(ReadOnlySpan<byte> wire, Span<byte> offsets)
    {
        int pos = 0;
        for (int i = 0; wire[pos] != 0; i++)
        {
            offsets[i] = (byte)pos;
            pos += wire[pos] + 1;
        }
    }

    /// <summary>Labels in a wire name, the root not counted.</summary>
    public static int CountLabels(ReadOnlySpan<byte> wire)
    {
        int count = 0, pos = 0;
        while (wire[pos] != 0)
        {
            pos += wire[pos] + 1;
            count++;
        }
        return count;
    }

    /// <summary>Offset of the suffix that remains after skipping <paramref name="labels"/> labels.</summary>
    public static int SkipLabels(ReadOnlySpan<byte> wire, int labels)
    {
        int pos = 0;
        for (int i = 0; i < labels && wire[pos] != 0; i++)
        {
            pos += wire[pos] + 1;
        }
        return pos;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte ToLower(byte b) => (uint)(b - 'A') <= 'Z' - 'A' ? (byte)(b | 0x20) : b;

    public static void ToLowerInPlace(Span<byte> wire)
    {
        for (int i = 0; i < wire.Length; i++) wire[i] = ToLower(wire[i]);
    }

    /// <summary>
    /// Case-insensitive hash of a wire name; equal for names that compare equal. Eight octets at a time, lower-cased
    /// in a register (<see cref="ToLower(ulong)"/>): names are hashed on every lookup, so this is on the query path.
    /// </summary>
    public static int Hash(ReadOnlySpan<byte> wire)
    {
        ulong h = Hash64(wire, 0);
        return (int)(h ^ (h >> 32));
    }

    /// <summary>The 64 bits of <see cref="Hash(ReadOnlySpan{byte})"/>, started from <paramref name="seed"/> (a process's random seed keeps an outsider from choosing names that collide).</summary>
    public static ulong Hash64(ReadOnlySpan<byte> wire, ulong seed)
    {
        const ulong Multiplier = 0x9E3779B97F4A7C15; // 2^64 / golden ratio: spreads every input bit upward
        ref byte start = ref MemoryMarshal.GetReference(wire);
        ulong h = (seed ^ (ulong)wire.Length) * Multiplier;
        int i = 0;
        for (; i + sizeof(ulong) <= wire.Length; i += sizeof(ulong))
        {
            h = (h ^ ToLower(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i)))) * Multiplier;
            h ^= h >> 29;
        }
        ulong tail = 0;
        for (; i < wire.Length; i++)
        {
            tail = (tail << 8) | ToLower(wire[i]);
        }
        return (h ^ tail) * Multiplier;
    }

    /// <summary>Whole-span ASCII case-insensitive equality (length octets compare as themselves: they are below 'A').</summary>
    public static bool EqualsIgnoreCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length) return false;
        ref byte x = ref MemoryMarshal.GetReference(a);
        ref byte y = ref MemoryMarshal.GetReference(b);
        int i = 0;
        for (; i + sizeof(ulong) <= a.Length; i += sizeof(ulong))
        {
            ulong p = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref x, i));
            ulong q = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref y, i));
            if (p != q && ToLower(p) != ToLower(q)) return false;
        }
        for (; i < a.Length; i++)
        {
            if (a[i] != b[i] && ToLower(a[i]) != ToLower(b[i])) return false;
        }
        return true;
    }

    /// <summary>
    /// Lower-cases the ASCII letters among eight octets at once (RFC 4343: only A-Z fold). Each octet's low seven bits
    /// plus a bias set its top bit exactly when it is at least 'A', or above 'Z'; no sum carries into the next octet.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ToLower(ulong octets)
    {
        const ulong Ones = 0x0101010101010101;
        ulong low7 = octets & (0x7F * Ones);
        ulong atLeastA = low7 + ((0x80 - 'A') * Ones);
        ulong aboveZ = low7 + ((0x80 - 'Z' - 1) * Ones);
        ulong upper = atLeastA & ~aboveZ & ~octets & (0x80 * Ones);
        return octets | (upper >> 2);
    }

    /// <summary>Compares two labels as lower-cased octet strings (RFC 4034 §6.1).</summary>
    public static int CompareLabels(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            int c = ToLower(a[i]) - ToLower(b[i]);
            if (c != 0) return c;
        }
        return a.Length - b.Length;
    }

    /// <summary>Presentation text of a wire name.</summary>
    public static string ToText(ReadOnlySpan<byte> wire)
    {
        if (wire.Length <= 1) return ".";
        return AppendText(new StringBuilder(wire.Length + 8), wire).ToString();
    }

    /// <summary>Appends the presentation text of a wire name to <paramref name="sb"/>, without a string of its own.</summary>
    public static StringBuilder AppendText(StringBuilder sb, ReadOnlySpan<byte> wire)
    {
        if (wire.Length <= 1) return sb.Append('.');
        int pos = 0;
        while (wire[pos] != 0)
        {
            int len = wire[pos];
            AppendLabel(sb, wire.Slice(pos + 1, len));
            sb.Append('.');
            pos += len + 1;
        }
        return sb;
    }

    internal static void AppendLabel(StringBuilder sb, ReadOnlySpan<byte> label)
    {
        foreach (byte b in label)
        {
            switch (b)
            {
                case (byte)'.' or (byte)'\\' or (byte)'"' or (byte)'(' or (byte)')' or (byte)';' or (byte)'@' or (byte)'$':
                    sb.Append('\\').Append((char)b);
                    break;
                case < 0x21 or > 0x7E:
                    sb.Append('\\').Append(((int)b).ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
                    break;
                default:
                    sb.Append((char)b);
                    break;
            }
        }
    }
}

/// <summary>Hashes and compares <see cref="DnsName"/>s, and lets dictionaries be probed with wire spans without allocating.</summary>
public sealed class DnsNameComparer : IEqualityComparer<DnsName>, IAlternateEqualityComparer<ReadOnlySpan<byte>, DnsName>
{
    public static readonly DnsNameComparer Instance = new();

    public bool Equals(DnsName? x, DnsName? y) => x is null ? y is null : x.Equals(y);

    public int GetHashCode(DnsName obj) => obj.GetHashCode();

    public bool Equals(ReadOnlySpan<byte> alternate, DnsName other) => WireName.EqualsIgnoreCase(alternate, other.Wire);

    public int GetHashCode(ReadOnlySpan<byte> alternate) => WireName.Hash(alternate);

    public DnsName Create(ReadOnlySpan<byte> alternate) => DnsName.FromWire(alternate);
}
