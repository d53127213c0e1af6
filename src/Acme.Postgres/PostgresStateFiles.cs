using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Errors;
using Acme.Protocol.State;
using Npgsql;

namespace Acme.Postgres;

/// <summary>
/// The state in PostgreSQL: each item of the state's layout a row of acme.item, written in one
/// statement (committed when the call returns, so a key is in the database before the CA sees it),
/// folders explicit rows, locks session advisory locks held on a connection of their own (released by
/// the server when this process dies), certificate leases in acme.certificate_lease (<see cref="PostgresChallengeStore"/>).
/// </summary>
public sealed class PostgresStateFiles : IStateFiles
{
    private const string Virtual = "/acme-state";

    private static readonly ConcurrentDictionary<string, NpgsqlDataSource> s_sources = new(StringComparer.Ordinal);

    private readonly PostgresAddress _address;
    private readonly NpgsqlDataSource _source;

    private PostgresStateFiles(PostgresAddress address, bool allowsPlaintextKeys, NpgsqlDataSource source)
    {
        _address = address;
        _source = source;
        AllowsPlaintextKeys = allowsPlaintextKeys;
    }

    /// <summary>
    /// Opens the state at the address (one pool per address and process); each open checks that the
    /// schema is there and not newer than this module, so a process that lives on sees a later migration.
    /// </summary>
    public static IStateFiles Open(string address)
    {
        var parsed = new PostgresAddress(address);
        NpgsqlDataSource source = SourceFor(parsed);
        bool plaintext = Run(parsed, () =>
        {
            using NpgsqlConnection connection = source.OpenConnection();
            int version = PostgresSchema.Read(connection);
            if (version == 0)
            {
                throw new AcmeLocalException(AcmeErrorId.StateSchemaMissing, $"The database {parsed.Display} has no Acme schema (acme.schema_version).");
            }

            PostgresSchema.CheckNotNewer(version, parsed.Display);
            using var setting = new NpgsqlCommand("SELECT value FROM acme.setting WHERE name = 'allow_plaintext_keys'", connection);
            return setting.ExecuteScalar() as string == "true";
        });
        return new PostgresStateFiles(parsed, plaintext, source);
    }

    /// <summary>Creates or migrates the schema (Initialize-AcmeStateStore); the versions before and after.</summary>
    public static int[] Initialize(string address, bool allowPlaintextKeys)
    {
        var parsed = new PostgresAddress(address);
        NpgsqlDataSource source = SourceFor(parsed);
        return Run(parsed, () =>
        {
            using NpgsqlConnection connection = source.OpenConnection();
            return PostgresSchema.Migrate(connection, parsed.Display, allowPlaintextKeys);
        });
    }

    /// <summary>The pool of an address, one per process (the state and the challenge store share it).</summary>
    internal static NpgsqlDataSource SourceFor(PostgresAddress address) =>
        s_sources.GetOrAdd(address.ConnectionString, c => NpgsqlDataSource.Create(c));

    public string Root => _address.Display;

    /// <summary>The certificate leases in this database, which New-AcmeOrder takes when no other lock store is given.</summary>
    public Acme.Protocol.ChallengeStores.IChallengeStore? Leases => PostgresChallengeStore.For(_address, _source);

    public string PathRoot => Virtual;

    public bool AllowsPlaintextKeys { get; }

    public string? ReadText(string path) =>
        Scalar("SELECT content FROM acme.item WHERE path = $1 AND NOT is_folder", Relative(path)) as string;

    public void WriteText(string path, string content, bool ownerOnly)
    {
        string item = Relative(path);
        Execute(c =>
        {
            using NpgsqlBatch batch = c.CreateBatch();
            AddFolders(batch, Parent(item));
            batch.BatchCommands.Add(Command(
                "INSERT INTO acme.item (path, parent, name, is_folder, is_key, content) VALUES ($1, $2, $3, false, $4, $5) " +
                "ON CONFLICT (path) DO UPDATE SET content = EXCLUDED.content, is_key = EXCLUDED.is_key, is_folder = false, updated_at = clock_timestamp()",
                item, Parent(item), Name(item), ownerOnly, content));
            batch.ExecuteNonQuery();
            return 0;
        });
    }

    public bool FileExists(string path) => Scalar("SELECT 1 FROM acme.item WHERE path = $1 AND NOT is_folder", Relative(path)) is not null;

    public bool FolderExists(string path)
    {
        string item = Relative(path);
        return item.Length == 0 || Scalar("SELECT 1 FROM acme.item WHERE path = $1 AND is_folder", item) is not null;
    }

    public void CreateFolder(string path)
    {
        string item = Relative(path);
        if (item.Length == 0)
        {
            return;
        }

        Execute(c =>
        {
            using NpgsqlBatch batch = c.CreateBatch();
            AddFolders(batch, item);
            batch.ExecuteNonQuery();
            return 0;
        });
    }

