namespace AnycastDns.Zones;

/// <summary>What zone loading checks beyond the data itself: how close to expiry a signature may come before it is reported.</summary>
public sealed record ZoneLoadOptions
{
    public static readonly ZoneLoadOptions Default = new();

    /// <summary>
    /// An RRSIG that expires within this span of the load is a warning (one that has expired is one too): a zone
    /// signed offline must be re-signed and redeployed before validators start to reject it (RFC 4035 §5.3.1).
    /// </summary>
    public TimeSpan SignatureExpiryWarning { get; init; } = TimeSpan.FromDays(7);

    /// <summary>The clock the signature times are compared with.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}
