using System;
using System.Text.RegularExpressions;

namespace Acme.Protocol.Model;

/// <summary>
/// A postgres:// (or postgresql://) address as the state and the challenge stores take it: telling one
/// apart, and showing it without its password in every message, error and StatePath.
/// </summary>
public static class PostgresUrl
{
    private static readonly Regex s_password = new("^(?<scheme>postgres(?:ql)?://)(?<user>[^:@/]*):[^@/]*@", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

    /// <summary>True for a postgres:// (or postgresql://) address.</summary>
    public static bool IsAddress(string? path) =>
        path is not null && (path.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || path.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase));

    /// <summary>The address without its password (postgres://user@host:port/db).</summary>
    public static string Mask(string? address) => address is null ? string.Empty : s_password.Replace(address, "${scheme}${user}@");
}
