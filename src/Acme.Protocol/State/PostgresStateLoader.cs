using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Acme.Protocol.Errors;
using Acme.Protocol.FileSystem;
using Acme.Protocol.Model;

namespace Acme.Protocol.State;

/// <summary>
/// Loads the PostgreSQL state backend (Acme.Postgres.dll and Npgsql with its dependencies, kept in the
/// module's "postgres" folder) the first time a postgres:// state path is opened, never on import; an
/// assemblies are found through <see cref="DependencyFolder"/>, as the Redis store's are.
/// </summary>
public static class PostgresStateLoader
{
    private const string AssemblyFile = "Acme.Postgres.dll";
    private const string BackendType = "Acme.Postgres.PostgresStateFiles";

    private static readonly object s_lock = new();
    private static Type? s_type;

    /// <summary>True once Npgsql has been loaded into this process.</summary>
    public static bool IsLoaded => s_type is not null;

    /// <summary>The backend for the address; its schema must exist (AcmeStateSchemaMissing) and not be newer than this module (AcmeStateSchemaNewer).</summary>
    public static IStateFiles Open(string address) => (IStateFiles)Invoke("Open", address)!;

    /// <summary>Creates or migrates the schema; returns the versions before and after ("0 1": created).</summary>
    public static int[] Initialize(string address, bool allowPlaintextKeys) => (int[])Invoke("Initialize", address, allowPlaintextKeys)!;

    private static object? Invoke(string method, params object[] arguments)
    {
        Type type;
        lock (s_lock)
        {
            type = s_type ??= Load();
        }

        MethodInfo call = type.GetMethod(method, BindingFlags.Public | BindingFlags.Static) ?? throw new MissingMethodException(BackendType, method);
        try
        {
            return call.Invoke(null, arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException is AcmeException acme
                ? acme
                : new AcmeLocalException(AcmeErrorId.StateDatabaseFailed, $"The state database {PostgresUrl.Mask((string)arguments[0])} failed: {e.InnerException.GetType().Name}", e.InnerException);
        }
    }

    private static Type Load()
    {
        string? path = DependencyFolder.Find("postgres", AssemblyFile);
        if (path is null)
        {
            throw new AcmeLocalException(AcmeErrorId.StateDatabaseUnavailable,
                $"The PostgreSQL backend's assemblies are missing: {DependencyFolder.Expected("postgres", AssemblyFile)} was not found. Reinstall the module.");
        }

        try
        {
            return DependencyFolder.Load(path).GetType(BackendType, throwOnError: true)!;
        }
        catch (Exception e) when (e is IOException || e is BadImageFormatException || e is TypeLoadException)
        {
            throw new AcmeLocalException(AcmeErrorId.StateDatabaseUnavailable, $"The PostgreSQL client could not be loaded from {Path.GetDirectoryName(path)}: {e.Message}", e);
        }
    }
}
