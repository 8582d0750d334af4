namespace AnycastDns.Fuzz;

/// <summary>One fuzz target: takes any octets, and throws <see cref="FuzzFinding"/> (or anything else) when they break a rule.</summary>
internal abstract class FuzzTarget
{
    public static readonly string[] Names = ["respond", "edns", "zonefile"];

    public static FuzzTarget? Create(string name) => name switch
    {
        "respond" => new RespondTarget(),
        "edns" => new EdnsTarget(),
        "zonefile" => new ZoneFileTarget(),
        _ => null,
    };

    public abstract void Run(ReadOnlySpan<byte> input);
}

/// <summary>A rule of a target that an input broke: afl-fuzz counts it as a crash, the replay prints it.</summary>
internal sealed class FuzzFinding : Exception
{
    public FuzzFinding(string message)
        : base(message)
    {
    }

    public FuzzFinding(string message, Exception inner)
        : base(message, inner)
    {
    }

    public FuzzFinding()
    {
    }

    /// <summary>Throws when <paramref name="rule"/> does not hold.</summary>
    public static void Require(bool rule, string message)
    {
        if (!rule)
        {
            throw new FuzzFinding(message);
        }
    }
}