    public IReadOnlyList<string> Folders(string folder) => Names("SELECT name FROM acme.item WHERE parent = $1 AND is_folder ORDER BY name", Relative(folder));

    public IReadOnlyList<string> Files(string folder, string prefix = "") =>
        Names("SELECT name FROM acme.item WHERE parent = $1 AND NOT is_folder AND starts_with(name, $2) ORDER BY name", Relative(folder), prefix);

    public void DeleteFile(string path) => NonQuery("DELETE FROM acme.item WHERE path = $1 AND NOT is_folder", Relative(path));

    public void DeleteFolder(string path) => NonQuery("DELETE FROM acme.item WHERE path = $1 OR starts_with(path, $1 || '/')", Relative(path));

    public void MoveFolder(string from, string to)
    {
        string source = Relative(from), target = Relative(to);
        NonQuery(
            "UPDATE acme.item SET path = $2 || substr(path, length($1) + 1), " +
            "parent = CASE WHEN path = $1 THEN $3 ELSE $2 || substr(parent, length($1) + 1) END, " +
            "name = CASE WHEN path = $1 THEN $4 ELSE name END, updated_at = clock_timestamp() " +
            "WHERE path = $1 OR starts_with(path, $1 || '/')",
            source, target, Parent(target), Name(target));
    }

    public DateTime LastWriteTimeUtc(string path) =>
        Scalar("SELECT updated_at FROM acme.item WHERE path = $1", Relative(path)) is DateTime at ? at.ToUniversalTime() : DateTime.MinValue;

    public void SweepTemporary(string folder)
    {
        string item = Relative(folder);
        foreach (string name in Names("SELECT name FROM acme.item WHERE parent = $1 AND name LIKE '.%.tmp'", item))
        {
            DeleteFolder(Virtual + "/" + (item.Length == 0 ? name : item + "/" + name));
        }
    }

    public Task<IDisposable>? LockAsync(string folder, TimeSpan timeout, CancellationToken cancellationToken) =>
        PostgresLock.AcquireAsync(_source, _address, Relative(folder), timeout, cancellationToken);

    public void Dispose()
    {
        // The pool is shared by every store of this address in the process and closes with it.
    }

    public override string ToString() => Root;

    // ----- paths -----

    internal static string Relative(string path)
    {
        string p = path.Replace('\\', '/');
        if (p.StartsWith(Virtual, StringComparison.Ordinal))
        {
            p = p.Substring(Virtual.Length);
        }

        return p.Trim('/');
    }

    private static string Parent(string item) => item.LastIndexOf('/') is int i and >= 0 ? item.Substring(0, i) : string.Empty;

    private static string Name(string item) => item.Substring(item.LastIndexOf('/') + 1);

    private static void AddFolders(NpgsqlBatch batch, string folder)
    {
        for (string f = folder; f.Length > 0; f = Parent(f))
        {
            batch.BatchCommands.Add(Command(
                "INSERT INTO acme.item (path, parent, name, is_folder) VALUES ($1, $2, $3, true) ON CONFLICT (path) DO NOTHING", f, Parent(f), Name(f)));
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

    // ----- statements -----

    private object? Scalar(string sql, params object[] values) => Execute(c =>
    {
        using NpgsqlCommand command = Prepare(c, sql, values);
        object? result = command.ExecuteScalar();
        return result is DBNull ? null : result;
    });

    private void NonQuery(string sql, params object[] values) => Execute(c =>
    {
        using NpgsqlCommand command = Prepare(c, sql, values);
        return command.ExecuteNonQuery();
    });

    private IReadOnlyList<string> Names(string sql, params object[] values) => Execute(c =>
    {
        using NpgsqlCommand command = Prepare(c, sql, values);
        using NpgsqlDataReader reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return (IReadOnlyList<string>)names;
    });

    private static NpgsqlCommand Prepare(NpgsqlConnection connection, string sql, object[] values)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (object value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }

    private T Execute<T>(Func<NpgsqlConnection, T> work) => Run(_address, () =>
    {
        using NpgsqlConnection connection = _source.OpenConnection();
        return work(connection);
    });

    /// <summary>Runs database work, turning Npgsql's failures into the state's error ids (never with the connection string).</summary>
    internal static T Run<T>(PostgresAddress address, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (PostgresException e)
        {
            throw PostgresErrors.From(address, e);
        }
        catch (NpgsqlException e)
        {
            throw PostgresErrors.From(address, e);
        }
        catch (TimeoutException e)
        {
            throw PostgresErrors.From(address, e);
        }
    }

    internal static string Owner => Environment.MachineName + ":" + Process.GetCurrentProcess().Id;
}
