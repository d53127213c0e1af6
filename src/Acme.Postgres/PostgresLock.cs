using System;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Errors;
using Npgsql;

namespace Acme.Postgres;

/// <summary>
/// The lock of one item of the state in the database: a session advisory lock on the item's path,
/// held on a connection of its own for as long as the lock is held, so the server releases it when
/// this process (or its host) dies. A certificate this process holds a lease on (PostgresLeases) is
/// locked only while the lease's fencing token is still this process's: a late writer whose lease
/// lapsed and was taken by another host gets AcmeCertificateLeaseLost and writes nothing.
/// </summary>
internal sealed class PostgresLock : IDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly string _item;

    private PostgresLock(NpgsqlConnection connection, string item)
    {
        _connection = connection;
        _item = item;
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

            var held = new PostgresLock(connection, item);
            string[] parts = item.Split('/');
            if (parts.Length == 3 && parts[1] == "certificates")
            {
                try
                {
                    PostgresStateFiles.Run(address, () =>
                    {
                        PostgresLeases.CheckStillHeld(connection, address, PostgresChallengeStore.Key(parts[2]));
                        return 0;
                    });
                }
                catch
                {
                    held.Dispose();
                    throw;
                }
            }

            return held;
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

    public void Dispose()
    {
        try
        {
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
