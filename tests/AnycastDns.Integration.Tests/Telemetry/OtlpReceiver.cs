using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace AnycastDns.Integration.Tests.Telemetry;

/// <summary>One data point of an OTLP metric: its attributes and value.</summary>
public sealed record OtlpPoint(string Metric, IReadOnlyDictionary<string, string> Attributes, double Value);

/// <summary>One span: its name, kind (SpanKind: 2 server, 3 client), attributes and status (code 2 error, and its message).</summary>
public sealed record OtlpSpan(string Name, int Kind, IReadOnlyDictionary<string, string> Attributes, int StatusCode, string StatusMessage);

/// <summary>
/// A stand-in for an OpenTelemetry collector: an OTLP/HTTP receiver (OTLP specification, "OTLP/HTTP") on loopback that
/// accepts binary protobuf on <c>/v1/metrics</c>, <c>/v1/traces</c> and <c>/v1/logs</c> and decodes just the fields the
/// tests look at, straight from the wire format of opentelemetry-proto's messages.
/// </summary>
public sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly ConcurrentQueue<byte[]> _metrics = new();
    private readonly ConcurrentQueue<byte[]> _traces = new();
    private readonly ConcurrentQueue<byte[]> _logs = new();

    public OtlpReceiver(int port)
    {
        Endpoint = new Uri($"http://127.0.0.1:{port}");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri Endpoint { get; }

    /// <summary>Every metric data point received so far, with the resource attributes of its batch.</summary>
    public IReadOnlyList<(IReadOnlyDictionary<string, string> Resource, OtlpPoint Point)> MetricPoints =>
        [.. _metrics.SelectMany(body =>
            // ExportMetricsServiceRequest.resource_metrics = 1; ResourceMetrics.resource = 1, scope_metrics = 2;
            // ScopeMetrics.metrics = 2; Metric.name = 1, gauge = 5, sum = 7; Gauge/Sum.data_points = 1.
            Protobuf.Messages(body, 1).SelectMany(resourceMetrics =>
            {
                var resource = Attributes(Protobuf.Messages(resourceMetrics, 1).FirstOrDefault() ?? [], 1);
                return Protobuf.Messages(resourceMetrics, 2).SelectMany(scope => Protobuf.Messages(scope, 2)).SelectMany(metric =>
                {
                    string name = Protobuf.String(metric, 1);
                    var points = Protobuf.Messages(metric, 5).Concat(Protobuf.Messages(metric, 7)).SelectMany(data => Protobuf.Messages(data, 1));
                    return points.Select(p => ((IReadOnlyDictionary<string, string>)resource, new OtlpPoint(name, Attributes(p, 7), Value(p))));
                });
            }))];

    /// <summary>The names of every span received so far (ResourceSpans = 1, ScopeSpans = 2, Span = 2, Span.name = 5).</summary>
    public IReadOnlyList<string> SpanNames =>
        [.. _traces.SelectMany(body => Protobuf.Messages(body, 1)).SelectMany(r => Protobuf.Messages(r, 2))
            .SelectMany(s => Protobuf.Messages(s, 2)).Select(span => Protobuf.String(span, 5))];

    /// <summary>
    /// Every span received so far: Span.name = 5, kind = 6, attributes = 9, status = 15; Status.message = 2, code = 3.
    /// </summary>
    public IReadOnlyList<OtlpSpan> Spans =>
        [.. _traces.SelectMany(body => Protobuf.Messages(body, 1)).SelectMany(r => Protobuf.Messages(r, 2))
            .SelectMany(s => Protobuf.Messages(s, 2)).Select(span =>
            {
                var status = Protobuf.Messages(span, 15).FirstOrDefault() ?? [];
                return new OtlpSpan(Protobuf.String(span, 5), (int)(Protobuf.Varint(span, 6) ?? 0), Attributes(span, 9),
                    (int)(Protobuf.Varint(status, 3) ?? 0), Protobuf.String(status, 2));
            })];

    /// <summary>How many log export requests arrived.</summary>
    public int LogRequests => _logs.Count;

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    /// <summary>NumberDataPoint.as_double = 4 (fixed64 double), as_int = 6 (sfixed64).</summary>
    private static double Value(byte[] point) =>
        Protobuf.Fixed64(point, 4) is { } d ? BitConverter.Int64BitsToDouble((long)d) : (long)(Protobuf.Fixed64(point, 6) ?? 0);

    /// <summary>KeyValue.key = 1, value = 2; AnyValue.string_value = 1, int_value = 3.</summary>
    private static Dictionary<string, string> Attributes(byte[] message, int field) =>
        Protobuf.Messages(message, field).ToDictionary(kv => Protobuf.String(kv, 1), kv =>
        {
            var value = Protobuf.Messages(kv, 2).FirstOrDefault() ?? [];
            return Protobuf.Messages(value, 1).Any() ? Protobuf.String(value, 1) : Protobuf.Varint(value, 3)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "";
        });

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var queue = context.Request.Url?.AbsolutePath switch
            {
                "/v1/metrics" => _metrics,
                "/v1/traces" => _traces,
                "/v1/logs" => _logs,
                _ => null,
            };
            bool protobuf = context.Request.ContentType == "application/x-protobuf";
            if (queue is not null && protobuf)
            {
                queue.Enqueue(body.ToArray());
            }
            // An empty Export*ServiceResponse is a valid (empty) protobuf message.
            context.Response.StatusCode = queue is null ? 404 : protobuf ? 200 : 415;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }
}

/// <summary>Just enough of the protobuf wire format (varint, fixed64, length-delimited) to read OTLP requests.</summary>
public static class Protobuf
{
    /// <summary>Every field of a message: number, wire type, and its varint/fixed value or its bytes.</summary>
    public static IEnumerable<(int Field, int Wire, ulong Number, byte[] Bytes)> Fields(byte[] message)
    {
        int at = 0;
        while (at < message.Length)
        {
            ulong key = ReadVarint(message, ref at);
            int field = (int)(key >> 3), wire = (int)(key & 7);
            switch (wire)
            {
                case 0:
                    yield return (field, wire, ReadVarint(message, ref at), []);
                    break;
                case 1:
                    yield return (field, wire, BitConverter.ToUInt64(message, at), []);
                    at += 8;
                    break;
                case 2:
                    int length = (int)ReadVarint(message, ref at);
                    yield return (field, wire, 0, message[at..(at + length)]);
                    at += length;
                    break;
                case 5:
                    yield return (field, wire, BitConverter.ToUInt32(message, at), []);
                    at += 4;
                    break;
                default:
                    throw new InvalidDataException($"protobuf wire type {wire} at offset {at}");
            }
        }
    }

    public static IEnumerable<byte[]> Messages(byte[] message, int field) => Fields(message).Where(f => f.Field == field && f.Wire == 2).Select(f => f.Bytes);

    public static string String(byte[] message, int field) => Encoding.UTF8.GetString(Messages(message, field).FirstOrDefault() ?? []);

    public static ulong? Fixed64(byte[] message, int field) => Fields(message).Where(f => f.Field == field && f.Wire == 1).Select(f => (ulong?)f.Number).FirstOrDefault();

    public static ulong? Varint(byte[] message, int field) => Fields(message).Where(f => f.Field == field && f.Wire == 0).Select(f => (ulong?)f.Number).FirstOrDefault();

    private static ulong ReadVarint(byte[] message, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = message[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
        throw new InvalidDataException("protobuf varint longer than 10 octets");
    }
}
