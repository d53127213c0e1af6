using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using Acme.Protocol.Errors;
using Acme.Protocol.FileSystem;
using Acme.Protocol.Model;

namespace Acme.Protocol.ChallengeStores;

/// <summary>
/// Loads the PostgreSQL store (Acme.Postgres.dll and Npgsql, kept in the module's "postgres" folder,
/// the state backend's assemblies) the first time a postgres:// store is opened, never on import.
/// </summary>
internal static class PostgresStoreLoader
{
    private const string AssemblyFile = "Acme.Postgres.dll";
    private const string StoreType = "Acme.Postgres.PostgresChallengeStore";

    private static readonly object s_lock = new();
    private static MethodInfo? s_open;

    public static IChallengeStore Open(string address)
    {
        MethodInfo open;
        lock (s_lock)
        {
            open = s_open ??= Load(address);
        }

        try
        {
            return (IChallengeStore)open.Invoke(null, new object[] { address })!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException is AcmeException acme
                ? acme
                : new AcmeLocalException(AcmeErrorId.StoreUnavailable,
                    $"The PostgreSQL store {PostgresUrl.Mask(address)} could not be opened: {e.InnerException.GetType().Name}", e.InnerException);
        }
    }

    private static MethodInfo Load(string address)
    {
        string? path = DependencyFolder.Find("postgres", AssemblyFile);
        if (path is null)
        {
            throw new AcmeLocalException(AcmeErrorId.StoreUnavailable,
                $"The PostgreSQL store's assemblies are missing: {DependencyFolder.Expected("postgres", AssemblyFile)} was not found. Reinstall the module.");
        }

        try
        {
            return DependencyFolder.Load(path).GetType(StoreType, throwOnError: true)!.GetMethod("Open", BindingFlags.Public | BindingFlags.Static)
                ?? throw new MissingMethodException(StoreType, "Open");
        }
        catch (Exception e) when (e is IOException || e is BadImageFormatException || e is TypeLoadException || e is MissingMethodException)
        {
            throw new AcmeLocalException(AcmeErrorId.StoreUnavailable, $"The PostgreSQL client could not be loaded from {Path.GetDirectoryName(path)}: {e.Message}", e);
        }
    }
}
