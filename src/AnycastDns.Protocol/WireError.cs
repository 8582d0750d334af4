namespace AnycastDns.Protocol;

/// <summary>Why a message or a name on the wire could not be read. Every malformed input maps to one of these.</summary>
public enum WireError
{
    None = 0,
    /// <summary>The data ends inside a field.</summary>
    Truncated,
    /// <summary>A compression pointer points forward, at itself, or into a loop (RFC 1035 §4.1.4 allows only prior occurrences).</summary>
    BadPointer,
    /// <summary>A label length above 63 (RFC 1035 §2.3.4).</summary>
    LabelTooLong,
    /// <summary>A name above 255 octets (RFC 1035 §2.3.4).</summary>
    NameTooLong,
    /// <summary>Label types 0b01/0b10 (RFC 6891 §5 retired extended labels).</summary>
    BadLabelType,
    /// <summary>Octets left over where none may be.</summary>
    TrailingData,
    /// <summary>RDATA whose content does not match its TYPE's format.</summary>
    BadRdata,
    /// <summary>More than one OPT record, or an OPT outside the additional section or not owned by the root (RFC 6891 §6.1.1).</summary>
    BadOpt,
}

/// <summary>Thrown by the allocating, convenience side of the codec; the hot path returns <see cref="WireError"/> instead.</summary>
public sealed class DnsFormatException : Exception
{
    public DnsFormatException(WireError error)
        : base(Describe(error))
    {
        Error = error;
    }

    public DnsFormatException(WireError error, string message)
        : base(message)
    {
        Error = error;
    }

    public DnsFormatException()
        : this(WireError.BadRdata)
    {
    }

    public DnsFormatException(string message)
        : this(WireError.BadRdata, message)
    {
    }

    public DnsFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Error = WireError.BadRdata;
    }

    public WireError Error { get; }

    public static string Describe(WireError error) => error switch
    {
        WireError.Truncated => "message truncated",
        WireError.BadPointer => "bad compression pointer (forward, self or loop)",
        WireError.LabelTooLong => "label longer than 63 octets",
        WireError.NameTooLong => "name longer than 255 octets",
        WireError.BadLabelType => "unsupported label type",
        WireError.TrailingData => "trailing data",
        WireError.BadRdata => "malformed RDATA",
        WireError.BadOpt => "malformed or repeated OPT record",
        _ => error.ToString(),
    };
}
