using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.Errors;
using Npgsql;

namespace Acme.Postgres;

/// <summary>
/// Challenge answers (acme.challenge_answer) and certificate leases (acme.certificate_lease) in the
/// state database. A lease is one row per certificate name, taken in one statement
/// (INSERT ... ON CONFLICT DO UPDATE ... WHERE free RETURNING) only when it is free; every time is the
/// database's now(), never this host's clock. Each take raises the row's fencing token; a release
/// names owner and token. The holder keeps a connection of its own open for the lease, and a lease
/// whose holder's session is gone (the process died) is free at once (<see cref="PostgresLeaseSql"/>).
/// </summary>
public sealed class PostgresChallengeStore : IChallengeStore
{
    private static readonly ConcurrentDictionary<string, PostgresChallengeStore> s_stores = new(StringComparer.Ordinal);

    private readonly PostgresAddress _address;
    private readonly NpgsqlDataSource _source;

    private PostgresChallengeStore(PostgresAddress address, NpgsqlDataSource source)
    {
        _address = address;
        _source = source;
    }

    public string Description => _address.Display;

    /// <summary>Called by Acme.Protocol's loader through reflection, so Npgsql loads only when a postgres:// store is used.</summary>
    public static IChallengeStore Open(string address)
    {
        PostgresAddress parsed;
        try
        {
            parsed = new PostgresAddress(address);
        }
        catch (AcmeArgumentException e)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidStore, e.Message.Replace("state address", "store address"), e);
        }

        return For(parsed, PostgresStateFiles.SourceFor(parsed));
    }

    internal static PostgresChallengeStore For(PostgresAddress address, NpgsqlDataSource source) =>
        s_stores.GetOrAdd(address.ConnectionString, _ => new PostgresChallengeStore(address, source));

    public Task PublishAsync(string token, string keyAuthorization, DateTimeOffset expires, CancellationToken cancellationToken) => Run("publishing an answer", c =>
    {
        using NpgsqlBatch batch = c.CreateBatch();
        batch.BatchCommands.Add(Command("DELETE FROM acme.challenge_answer WHERE expires <= now()"));
        batch.BatchCommands.Add(Command(
            "INSERT INTO acme.challenge_answer (token, key_authorization, expires) VALUES ($1, $2, $3) " +
            "ON CONFLICT (token) DO UPDATE SET key_authorization = EXCLUDED.key_authorization, expires = EXCLUDED.expires",
            token, keyAuthorization, expires.UtcDateTime));
        return batch.ExecuteNonQuery();
    });

    public Task<string?> GetKeyAuthorizationAsync(string token, CancellationToken cancellationToken) => Run("looking up an answer", c =>
    {
        using NpgsqlCommand command = Prepare(c, "SELECT key_authorization FROM acme.challenge_answer WHERE token = $1 AND expires > now()", token);
        return command.ExecuteScalar() as string;
    });

    public Task RemoveAsync(string token, CancellationToken cancellationToken) => Run("removing an answer", c =>
    {
        using NpgsqlCommand command = Prepare(c, "DELETE FROM acme.challenge_answer WHERE token = $1 OR expires <= now()", token);
        return command.ExecuteNonQuery();
    });

    public Task CheckAsync(CancellationToken cancellationToken) => Run("checking the store", c =>
    {
        using NpgsqlCommand command = Prepare(c, "SELECT count(*) FROM acme.challenge_answer WHERE false UNION ALL SELECT count(*) FROM acme.certificate_lease WHERE false");
        return command.ExecuteNonQuery();
    });

    public Task<StoreLockAttempt> TryLockAsync(string name, string owner, TimeSpan lease, CancellationToken cancellationToken) =>
        Task.FromResult(Wrap("taking a lease", () =>
        {
            NpgsqlConnection holder = _source.OpenConnection();
            try
            {
                (long? token, string? heldBy, DateTime? until) = PostgresLeaseSql.Take(holder, Key(name), owner, lease);
                if (token is long t)
                {
                    PostgresLeases.Hold(_address.ConnectionString, Key(name), owner, t, holder);
                    return StoreLockAttempt.Taken;
                }

                holder.Dispose();
                return StoreLockAttempt.HeldBy(heldBy, until is DateTime u ? new DateTimeOffset(DateTime.SpecifyKind(u, DateTimeKind.Utc)) : null);
            }
            catch
            {
                holder.Dispose();
                throw;
            }
        }));

    public Task<bool> ReleaseLockAsync(string name, string owner, CancellationToken cancellationToken) =>
        Task.FromResult(Wrap("releasing a lease", () =>
        {
            PostgresLeases.Held? held = PostgresLeases.Drop(_address.ConnectionString, Key(name), owner);
            if (held is null)
            {
                return false;
            }

            try
            {
                using NpgsqlConnection connection = _source.OpenConnection();
                return PostgresLeaseSql.Release(connection, Key(name), owner, held.Token);
            }
            finally
            {
                held.Connection.Dispose();
            }
        }));

    /// <summary>Certificate names are case-insensitive, as in the Redis store.</summary>
    internal static string Key(string name) => name.ToLowerInvariant();

    private Task<T> Run<T>(string what, Func<NpgsqlConnection, T> work) => Task.FromResult(Wrap(what, () =>
    {
        using NpgsqlConnection connection = _source.OpenConnection();
        return work(connection);
    }));

    /// <summary>The database's failures as the store's: unreachable is AcmeStoreUnavailable, a missing table AcmeStateSchemaMissing.</summary>
    private T Wrap<T>(string what, Func<T> work)
    {
        try
        {
            return PostgresStateFiles.Run(_address, work);
        }
        catch (AcmeLocalException e) when (e.Id is AcmeErrorId.StateDatabaseUnavailable or AcmeErrorId.StateDatabaseFailed)
        {
            throw new AcmeLocalException(AcmeErrorId.StoreUnavailable, $"The challenge store {Description} is unavailable ({what}): {e.Message}", e);
        }
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (object value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }

    private static NpgsqlCommand Prepare(NpgsqlConnection connection, string sql, params object[] values)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (object value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }
}
