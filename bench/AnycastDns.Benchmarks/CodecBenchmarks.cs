using System.Buffers.Binary;
using AnycastDns.Protocol;
using BenchmarkDotNet.Attributes;

namespace AnycastDns.Benchmarks;

/// <summary>
/// The wire codec on its own: reading a query's header and question as the responder does (Header, then
/// WireReader.ReadName into a stack buffer), and writing a response whose names compress against each other.
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private readonly byte[] _buffer = new byte[ushort.MaxValue];
    private byte[] _query = null!;
    private byte[] _question = null!;
    private byte[] _mail = null!;
    private byte[] _ns1 = null!;
    private byte[] _ns2 = null!;
    private byte[] _mxRdata = null!;
    private byte[] _nsRdata1 = null!;
    private byte[] _nsRdata2 = null!;

    [GlobalSetup]
    public void Setup()
    {
        _query = BenchZone.Query("www.bench.test.", RecordType.A, edns: BenchZone.NsidRequest());
        _question = DnsName.Parse("bench.test.").Wire.ToArray();
        _mail = DnsName.Parse("mail.bench.test.").Wire.ToArray();
        _ns1 = DnsName.Parse("ns1.bench.test.").Wire.ToArray();
        _ns2 = DnsName.Parse("ns2.bench.test.").Wire.ToArray();
        // MX RDATA: preference, then the exchange as an uncompressed name (RFC 1035 §3.3.9).
        _mxRdata = [0, 10, .. _mail];
        _nsRdata1 = _ns1;
        _nsRdata2 = _ns2;
    }

    /// <summary>Header and question, the part of Query.Parse that every query pays for.</summary>
    [Benchmark]
    public int ParseHeaderAndQuestion()
    {
        ReadOnlySpan<byte> message = _query;
        Span<byte> name = stackalloc byte[DnsName.MaxLength + 1];
        if (!Header.TryRead(message, out var header) || header.QuestionCount != 1)
        {
            return -1;
        }
        int offset = Header.Length;
        if (WireReader.ReadName(message, ref offset, name, out int nameLength) != WireError.None || offset + 4 > message.Length)
        {
            return -1;
        }
        var type = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
        var cls = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
        return nameLength + type + cls + header.Id;
    }

    /// <summary>
    /// A response to "bench.test. MX": question, MX answer, two NS in authority, addresses in additional. Every owner
    /// and target after the question compresses to a pointer (RFC 1035 §4.1.4).
    /// </summary>
    [Benchmark]
    public int WriteCompressedResponse()
    {
        var writer = new MessageWriter(_buffer);
        var header = new Header { Id = 0x4242, Flags = Header.QrBit | Header.AaBit, QuestionCount = 1, AnswerCount = 1, AuthorityCount = 2, AdditionalCount = 3 };
        ReadOnlySpan<byte> address = [192, 0, 2, 25];
        bool ok = writer.WriteHeader(header)
            && writer.WriteName(_question) && writer.WriteUInt16((ushort)RecordType.MX) && writer.WriteUInt16((ushort)RecordClass.IN)
            && writer.WriteRecord(_question, RecordType.MX, (ushort)RecordClass.IN, 3600, _mxRdata)
            && writer.WriteRecord(_question, RecordType.NS, (ushort)RecordClass.IN, 3600, _nsRdata1)
            && writer.WriteRecord(_question, RecordType.NS, (ushort)RecordClass.IN, 3600, _nsRdata2)
            && writer.WriteRecord(_mail, RecordType.A, (ushort)RecordClass.IN, 3600, address)
            && writer.WriteRecord(_ns1, RecordType.A, (ushort)RecordClass.IN, 3600, address)
            && writer.WriteRecord(_ns2, RecordType.A, (ushort)RecordClass.IN, 3600, address);
        return ok ? writer.Position : -1;
    }
}
