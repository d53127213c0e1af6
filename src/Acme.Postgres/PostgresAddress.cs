using System;
using System.Collections.Generic;
using Acme.Protocol.Model;
using Acme.Protocol.Errors;
using Acme.Protocol.State;
using Npgsql;

namespace Acme.Postgres;

/// <summary>
/// postgres://user:password@host:port/database?sslmode=require&amp;... as an Npgsql connection string.
/// The password lives only in the connection string given to Npgsql; everything shown is <see cref="Display"/>.
/// </summary>
internal sealed class PostgresAddress
{
    private static readonly Dictionary<string, string> s_options = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sslmode"] = "SSL Mode",
        ["sslrootcert"] = "Root Certificate",
        ["connect_timeout"] = "Timeout",
        ["application_name"] = "Application Name",
        ["command_timeout"] = "Command Timeout",
        ["pooling"] = "Pooling",
        ["maxpoolsize"] = "Maximum Pool Size",
    };

    public PostgresAddress(string address)
    {
        Display = PostgresUrl.Mask(address);
        if (!Uri.TryCreate(address, UriKind.Absolute, out Uri? uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw Invalid("it is not a postgres://user:password@host:port/database address");
        }

        string database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length == 0 || database.Contains("/"))
        {
            throw Invalid("it names no database (postgres://user:password@host:port/database)");
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = database,
            Timeout = 15,
            ApplicationName = "Acme",
        };
        string[] user = uri.UserInfo.Split(new[] { ':' }, 2);
        if (user[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(user[0]);
        }

        if (user.Length > 1)
        {
            builder.Password = Uri.UnescapeDataString(user[1]);
        }

        foreach (string pair in uri.Query.TrimStart('?').Split(new[] { '&' }, StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split(new[] { '=' }, 2);
            string key = Uri.UnescapeDataString(kv[0]);
            string value = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : string.Empty;
            if (!s_options.TryGetValue(key, out string? keyword))
            {
                throw Invalid($"the option '{key}' is not known (use {string.Join(", ", s_options.Keys)})");
            }

            if (keyword == "SSL Mode")
            {
                // libpq's spelling (verify-full) as Npgsql's (VerifyFull).
                value = value.Replace("-", string.Empty);
            }

            try
            {
                builder[keyword] = value;
            }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
            {
                throw Invalid($"the option '{key}' cannot be '{value}'");
            }
        }

        ConnectionString = builder.ConnectionString;
        Host = builder.Host!;
        Port = builder.Port;
    }

    /// <summary>The address without its password.</summary>
    public string Display { get; }

    public string ConnectionString { get; }

    public string Host { get; }

    public int Port { get; }

    private AcmeArgumentException Invalid(string why) =>
        new(AcmeErrorId.InvalidStatePath, $"The state address {Display} cannot be used: {why}.");
}
