using AnycastDns.Protocol;
using AnycastDns.Protocol.Tsig;

namespace AnycastDns.Server.Transfers;

/// <summary>
/// Who may transfer zones (<c>Transfers:Allow</c>): address prefixes (<c>192.0.2.0/24</c>, <c>2001:db8::/48</c>,
/// <c>127.0.0.1</c>) and TSIG keys (<c>key:transfer-key</c>: any client whose request verified with that key). A
/// transfer is allowed when one entry matches; an empty list allows nobody.
/// </summary>
public sealed class TransferAllowList
{
    public const string KeyPrefix = "key:";

    public static readonly TransferAllowList Nobody = new([], []);

    private readonly AddressPrefix[] _prefixes;
    private readonly DnsName[] _keys;

    private TransferAllowList(AddressPrefix[] prefixes, DnsName[] keys)
    {
        _prefixes = prefixes;
        _keys = keys;
    }

    public IReadOnlyList<AddressPrefix> Prefixes => _prefixes;

    /// <summary>The key names entries allow, lower case.</summary>
    public IReadOnlyList<DnsName> Keys => _keys;

    public bool IsEmpty => _prefixes.Length == 0 && _keys.Length == 0;

    /// <summary>Parses the entries; throws <see cref="FormatException"/> with one line naming the bad entry.</summary>
    public static TransferAllowList Parse(IEnumerable<string> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var prefixes = new List<AddressPrefix>();
        var keys = new List<DnsName>();
        foreach (string raw in entries)
        {
            string entry = raw.Trim();
            if (entry.Length == 0)
            {
                continue;
            }
            if (entry.StartsWith(KeyPrefix, StringComparison.OrdinalIgnoreCase))
            {
                string name = entry[KeyPrefix.Length..].Trim();
                if (name.Length == 0 || !DnsName.TryParse(name.EndsWith('.') ? name : name + ".", null, out var keyName, out string? error))
                {
                    throw new FormatException($"'{entry}' does not name a TSIG key (expected key:<name>)");
                }
                keys.Add(keyName.ToLowerCase());
                continue;
            }
            try
            {
                prefixes.Add(AddressPrefix.Parse(entry));
            }
            catch (FormatException e)
            {
                throw new FormatException($"'{entry}' is neither an address prefix nor key:<name> ({e.Message})", e);
            }
        }
        return new TransferAllowList([.. prefixes], [.. keys]);
    }

    /// <summary>
    /// Whether a client at <paramref name="address"/> (4 or 16 octets) whose request verified with <paramref name="key"/>
    /// (null: unsigned) may transfer.
    /// </summary>
    public bool Allows(ReadOnlySpan<byte> address, TsigKey? key)
    {
        foreach (var prefix in _prefixes)
        {
            if (prefix.Contains(address))
            {
                return true;
            }
        }
        if (key is not null)
        {
            foreach (var name in _keys)
            {
                if (name.Equals(key.Name))
                {
                    return true;
                }
            }
        }
        return false;
    }

    public override string ToString() =>
        IsEmpty ? "nobody" : string.Join(", ", _prefixes.Select(p => p.ToString()).Concat(_keys.Select(k => KeyPrefix + k)));
}
