using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;

namespace Acme.Protocol.ChallengeStores;

/// <summary>
/// Loads the Redis store (Acme.Redis.dll and StackExchange.Redis with its dependencies, kept in the
/// module's "redis" folder) the first time a redis:// store is opened, never on import. Windows
/// PowerShell 5.1 loads module assemblies without binding redirects, so an AssemblyResolve handler
/// answers for that folder's assemblies: one already loaded at the same or a higher version is reused
/// (another module may have brought System.Memory, say), otherwise the folder's copy is loaded.
/// </summary>
internal static class RedisStoreLoader
{
    private const string AssemblyFile = "Acme.Redis.dll";
    private const string StoreType = "Acme.Redis.RedisChallengeStore";

    private static readonly object s_lock = new();
    private static readonly Dictionary<string, IChallengeStore> s_stores = new(StringComparer.Ordinal);
    private static MethodInfo? s_open;
    private static string? s_folder;

    public static IChallengeStore Open(RedisConnectionString connection, IAcmeLog log)
    {
        lock (s_lock)
        {
            if (s_stores.TryGetValue(connection.CacheKey, out IChallengeStore? cached))
            {
                return cached;
            }

            MethodInfo open = s_open ??= Load(log);
            IChallengeStore store;
            try
            {
                store = (IChallengeStore)open.Invoke(null, new object[] { connection })!;
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException is AcmeException acme
                    ? acme
                    : new AcmeLocalException(AcmeErrorId.StoreUnavailable, $"The Redis store {connection} could not be opened: {e.InnerException.Message}", e.InnerException);
            }

            s_stores[connection.CacheKey] = store;
            return store;
        }
    }

    /// <summary>True once the Redis client has been loaded into this process.</summary>
    public static bool IsLoaded => s_open is not null;

    private static MethodInfo Load(IAcmeLog log)
    {
        string here = Path.GetDirectoryName(typeof(RedisStoreLoader).Assembly.Location) ?? ".";
        string? path = new[] { Path.Combine(here, "redis", AssemblyFile), Path.Combine(here, AssemblyFile) }.FirstOrDefault(File.Exists);
        if (path is null)
        {
            throw new AcmeLocalException(AcmeErrorId.StoreUnavailable,
                $"The Redis store's assemblies are missing: {Path.Combine(here, "redis", AssemblyFile)} was not found. Reinstall the module.");
        }

        s_folder = Path.GetDirectoryName(path);
        AppDomain.CurrentDomain.AssemblyResolve += Resolve;
        log.Verbose($"Loading the Redis client from {s_folder}.");
        try
        {
            Assembly assembly = Assembly.LoadFrom(path);
            return assembly.GetType(StoreType, throwOnError: true)!.GetMethod("Open", BindingFlags.Public | BindingFlags.Static)
                ?? throw new MissingMethodException(StoreType, "Open");
        }
        catch (Exception e) when (e is IOException || e is BadImageFormatException || e is TypeLoadException || e is MissingMethodException)
        {
            throw new AcmeLocalException(AcmeErrorId.StoreUnavailable, $"The Redis client could not be loaded from {s_folder}: {e.Message}", e);
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
        Assembly core = typeof(RedisStoreLoader).Assembly;
        if (string.Equals(wanted.Name, core.GetName().Name, StringComparison.OrdinalIgnoreCase))
        {
            // Acme.Redis asks for this assembly; in Windows PowerShell it may not find the loaded copy by itself.
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
