using System.Text;

namespace AnycastDns.Protocol.Presentation;

/// <summary>The type bit maps of NSEC, NSEC3 and CSYNC: window blocks of up to 32 octets (RFC 4034 §4.1.2).</summary>
internal static class TypeBitmapWire
{
    /// <summary>Writes the windows for <paramref name="sortedTypes"/> (ascending; duplicates are merged).</summary>
    public static void Write(ReadOnlySpan<ushort> sortedTypes, RdataBuffer output)
    {
        int i = 0;
        while (i < sortedTypes.Length)
        {
            int window = sortedTypes[i] >> 8;
            int lengthAt = output.Length + 1;
            output.U8(window);
            output.U8(0);
            int bitmapAt = output.Length;
            output.Extend(32).Clear();
            int highest = 0;
            while (i < sortedTypes.Length && sortedTypes[i] >> 8 == window)
            {
                int low = sortedTypes[i] & 0xFF;
                output.Written[bitmapAt + (low >> 3)] |= (byte)(0x80 >> (low & 7));
                highest = Math.Max(highest, low);
                i++;
            }
            // Trailing zero octets are left out (RFC 4034 §4.1.2).
            int length = (highest >> 3) + 1;
            output.SetU8(lengthAt, length);
            output.Length = bitmapAt + length;
        }
    }

    /// <summary>Appends " TYPE" for each type in the bit map; false when the windows are malformed.</summary>
    public static bool TryFormat(ReadOnlySpan<byte> data, StringBuilder sb)
    {
        int previousWindow = -1;
        int pos = 0;
        while (pos < data.Length)
        {
            if (pos + 2 > data.Length)
            {
                return false;
            }
            int window = data[pos];
            int length = data[pos + 1];
            // Windows appear in increasing order, each with 1 to 32 octets, and trailing zero octets (so empty
            // windows too) are left out (RFC 4034 §4.1.2); anything else would not survive a round trip through text.
            if (window <= previousWindow || length is 0 or > 32 || pos + 2 + length > data.Length || data[pos + 1 + length] == 0)
            {
                return false;
            }
            for (int octet = 0; octet < length; octet++)
            {
                byte bits = data[pos + 2 + octet];
                for (int bit = 0; bit < 8; bit++)
                {
                    if ((bits & (0x80 >> bit)) != 0)
                    {
                        sb.Append(' ').Append(RecordTypeNames.ToText((RecordType)((window << 8) | (octet << 3) | bit)));
                    }
                }
            }
            previousWindow = window;
            pos += 2 + length;
        }
        return true;
    }
}
