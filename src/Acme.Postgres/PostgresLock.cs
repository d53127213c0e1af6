using System;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Errors;
using Npgsql;

namespace Acme.Postgres;

/// <summary>
/// The lock of one item of the state in the database: a session advisory lock on the item's path,
/// held on a connection of its own for as long as the lock is held, so the server releases it when
/// this process (or its host) dies. A certificate's lock also records itself in acme.certificate_lease
/// (owner, until, a fencing token raised on each taking) for the renewal workers to come.
/// </summary>
internal sealed class PostgresLock : IDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly string _item;
    private readonly (string Server, string Name)? _certificate;

    private PostgresLock(NpgsqlConnection connection, string item, (string, string)? certificate)
    {
        _connection = connection;
        _item = item;
        _certificate = certificate;
    }

    public static async Task<IDisposable> AcquireAsync(NpgsqlDataSource source, PostgresAddress address, string item, TimeSpan timeout, CancellationToken cancellationToken)
    {
        NpgsqlConnection connection = PostgresStateFiles.Run(address, () => source.OpenConnection());
        try
        {
            DateTimeOffset deadline = DateTimeOffset.UtcNow + timeout;
            TimeSpan delay = TimeSpan.FromMilliseconds(50);
            while (!PostgresStateFiles.Run(address, () => TryLock(connection, item)))
            {
                if (DateTimeOffset.UtcNow >= deadline)
                {
                    throw new AcmeLocalException(AcmeErrorId.StateLocked,
                        $"'{item}' in {address.Display} is in use by another process or host; gave up after {timeout.TotalSeconds:0} seconds.");
                }

                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(500, delay.TotalMilliseconds * 2));
            }

            string[] parts = item.Split('/');
            (string, string)? certificate = parts.Length == 3 && parts[1] == "certificates" ? (parts[0], parts[2]) : null;
            if (certificate is { } c)
            {
                PostgresStateFiles.Run(address, () => Lease(connection, c.Item1, c.Item2, PostgresStateFiles.Owner, timeout));
            }

            return new PostgresLock(connection, item, certificate);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static bool TryLock(NpgsqlConnection connection, string item)
    {
        using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = item });
        return (bool)command.ExecuteScalar()!;
    }

    private static int Lease(NpgsqlConnection connection, string server, string name, string? owner, TimeSpan? length)
    {
        using var command = new NpgsqlCommand(owner is null
            ? "UPDATE acme.certificate_lease SET lease_owner = NULL, lease_until = NULL WHERE server = $1 AND name = $2"
            : "INSERT INTO acme.certificate_lease AS l (server, name, lease_owner, lease_until, fencing_token) VALUES ($1, $2, $3, now() + $4, 1) " +
              "ON CONFLICT (server, name) DO UPDATE SET lease_owner = $3, lease_until = now() + $4, fencing_token = l.fencing_token + 1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = server });
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        if (owner is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = owner });
            command.Parameters.Add(new NpgsqlParameter { Value = length!.Value < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : length.Value });
        }

        return command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        try
        {
            if (_certificate is { } c)
            {
                Lease(_connection, c.Server, c.Name, null, null);
            }

            using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtextextended($1, 0))", _connection);
            command.Parameters.Add(new NpgsqlParameter { Value = _item });
            command.ExecuteScalar();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // The connection is gone: the server released the lock with it.
        }
        finally
        {
            _connection.Dispose();
        }
    }
}
