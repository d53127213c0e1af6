using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using Acme.Protocol.Errors;

namespace Acme.Protocol.State;

/// <summary>
/// Loads the PostgreSQL state backend (Acme.Postgres.dll and Npgsql with its dependencies, kept in the
/// module's "postgres" folder) the first time a postgres:// state path is opened, never on import; an
/// AssemblyResolve handler answers for that folder's assemblies, as for the Redis store (Windows
/// PowerShell 5.1 has no binding redirects for module assemblies).
/// </summary>
public static class PostgresStateLoader
{
    private const string AssemblyFile = "Acme.Postgres.dll";
    private const string BackendType = "Acme.Postgres.PostgresStateFiles";

    private static readonly object s_lock = new();
    private static readonly Regex s_password = new("^(?<scheme>postgres(?:ql)?://)(?<user>[^:@/]*):[^@/]*@", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
    private static Type? s_type;
    private static string? s_folder;

    /// <summary>True for a postgres:// (or postgresql://) address.</summary>
    public static bool IsAddress(string? path) =>
        path is not null && (path.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || path.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase));

    /// <summary>The address without its password (postgres://user@host:port/db), for every message and for StatePath.</summary>
    public static string Mask(string? address) => address is null ? string.Empty : s_password.Replace(address, "${scheme}${user}@");

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
                : new AcmeLocalException(AcmeErrorId.StateDatabaseFailed, $"The state database {Mask((string)arguments[0])} failed: {e.InnerException.GetType().Name}", e.InnerException);
        }
    }

    private static Type Load()
    {
        string here = Path.GetDirectoryName(typeof(PostgresStateLoader).Assembly.Location) ?? ".";
        string? path = new[] { Path.Combine(here, "postgres", AssemblyFile), Path.Combine(here, AssemblyFile) }.FirstOrDefault(File.Exists);
        if (path is null)
        {
            throw new AcmeLocalException(AcmeErrorId.StateDatabaseUnavailable,
                $"The PostgreSQL backend's assemblies are missing: {Path.Combine(here, "postgres", AssemblyFile)} was not found. Reinstall the module.");
        }

        s_folder = Path.GetDirectoryName(path);
        AppDomain.CurrentDomain.AssemblyResolve += Resolve;
        try
        {
            return Assembly.LoadFrom(path).GetType(BackendType, throwOnError: true)!;
        }
        catch (Exception e) when (e is IOException || e is BadImageFormatException || e is TypeLoadException)
        {
            throw new AcmeLocalException(AcmeErrorId.StateDatabaseUnavailable, $"The PostgreSQL client could not be loaded from {s_folder}: {e.Message}", e);
        }
    }

    private static Assembly? Resolve(object? sender, ResolveEventArgs args)
    {
        string? folder = s_folder;
        if (folder is null)
        {
            return null;
        }

        var wanted = new AssemblyName(args.Name);
        Assembly core = typeof(PostgresStateLoader).Assembly;
        if (string.Equals(wanted.Name, core.GetName().Name, StringComparison.OrdinalIgnoreCase))
        {
            return core;
        }

        string file = Path.Combine(folder, wanted.Name + ".dll");
        if (!File.Exists(file))
        {
            return null;
        }

        foreach (Assembly loaded in AppDomain.CurrentDomain.GetAssemblies())
        {
            AssemblyName name = loaded.GetName();
            if (string.Equals(name.Name, wanted.Name, StringComparison.OrdinalIgnoreCase) && (wanted.Version is null || name.Version >= wanted.Version))
            {
                return loaded;
            }
        }

        return Assembly.LoadFrom(file);
    }
}
