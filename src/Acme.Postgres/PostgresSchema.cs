using System;
using System.Collections.Generic;
using Acme.Protocol.Errors;
using Npgsql;

namespace Acme.Postgres;

/// <summary>
/// The schema "acme", versioned in acme.schema_version and migrated forward one step at a time by
/// Initialize-AcmeStateStore (idempotent: each step runs once, under a transaction-scoped advisory lock
/// so two hosts initializing at once do not race).
/// </summary>
/// <remarks>
/// acme.item holds the state's items by path (&lt;server&gt;/accounts/&lt;name&gt;/account.json,
/// &lt;server&gt;/certificates/&lt;name&gt;/&lt;thumbprint&gt;/fullchain.pem, ...: the layout of the state
/// folder, so every step works the same on both). acme.current_certificate is the contract a proxy reads;
/// NOTIFY acme_certificate carries a certificate's name each time its current version changes.
/// acme.certificate_lease holds one lease per certificate name (PostgresLeaseSql), acme.challenge_answer the http-01 answers.
/// </remarks>
internal static class PostgresSchema
{
    /// <summary>The newest schema this module knows; a database at a higher version is refused.</summary>
    public const int Version = 2;

    private const long InitializeLockKey = 0x41434D45_53544154; // "ACMESTAT"

    private static readonly string[] s_migrations =
    {
        // 1: items, settings, leases, the proxy's view and the notification.
        """
        CREATE TABLE acme.item (
            path        text PRIMARY KEY,
            parent      text NOT NULL,
            name        text NOT NULL,
            is_folder   boolean NOT NULL,
            is_key      boolean NOT NULL DEFAULT false,
            content     text,
            updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        CREATE INDEX item_parent ON acme.item (parent);
        CREATE TABLE acme.setting (
            name   text PRIMARY KEY,
            value  text NOT NULL
        );
        CREATE TABLE acme.certificate_lease (
            server         text NOT NULL,
            name           text NOT NULL,
            lease_owner    text,
            lease_until    timestamptz,
            fencing_token  bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (server, name)
        );
        CREATE VIEW acme.current_certificate AS
            SELECT split_part(c.path, '/', 3) AS name,
                   split_part(c.path, '/', 1) AS server,
                   (j.content::json ->> 'notAfter')::timestamptz AS not_after,
                   f.content AS fullchain_pem,
                   k.content AS key_pem_encrypted,
                   greatest(c.updated_at, f.updated_at) AS updated_at
              FROM acme.item c
              JOIN acme.item f ON f.path = c.parent || '/' || btrim(c.content, E' \n') || '/fullchain.pem'
              LEFT JOIN acme.item j ON j.path = c.parent || '/' || btrim(c.content, E' \n') || '/certificate.json'
              LEFT JOIN acme.item k ON k.path = c.parent || '/' || btrim(c.content, E' \n') || '/key.pem'
             WHERE c.name = 'current' AND NOT c.is_folder AND split_part(c.path, '/', 2) = 'certificates';
        CREATE FUNCTION acme.notify_certificate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('acme_certificate', split_part(NEW.path, '/', 3));
            RETURN NEW;
        END $$;
        CREATE TRIGGER item_current_insert AFTER INSERT ON acme.item FOR EACH ROW
            WHEN (NEW.name = 'current' AND NOT NEW.is_folder AND split_part(NEW.path, '/', 2) = 'certificates')
            EXECUTE FUNCTION acme.notify_certificate();
        CREATE TRIGGER item_current_update AFTER UPDATE ON acme.item FOR EACH ROW
            WHEN (NEW.name = 'current' AND NOT NEW.is_folder AND split_part(NEW.path, '/', 2) = 'certificates'
                  AND OLD.content IS DISTINCT FROM NEW.content)
            EXECUTE FUNCTION acme.notify_certificate();
        """,

        // 2: challenge answers, and the lease table as the leases of New-AcmeOrder (one row per
        // certificate name, its times the database's, the holder's session to free it when it dies);
        // version 1 wrote a row per lock of the state, which nothing read.
        """
        DROP TABLE acme.certificate_lease;
        CREATE TABLE acme.certificate_lease (
            name            text PRIMARY KEY,
            lease_owner     text,
            lease_until     timestamptz,
            taken_at        timestamptz,
            fencing_token   bigint NOT NULL DEFAULT 0,
            holder_pid      integer,
            holder_started  timestamptz
        );
        CREATE TABLE acme.challenge_answer (
            token              text PRIMARY KEY,
            key_authorization  text NOT NULL,
            expires            timestamptz NOT NULL
        );
        CREATE INDEX challenge_answer_expires ON acme.challenge_answer (expires);
        """,
    };

    /// <summary>The schema's version in the database: 0 when there is none.</summary>
    public static int Read(NpgsqlConnection connection)
    {
        using var command = new NpgsqlCommand("SELECT to_regclass('acme.schema_version') IS NOT NULL", connection);
        if (!(bool)command.ExecuteScalar()!)
        {
            return 0;
        }

        using var version = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM acme.schema_version", connection);
        return Convert.ToInt32(version.ExecuteScalar());
    }

    /// <summary>Brings the schema to <see cref="Version"/>; returns the versions before and after.</summary>
    public static int[] Migrate(NpgsqlConnection connection, string where, bool allowPlaintextKeys)
    {
        using NpgsqlTransaction transaction = connection.BeginTransaction();
        Execute(connection, $"SELECT pg_advisory_xact_lock({InitializeLockKey})");
        Execute(connection, "CREATE SCHEMA IF NOT EXISTS acme");
        Execute(connection, "CREATE TABLE IF NOT EXISTS acme.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now(), module_version text)");
        int before = Read(connection);
        CheckNotNewer(before, where);
        string module = typeof(PostgresSchema).Assembly.GetName().Version?.ToString() ?? "0";
        for (int v = before + 1; v <= Version; v++)
        {
            Execute(connection, s_migrations[v - 1]);
            using var record = new NpgsqlCommand("INSERT INTO acme.schema_version (version, module_version) VALUES ($1, $2)", connection);
            record.Parameters.Add(new NpgsqlParameter { Value = v });
            record.Parameters.Add(new NpgsqlParameter { Value = module });
            record.ExecuteNonQuery();
        }

        if (allowPlaintextKeys)
        {
            Execute(connection, "INSERT INTO acme.setting (name, value) VALUES ('allow_plaintext_keys', 'true') ON CONFLICT (name) DO UPDATE SET value = 'true'");
        }

        transaction.Commit();
        return new[] { before, Version };
    }

    public static void CheckNotNewer(int version, string where)
    {
        if (version > Version)
        {
            throw new AcmeLocalException(AcmeErrorId.StateSchemaNewer,
                $"The schema in {where} is at version {version}, newer than this module's ({Version}); it was made by a later module version.");
        }
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
