using System;
using System.Collections.Concurrent;
using Acme.Protocol.Errors;
using Npgsql;

namespace Acme.Postgres;

/// <summary>
/// The lease statements. A lease is free when it has no owner, when its lease_until has passed by the
/// database's clock, when it claims a time the database has not reached (taken_at in the future, or
/// longer than a day: what a host whose clock runs ahead would write if it used its own), or when the
/// session that took it is gone (its backend pid and start no longer in pg_stat_activity).
/// </summary>
internal static class PostgresLeaseSql
{
    /// <summary>No lease is trusted for longer than this from its taking, whatever its row says.</summary>
    internal static readonly TimeSpan Longest = TimeSpan.FromDays(1);

    // "In the future" is judged by clock_timestamp(), not now(): now() is when the taking statement began, and a
    // take that waited on the row of another host's take just committed began before that row's taken_at, so with
    // now() it took a live lease away (the race test in PostgresStore.Tests.ps1 caught it: LeaseLost, not Locked).
    private const string Free =
        "l.lease_owner IS NULL OR l.lease_until IS NULL OR l.taken_at IS NULL OR l.lease_until <= now() OR l.taken_at > clock_timestamp() " +
        "OR l.lease_until > l.taken_at + interval '1 day' " +
        "OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.holder_pid AND a.backend_start = l.holder_started)";

    private const string TakeSql =
        "INSERT INTO acme.certificate_lease AS l (name, lease_owner, lease_until, taken_at, fencing_token, holder_pid, holder_started) " +
        "VALUES ($1, $2, now() + $3, now(), 1, pg_backend_pid(), (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())) " +
        "ON CONFLICT (name) DO UPDATE SET lease_owner = EXCLUDED.lease_owner, lease_until = EXCLUDED.lease_until, taken_at = EXCLUDED.taken_at, " +
        "fencing_token = l.fencing_token + 1, holder_pid = EXCLUDED.holder_pid, holder_started = EXCLUDED.holder_started " +
        "WHERE " + Free + " RETURNING l.fencing_token";

    /// <summary>Takes the lease on <paramref name="holder"/> (kept open by the caller while it holds it): its fencing token, or who holds it and until when.</summary>
    public static (long? Token, string? Holder, DateTime? Until) Take(NpgsqlConnection holder, string name, string owner, TimeSpan length)
    {
        TimeSpan lease = length < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : length > Longest ? Longest : length;
        using (var take = new NpgsqlCommand(TakeSql, holder))
        {
            take.Parameters.Add(new NpgsqlParameter { Value = name });
            take.Parameters.Add(new NpgsqlParameter { Value = owner });
            take.Parameters.Add(new NpgsqlParameter { Value = lease });
            if (take.ExecuteScalar() is long token)
            {
                return (token, null, null);
            }
        }

        using var read = new NpgsqlCommand("SELECT lease_owner, lease_until FROM acme.certificate_lease WHERE name = $1", holder);
        read.Parameters.Add(new NpgsqlParameter { Value = name });
        using NpgsqlDataReader reader = read.ExecuteReader();
        return reader.Read()
            ? (null, reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetDateTime(1).ToUniversalTime())
            : (null, null, null);
    }

    /// <summary>Frees the lease if <paramref name="owner"/> still holds it with <paramref name="token"/>.</summary>
    public static bool Release(NpgsqlConnection connection, string name, string owner, long token)
    {
        using var command = new NpgsqlCommand(
            "UPDATE acme.certificate_lease SET lease_owner = NULL, lease_until = NULL, holder_pid = NULL, holder_started = NULL " +
            "WHERE name = $1 AND lease_owner = $2 AND fencing_token = $3", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        command.Parameters.Add(new NpgsqlParameter { Value = owner });
        command.Parameters.Add(new NpgsqlParameter { Value = token });
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>The fencing token the lease row has now, and its owner (null: no row).</summary>
    public static (long Token, string? Owner)? Current(NpgsqlConnection connection, string name)
    {
        using var command = new NpgsqlCommand("SELECT fencing_token, lease_owner FROM acme.certificate_lease WHERE name = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        using NpgsqlDataReader reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1)) : null;
    }
}

/// <summary>The leases this process holds, by database and certificate name: their owner, token and the connection that keeps them.</summary>
internal static class PostgresLeases
{
    private static readonly ConcurrentDictionary<string, Held> s_held = new(StringComparer.Ordinal);

    internal sealed class Held
    {
        public Held(string owner, long token, NpgsqlConnection connection)
        {
            Owner = owner;
            Token = token;
            Connection = connection;
        }

        public string Owner { get; }

        public long Token { get; }

        public NpgsqlConnection Connection { get; }
    }

    public static void Hold(string database, string name, string owner, long token, NpgsqlConnection connection)
    {
        var held = new Held(owner, token, connection);
        s_held.AddOrUpdate(database + "\n" + name, held, (_, old) =>
        {
            old.Connection.Dispose();
            return held;
        });
    }

    public static Held? Drop(string database, string name, string owner)
    {
        string key = database + "\n" + name;
        return s_held.TryGetValue(key, out Held? held) && held.Owner == owner && s_held.TryRemove(key, out held) ? held : null;
    }

    /// <summary>
    /// Before a write to a certificate this process leased: fails with AcmeCertificateLeaseLost when the
    /// lease row's token is no longer the one this process took (the lease lapsed and another host took it).
    /// </summary>
    public static void CheckStillHeld(NpgsqlConnection connection, PostgresAddress address, string name)
    {
        if (!s_held.TryGetValue(address.ConnectionString + "\n" + name, out Held? held))
        {
            return;
        }

        (long Token, string? Owner)? now = Current(connection, name);
        long token = now?.Token ?? 0;
        if (token != held.Token)
        {
            string by = now?.Owner is string o ? "process " + o : "another host";
            throw new AcmeLocalException(AcmeErrorId.CertificateLeaseLost,
                $"The lease on {name} in {address.Display} was taken by {by} (fencing token {token}, " +
                $"this process held {held.Token}) after it lapsed; nothing was written.");
        }
    }

    private static (long Token, string? Owner)? Current(NpgsqlConnection connection, string name) => PostgresLeaseSql.Current(connection, name);
}
