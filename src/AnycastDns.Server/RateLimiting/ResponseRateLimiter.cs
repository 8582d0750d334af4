using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.RateLimiting;

/// <summary>What response rate limiting does with one UDP response.</summary>
internal enum RateLimitAction : byte
{
    /// <summary>Within the rate (or never limited): send it.</summary>
    Answer,
    /// <summary>Over the rate: send nothing.</summary>
    Drop,
    /// <summary>Over the rate, but this one "slips": send the small truncated answer (or BADCOOKIE) instead.</summary>
    Slip,
    /// <summary>Over the rate with <c>Rrl:LogOnly</c>: sent anyway, and counted as what would have been limited.</summary>
    LogOnly,
}

/// <summary>
/// Response rate limiting, after the "DNS Response Rate Limiting" technical note (Vixie and Schryver) as NSD and BIND
/// apply it: an authoritative server must not become a reflection amplifier, so identical responses to one client
/// prefix are held to a rate. A bucket is keyed by the client's prefix and the kind of response
/// (<see cref="ResponseDecision"/>): positive answers by name and type, NODATA by name, NXDOMAIN by zone (random
/// subdomains share one bucket), referrals by delegation, wildcard answers by wildcard, errors by prefix alone.
/// <para>
/// The buckets live in one table allocated at start: sets of <see cref="Ways"/> entries, each set guarded by a spin
/// lock of its own (no global lock), the least recently used entry of a set reused for a new key, so nothing on the
/// query path allocates or grows. Only UDP is limited: over TCP the source address is proven.
/// </para>
/// </summary>
internal sealed unsafe class ResponseRateLimiter : IDisposable
{
    private const int Ways = 8;

    /// <summary>A response, in the thousandths a bucket's balance is kept in.</summary>
    private const long One = 1000;

    private readonly Bucket* _buckets;
    private readonly int _capacity;
    private readonly SpinGates _gates;
    private readonly int _setMask;
    private readonly long _rate;
    private readonly long _full;
    private readonly long _floor;
    private readonly uint _forgetAfterMs;
    private readonly uint _slip;
    private readonly bool _logOnly;
    private readonly ulong _seed;
    private readonly long _epoch;
    private readonly (ulong High, ulong Low) _v4Mask;
    private readonly (ulong High, ulong Low) _v6Mask;
    private readonly AddressPrefix[] _exempt;

