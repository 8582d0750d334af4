using System.Buffers.Binary;
using System.Net.Sockets;

namespace AnycastDns.Server.Dnstap;

/// <summary>
/// Frame Streams, the transport dnstap rides on (farsightsec/fstrm, "Frame Streams Control Frames"): a data frame is a
/// 32-bit big-endian length and that many octets of payload; a control frame starts with an escape (a length of 0),
/// then its own 32-bit length, a 32-bit control type, and fields (a 32-bit field type, a 32-bit length, the value).
/// The only field is CONTENT_TYPE. A bidirectional sender (a Unix or TCP socket, as here) says READY with its content
/// type, waits for ACCEPT, says START; at the end STOP, and waits for FINISH.
/// </summary>
internal static class FrameStream
{
    public const uint Accept = 0x01;
    public const uint Start = 0x02;
    public const uint Stop = 0x03;
    public const uint Ready = 0x04;
    public const uint Finish = 0x05;

    private const uint ContentTypeField = 0x01;

    /// <summary>fstrm refuses control frames longer than this; so do we.</summary>
    private const int MaxControlLength = 512;

    /// <summary>The octets before each data frame's payload.</summary>
    public const int DataHeaderSize = 4;

    /// <summary>Writes the length before a data frame's payload.</summary>
    public static void WriteDataHeader(Span<byte> destination, int payloadLength) =>
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)payloadLength);

    /// <summary>A control frame of <paramref name="type"/>, with a CONTENT_TYPE field when <paramref name="contentType"/> is not empty.</summary>
    public static byte[] Control(uint type, ReadOnlySpan<byte> contentType)
    {
        int fields = contentType.IsEmpty ? 0 : 8 + contentType.Length;
        var frame = new byte[12 + fields];
        BinaryPrimitives.WriteUInt32BigEndian(frame, 0); // the escape: a data frame is never empty
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)(4 + fields));
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), type);
        if (fields > 0)
        {
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(12), ContentTypeField);
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(16), (uint)contentType.Length);
            contentType.CopyTo(frame.AsSpan(20));
        }
        return frame;
    }

    /// <summary>
    /// Reads one control frame from <paramref name="socket"/> and checks it is <paramref name="expected"/> and, when it
    /// names content types (ACCEPT may name several), that <paramref name="contentType"/> is one of them; throws
    /// <see cref="IOException"/> saying what was wrong otherwise.
    /// </summary>
    public static void ExpectControl(Socket socket, uint expected, ReadOnlySpan<byte> contentType)
    {
        Span<byte> head = stackalloc byte[8];
        ReadExactly(socket, head);
        if (BinaryPrimitives.ReadUInt32BigEndian(head) != 0)
        {
            throw new IOException($"the collector sent a data frame where a Frame Streams control frame ({Name(expected)}) was due");
        }
        uint length = BinaryPrimitives.ReadUInt32BigEndian(head[4..]);
        if (length < 4 || length > MaxControlLength)
        {
            throw new IOException($"the collector sent a control frame of {length} octets (4 to {MaxControlLength} allowed)");
        }
        Span<byte> frame = stackalloc byte[(int)length];
        ReadExactly(socket, frame);
        uint type = BinaryPrimitives.ReadUInt32BigEndian(frame);
        if (type != expected)
        {
            throw new IOException($"the collector sent {Name(type)} where {Name(expected)} was due");
        }
        bool named = false;
        bool matches = false;
        var fields = frame[4..];
        while (fields.Length >= 8)
        {
            uint field = BinaryPrimitives.ReadUInt32BigEndian(fields);
            uint fieldLength = BinaryPrimitives.ReadUInt32BigEndian(fields[4..]);
            if (fieldLength > fields.Length - 8)
            {
                throw new IOException($"the collector's {Name(type)} frame has a field longer than the frame");
            }
            var value = fields.Slice(8, (int)fieldLength);
            if (field == ContentTypeField)
            {
                named = true;
                matches |= value.SequenceEqual(contentType);
            }
            fields = fields[(8 + (int)fieldLength)..];
        }
        if (named && !matches)
        {
            throw new IOException($"the collector does not accept content type {System.Text.Encoding.ASCII.GetString(contentType)}");
        }
    }

    private static void ReadExactly(Socket socket, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int read = socket.Receive(destination);
            if (read == 0)
            {
                throw new IOException("the collector closed the connection during the Frame Streams handshake");
            }
            destination = destination[read..];
        }
    }

    private static string Name(uint type) => type switch
    {
        Accept => "ACCEPT",
        Start => "START",
        Stop => "STOP",
        Ready => "READY",
        Finish => "FINISH",
        _ => $"control type {type}",
    };
}
