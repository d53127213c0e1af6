using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Acme.Protocol.Errors;

namespace Acme.Protocol.ChallengeStores;

/// <summary>
/// A Redis store's connection string, parsed here (not by the Redis client) so that it is checked, and
/// its password kept out of every message, before any Redis code loads:
/// <c>redis://[[user]:password@]host[:port][/database][?prefix=acme:&amp;connectTimeout=5000&amp;tls=true]</c>,
/// or <c>rediss://</c> for TLS (the scheme of the IANA redis and rediss URI registrations). Host and
/// password are percent-decoded; an IPv6 host goes in brackets.
/// </summary>
public sealed class RedisConnectionString
{
    public const int DefaultPort = 6379;
    public const string DefaultPrefix = "acme:";

    private RedisConnectionString(string host, int port)
    {
        Host = host;
        Port = port;
    }

    public string Host { get; }

    public int Port { get; }

    public string? User { get; private set; }

    /// <summary>The password (AUTH); never shown by <see cref="ToString"/>.</summary>
    public string? Password { get; private set; }

    public bool Tls { get; private set; }

    /// <summary>The name the server's TLS certificate must carry (defaults to the host).</summary>
    public string? TlsHost { get; private set; }

    public int Database { get; private set; }

    /// <summary>Put before every key, so several deployments can share one Redis.</summary>
    public string Prefix { get; private set; } = DefaultPrefix;

    public TimeSpan ConnectTimeout { get; private set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one command may take before the store counts as unavailable.</summary>
    public TimeSpan CommandTimeout { get; private set; } = TimeSpan.FromSeconds(5);

    internal static bool IsRedis(string connection) =>
        connection.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || connection.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase);

    public static RedisConnectionString Parse(string connection)
    {
        if (connection is null || !IsRedis(connection.Trim()))
        {
            throw Invalid("it does not start with redis:// or rediss://");
        }

        string text = connection.Trim();
        bool tls = text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase);
        string rest = text.Substring(tls ? 9 : 8);
        string query = string.Empty;
        int q = rest.IndexOf('?');
        if (q >= 0)
        {
            query = rest.Substring(q + 1);
            rest = rest.Substring(0, q);
        }

        string path = string.Empty;
        int slash = rest.IndexOf('/');
        if (slash >= 0)
        {
            path = rest.Substring(slash + 1);
            rest = rest.Substring(0, slash);
        }

