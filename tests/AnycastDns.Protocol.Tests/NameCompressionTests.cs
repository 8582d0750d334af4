using AnycastDns.Protocol;
using CsCheck;

namespace AnycastDns.Protocol.Tests;

/// <summary>
/// Name compression (RFC 1035 §4.1.4) in a reused buffer: a pointer may only lead to a name already complete in this
/// message, whatever the buffer held before.
/// </summary>
public class NameCompressionTests
{
    private static byte[] Wire(string name) => DnsName.Parse(name).Wire.ToArray();

    /// <summary>Issue 14's reproduction: a long name written after a shorter one of the same suffix, in the same buffer.</summary>
    [Fact]
    public void A_longer_name_after_a_shorter_one_in_a_reused_buffer_never_points_into_itself()
    {
        var buffer = new byte[512];
        string shortName = string.Concat(Enumerable.Repeat("x.", 12)) + "w.edge.test.";
        string longName = string.Concat(Enumerable.Repeat("x.", 20)) + "w.edge.test.";
        var first = new MessageWriter(buffer);
        Assert.True(first.WriteHeader(default));
        Assert.True(first.WriteName(Wire(shortName)));
        Assert.True(first.WriteName(Wire(shortName)));

        var second = new MessageWriter(buffer);
        Assert.True(second.WriteHeader(default));
        Assert.True(second.WriteName(Wire(longName)));
        int offset = Header.Length;
        Span<byte> name = stackalloc byte[256];
        Assert.Equal(WireError.None, WireReader.ReadName(buffer.AsSpan(0, second.Position), ref offset, name, out int length));
        Assert.Equal(longName, WireName.ToText(name[..length]));
        Assert.Equal(Header.Length + Wire(longName).Length, second.Position);
    }

    private static readonly Gen<string> Label = Gen.OneOf(Gen.Const("x"), Gen.Const("w"), Gen.Const("edge"), Gen.Const("test"), Gen.Const("X"),
        Gen.String[Gen.Char['a', 'c'], 1, 3]);

    private static readonly Gen<string> Name = Label.Array[1, 20].Select(labels => string.Join('.', labels) + ".");

    /// <summary>
    /// Random sequences of names written into a buffer first filled with garbage (and with earlier messages of the same
    /// names): every pointer leads backwards to octets of this message, and every name reads back as written.
    /// </summary>
    [Fact]
    public void Every_pointer_leads_backwards_and_every_name_reads_back_whatever_the_buffer_held()
    {
        Gen.Select(Name.Array[1, 12], Name.Array[1, 12], Gen.Byte.Array[600]).Sample((earlier, names, garbage) =>
        {
            var buffer = new byte[600];
            garbage.CopyTo(buffer, 0);
            var before = new MessageWriter(buffer);
            before.WriteHeader(default);
            foreach (var n in earlier)
            {
                before.WriteName(Wire(n));
            }
            var w = new MessageWriter(buffer);
            w.WriteHeader(default);
            var starts = new List<int>();
            var written = new List<string>();
            foreach (var n in names)
            {
                int at = w.Position;
                if (!w.WriteName(Wire(n)))
                {
                    break;
                }
                starts.Add(at);
                written.Add(n);
            }
            var message = buffer.AsSpan(0, w.Position);
            Span<byte> name = stackalloc byte[256];
            for (int i = 0; i < starts.Count; i++)
            {
                AssertPointersLeadBackwards(message, starts[i]);
                int offset = starts[i];
                if (WireReader.ReadName(message, ref offset, name, out int length) != WireError.None
                    || !string.Equals(WireName.ToText(name[..length]), written[i], StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException($"name {i} ({written[i]}) does not read back");
                }
            }
        }, iter: 3000);
    }

    private static void AssertPointersLeadBackwards(ReadOnlySpan<byte> message, int at)
    {
        int start = at;
        for (int guard = 0; guard < 128; guard++)
        {
            int len = message[at];
            if (len == 0)
            {
                return;
            }
            if (len >= 0xC0)
            {
                int target = ((len & 0x3F) << 8) | message[at + 1];
                if (target >= start)
                {
                    throw new InvalidOperationException($"pointer at {at} leads to {target}, not before the name's start {start}");
                }
                at = start = target;
                continue;
            }
            at += len + 1;
        }
        throw new InvalidOperationException("name does not end");
    }
}