    public ResponseRateLimiter(RateLimitOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        int sets = (int)Math.Min(1 << 27, BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, (options.TableSize + Ways - 1) / Ways)));
        // Outside the GC heap, zeroed by the kernel: the table (24 MiB at the default size) is mapped at once but its
        // pages become resident only as buckets are first used, so an idle server or one limiting a few clients does
        // not pay for the table a flood from a million prefixes would fill. As a managed array (large-object or pinned
        // heap) it was resident whole after a 10,000-zone load: 23-29 MiB more for an idle server. Freed by the
        // finalizer, once no receive thread can reach the limiter any more (never by Dispose, which a receive thread
        // still running could outlive).
        _capacity = sets * Ways;
        _buckets = (Bucket*)NativeMemory.AllocZeroed((nuint)_capacity, (nuint)sizeof(Bucket));
        _gates = new SpinGates(sets);
        _setMask = sets - 1;
        _rate = options.ResponsesPerSecond;
        _full = _rate * One;
        _floor = -options.WindowSeconds * _rate * One;
        _forgetAfterMs = (uint)(options.WindowSeconds + 1) * 1000;
        _slip = (uint)options.Slip;
        _logOnly = options.LogOnly;
        _seed = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        _epoch = Environment.TickCount64;
        _v4Mask = AddressPrefix.Masks(options.IPv4PrefixLength, ipv6: false);
        _v6Mask = AddressPrefix.Masks(options.IPv6PrefixLength, ipv6: true);
        _exempt = [.. options.Exempt];
        Prefixes = new LimitedPrefixes(options, _epoch, logger);
    }

    public RateLimitOptions Options { get; }

    /// <summary>The prefixes being limited now, with the start and stop log lines.</summary>
    public LimitedPrefixes Prefixes { get; }

    /// <summary>Buckets in the table.</summary>
    public int Capacity => _capacity;

    /// <summary>
    /// Counts one UDP response to <paramref name="client"/> (4 or 16 octets) in its bucket and says whether to send it.
    /// <paramref name="response"/> holds the question the decision points into.
    /// </summary>
    public RateLimitAction Check(ReadOnlySpan<byte> client, in ResponseDecision decision, ReadOnlySpan<byte> response)
    {
        // A valid server cookie proves the address (RFC 7873 §5.2.5), as TCP does: never limited.
        if (decision.Length == 0 || decision.Cookie == CookieState.Valid || client.IsEmpty || IsExempt(client))
        {
            return RateLimitAction.Answer;
        }
        var (high, low) = AddressPrefix.Split(client);
        bool v6 = client.Length == 16;
        var mask = v6 ? _v6Mask : _v4Mask;
        high &= mask.High;
        low &= mask.Low;
        ulong key = Key(high, low, v6, decision, response);
        uint now = (uint)(Environment.TickCount64 - _epoch);
        uint limited = Count(key, now);
        if (limited == 0)
        {
            return RateLimitAction.Answer;
        }
        var action = _logOnly ? RateLimitAction.LogOnly : _slip != 0 && limited % _slip == 0 ? RateLimitAction.Slip : RateLimitAction.Drop;
        Prefixes.Note(high, low, v6, action, now);
        return action;
    }

    public void Dispose() => Prefixes.Dispose();

    ~ResponseRateLimiter() => NativeMemory.Free(_buckets);

    private bool IsExempt(ReadOnlySpan<byte> client)
    {
        foreach (var prefix in _exempt)
        {
            if (prefix.Contains(client))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The bucket of this response: the prefix, the kind of response, and the name (and type) that key it.</summary>
    private ulong Key(ulong high, ulong low, bool v6, in ResponseDecision decision, ReadOnlySpan<byte> response)
    {
        ulong name = 0;
        ulong kind = (ulong)decision.Class << 17 | (v6 ? 1UL << 16 : 0);
        switch (decision.Class)
        {
            case ResponseClass.Positive:
                kind |= decision.QType;
                name = WireName.Hash64(decision.QName(response), _seed);
                break;
            case ResponseClass.NoData:
                name = WireName.Hash64(decision.QName(response), _seed);
                break;
            case ResponseClass.NxDomain or ResponseClass.Referral or ResponseClass.Wildcard:
                name = WireName.Hash64(decision.Bucket is { } bucket ? bucket.Wire : decision.QName(response), _seed);
                break;
        }
        ulong h = Mix(_seed ^ high, low);
        h = Mix(h, name);
        h = Mix(h, kind);
        return h == 0 ? 1 : h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong h, ulong value)
    {
        h = (h ^ value) * 0x9E3779B97F4A7C15;
        return h ^ (h >> 31);
    }

    /// <summary>
    /// Takes one response from the bucket of <paramref name="key"/>: its balance earns <see cref="RateLimitOptions.ResponsesPerSecond"/>
    /// a second up to one second's worth, pays one per response, and may fall as far as the window's worth of debt.
    /// Returns 0 while the balance covers the response, else how many responses this bucket has limited in a row.
    /// </summary>
    private uint Count(ulong key, uint now)
    {
        int set = (int)(key >> 32) & _setMask;
        ref int gate = ref _gates.Enter(set);
        ref Bucket bucket = ref Find(set, key, now);
        bucket.Balance -= One;
        uint limited = 0;
        if (bucket.Balance < 0)
        {
            limited = ++bucket.Limited;
            if (bucket.Balance < _floor)
            {
                bucket.Balance = _floor;
            }
        }
        else
        {
            bucket.Limited = 0;
        }
        SpinGates.Exit(ref gate);
        return limited;
    }

    private ref Bucket Find(int set, ulong key, uint now)
    {
        int first = set * Ways;
        int victim = first;
        uint oldest = 0;
        for (int i = first; i < first + Ways; i++)
        {
            ref Bucket b = ref _buckets[i];
            if (b.Key == key)
            {
                uint elapsed = now - b.Touched;
                b.Balance = elapsed >= _forgetAfterMs ? _full : Math.Min(_full, b.Balance + elapsed * _rate);
                b.Touched = now;
                return ref b;
            }
            uint age = b.Key == 0 ? uint.MaxValue : now - b.Touched;
            if (age > oldest)
            {
                oldest = age;
                victim = i;
            }
        }
        ref Bucket fresh = ref _buckets[victim];
        fresh.Key = key;
        fresh.Balance = _full;
        fresh.Touched = now;
        fresh.Limited = 0;
        return ref fresh;
    }

    private struct Bucket
    {
        public ulong Key;
        public long Balance;
        public uint Touched;
        public uint Limited;
    }
}
