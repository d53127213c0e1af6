using System;
using System.Net.Sockets;
using Acme.Protocol.Errors;
using Npgsql;

namespace Acme.Postgres;

/// <summary>Npgsql's failures as the state's error ids; the messages name the address without its password.</summary>
internal static class PostgresErrors
{
    public static AcmeLocalException From(PostgresAddress address, Exception e)
    {
        if (e is PostgresException pg)
        {
            string detail = $"{pg.SqlState}: {pg.MessageText}";
            return pg.SqlState switch
            {
                "28P01" or "28000" => new AcmeLocalException(AcmeErrorId.StateDatabaseAuthenticationFailed,
                    $"The database {address.Display} refused the login ({detail}).", e),
                "3D000" => new AcmeLocalException(AcmeErrorId.StateDatabaseUnavailable, $"The database {address.Display} does not exist ({detail}).", e),
                "42P01" or "3F000" => new AcmeLocalException(AcmeErrorId.StateSchemaMissing,
                    $"The database {address.Display} lacks part of the Acme schema ({detail}).", e),
                "57P01" or "57P02" or "57P03" or "08006" or "08001" => new AcmeLocalException(AcmeErrorId.StateDatabaseUnavailable,
                    $"The database {address.Display} is not available ({detail}).", e),
                _ => new AcmeLocalException(AcmeErrorId.StateDatabaseFailed, $"The database {address.Display} failed ({detail}).", e),
            };
        }

        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return new AcmeLocalException(AcmeErrorId.StateDatabaseUnavailable,
                    $"Could not reach the database at {address.Host}:{address.Port} ({address.Display}): {socket.Message}", e);
            }
        }

        return e is TimeoutException || (e is NpgsqlException n && n.IsTransient)
            ? new AcmeLocalException(AcmeErrorId.StateDatabaseUnavailable, $"The database {address.Display} did not answer: {e.Message}", e)
            : new AcmeLocalException(AcmeErrorId.StateDatabaseFailed, $"The database {address.Display} failed: {e.Message}", e);
    }
}
