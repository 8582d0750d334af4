using System.Buffers.Binary;
using AnycastDns.Authority;
using AnycastDns.Protocol;

namespace AnycastDns.Fuzz;

/// <summary>
/// <c>edns</c>: the reading of OPT records and EDNS options (RFC 6891 §6.1, NSID RFC 5001, edns-tcp-keepalive RFC 7828).
/// The input is the additional section of a query whose header and question are fixed, so every mutation lands on OPT
/// records and their options instead of being spent on headers and names. The query goes through
/// <see cref="Responder.Respond"/>, held to the same <see cref="ResponseRules"/> as <c>respond</c>, and through the
/// client-side <see cref="DnsMessage.Parse"/> with its own EDNS reader (<see cref="EdnsRecord"/>).
/// <para>
/// Fuzzed through the public <see cref="Responder.Respond"/> rather than the internal query parser: the rules are about
/// the response the option reader leads to, and the parser's internals stay internal (no InternalsVisibleTo for a
/// fuzzer). The cost is one lookup per run, small beside the parse.
/// </para>
/// Input: octet 0 as in <c>respond</c> (bit 0 TCP, bit 1 the second configuration, bit 2 the slip, bit 3 IPv6) and bits
/// 4-5 the question; octet 1
/// the ARCOUNT; the rest is the additional section.
/// </summary>
internal sealed class EdnsTarget : RespondTarget
{
    /// <summary>Questions whose answers differ in size and kind: a small answer, a signed NXDOMAIN, ANY, CHAOS.</summary>
    private static readonly byte[][] Questions =
    [
        Question("www.example.test.", RecordType.A, RecordClass.IN),
        Question("nothere.nsec3.test.", RecordType.A, RecordClass.IN),
        Question("example.test.", RecordType.ANY, RecordClass.IN),
        Question("id.server.", RecordType.TXT, RecordClass.CH),
    ];

    private readonly byte[] _input = new byte[1 + ushort.MaxValue];

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 2)
        {
            return;
        }
        var question = Questions[(input[0] >> 4) & 3];
        var additional = input[2..];
        // The octet that picks transport and configuration, then the query, as respond takes them.
        int length = 1 + Header.Length + question.Length + additional.Length;
        if (length > _input.Length)
        {
            return;
        }
        _input[0] = input[0];
        new Header { Id = 0xED05, Flags = Header.RdBit, QuestionCount = 1, AdditionalCount = input[1] }.Write(_input.AsSpan(1));
        question.CopyTo(_input, 1 + Header.Length);
        additional.CopyTo(_input.AsSpan(1 + Header.Length + question.Length));
        base.Run(_input.AsSpan(0, length));
    }

    private static byte[] Question(string name, RecordType type, RecordClass cls)
    {
        var wire = DnsName.Parse(name).Wire;
        var question = new byte[wire.Length + 4];
        wire.CopyTo(question);
        BinaryPrimitives.WriteUInt16BigEndian(question.AsSpan(wire.Length), (ushort)type);
        BinaryPrimitives.WriteUInt16BigEndian(question.AsSpan(wire.Length + 2), (ushort)cls);
        return question;
    }
}