        string? user = null;
        string? password = null;
        int at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            string credentials = rest.Substring(0, at);
            rest = rest.Substring(at + 1);
            int colon = credentials.IndexOf(':');
            if (colon >= 0)
            {
                user = Decode(credentials.Substring(0, colon), "user name");
                password = Decode(credentials.Substring(colon + 1), "password");
            }
            else
            {
                // "redis://secret@host": a lone credential is the password (AUTH without a user), as redis-cli reads it.
                password = Decode(credentials, "password");
            }
        }

        (string host, int port) = ParseHostAndPort(rest);
        var result = new RedisConnectionString(host, port)
        {
            Tls = tls,
            User = string.IsNullOrEmpty(user) ? null : user,
            Password = string.IsNullOrEmpty(password) ? null : password,
        };

        if (path.Length > 0)
        {
            if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out int database) || database > 15000)
            {
                throw Invalid($"the database '{Sanitize(path)}' is not a number");
            }

            result.Database = database;
        }

        foreach (KeyValuePair<string, string> option in ParseQuery(query))
        {
            switch (option.Key.ToLowerInvariant())
            {
                case "prefix":
                    result.Prefix = option.Value;
                    break;
                case "tls":
                case "ssl":
                    result.Tls = ParseBool(option.Key, option.Value);
                    break;
                case "sslhost":
                case "tlshost":
                    result.TlsHost = option.Value.Length == 0 ? null : option.Value;
                    break;
                case "db":
                case "database":
                    if (!int.TryParse(option.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int db))
                    {
                        throw Invalid($"the database '{Sanitize(option.Value)}' is not a number");
                    }

                    result.Database = db;
                    break;
                case "connecttimeout":
                    result.ConnectTimeout = ParseMilliseconds(option.Key, option.Value);
                    break;
                case "timeout":
                case "synctimeout":
                case "commandtimeout":
                    result.CommandTimeout = ParseMilliseconds(option.Key, option.Value);
                    break;
                case "password":
                    result.Password = option.Value.Length == 0 ? null : option.Value;
                    break;
                case "user":
                case "username":
                    result.User = option.Value.Length == 0 ? null : option.Value;
                    break;
                default:
                    throw Invalid($"the option '{Sanitize(option.Key)}' is not known (prefix, tls, tlsHost, database, connectTimeout, timeout, user and password are)");
            }
        }

        return result;
    }

    /// <summary>The connection without its password: safe for verbose lines and errors.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(Tls ? "rediss://" : "redis://");
        if (User is not null || Password is not null)
        {
            sb.Append(User is null ? string.Empty : Uri.EscapeDataString(User)).Append(Password is null ? string.Empty : ":***").Append('@');
        }

        sb.Append(Host.IndexOf(':') >= 0 ? "[" + Host + "]" : Host).Append(':').Append(Port.ToString(CultureInfo.InvariantCulture));
        sb.Append('/').Append(Database.ToString(CultureInfo.InvariantCulture));
        if (Prefix != DefaultPrefix)
        {
            sb.Append("?prefix=").Append(Prefix);
        }

        return sb.ToString();
    }

    /// <summary>The string the store is cached by (password included, so it never leaves this class).</summary>
    internal string CacheKey => string.Join("\n", Tls, TlsHost, Host, Port, User, Password, Database, Prefix, ConnectTimeout.Ticks, CommandTimeout.Ticks);

    private static (string Host, int Port) ParseHostAndPort(string text)
    {
        string host;
        string? portText = null;
        if (text.StartsWith("[", StringComparison.Ordinal))
        {
            int close = text.IndexOf(']');
            if (close < 0)
            {
                throw Invalid("the IPv6 address has no closing bracket");
            }

            host = text.Substring(1, close - 1);
            string after = text.Substring(close + 1);
            if (after.Length > 0)
            {
                if (after[0] != ':')
                {
                    throw Invalid("the host is malformed");
                }

                portText = after.Substring(1);
            }
        }
        else
        {
            int colon = text.LastIndexOf(':');
            host = colon >= 0 ? text.Substring(0, colon) : text;
            portText = colon >= 0 ? text.Substring(colon + 1) : null;
        }

        host = Decode(host, "host");
        if (host.Length == 0)
        {
            throw Invalid("it names no host");
        }

        if (Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            throw Invalid($"'{Sanitize(host)}' is not a host name or address");
        }

        int port = DefaultPort;
        if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port < 1 || port > 65535))
        {
            throw Invalid($"the port '{Sanitize(portText)}' is not between 1 and 65535");
        }

        return (host, port);
    }

    private static IEnumerable<KeyValuePair<string, string>> ParseQuery(string query)
    {
        foreach (string pair in query.Split(new[] { '&' }, StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=');
            string key = Decode(eq < 0 ? pair : pair.Substring(0, eq), "option");
            string value = eq < 0 ? "true" : Decode(pair.Substring(eq + 1), "option value");
            yield return new KeyValuePair<string, string>(key, value);
        }
    }

    private static bool ParseBool(string key, string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw Invalid($"the option {Sanitize(key)} takes true or false"),
    };

    private static TimeSpan ParseMilliseconds(string key, string value)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int ms) || ms < 1 || ms > 600000)
        {
            throw Invalid($"the option {Sanitize(key)} takes milliseconds between 1 and 600000");
        }

        return TimeSpan.FromMilliseconds(ms);
    }

    private static string Decode(string text, string what)
    {
        try
        {
            return Uri.UnescapeDataString(text);
        }
        catch (UriFormatException)
        {
            // Never echo the text: it may be the password.
            throw Invalid($"the {what} is not valid percent-encoding");
        }
    }

    /// <summary>At most 40 printable characters of something the user typed, for a message.</summary>
    private static string Sanitize(string text)
    {
        var sb = new StringBuilder();
        foreach (char c in text)
        {
            if (sb.Length == 40)
            {
                sb.Append("...");
                break;
            }

            sb.Append(c < 0x20 || c == 0x7f ? '?' : c);
        }

        return sb.ToString();
    }

    private static AcmeArgumentException Invalid(string why) =>
        new(AcmeErrorId.InvalidStore, $"The Redis connection string is not valid: {why}. Expected redis://[[user]:password@]host[:port][/database][?prefix=acme:], or rediss:// for TLS.");
}
