using AnycastDns.Zones;

namespace AnycastDns.Authority;

/// <summary>
/// The zone snapshot the responder reads. Replacing <see cref="Current"/> swaps every zone at once; a query that
/// already holds the old snapshot finishes on it.
/// </summary>
public sealed class ZoneSetHolder(ZoneSet initial)
{
    private ZoneSet _current = initial;

    public ZoneSet Current
    {
        get => Volatile.Read(ref _current);
        set => Volatile.Write(ref _current, value);
    }
}
