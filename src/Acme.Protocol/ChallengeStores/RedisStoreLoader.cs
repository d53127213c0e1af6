using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.FileSystem;

namespace Acme.Protocol.ChallengeStores;

/// <summary>
/// Loads the Redis store (Acme.Redis.dll and StackExchange.Redis with its dependencies, kept in the
/// module's "redis" folder) the first time a redis:// store is opened, never on import; the folder's
/// assemblies are found through <see cref="DependencyFolder"/> (Windows PowerShell 5.1 has no binding
/// redirects for module assemblies).
/// </summary>
internal static class RedisStoreLoader
{
    private const string AssemblyFile = "Acme.Redis.dll";
    private const string StoreType = "Acme.Redis.RedisChallengeStore";

    private static readonly object s_lock = new();
    private static readonly Dictionary<string, IChallengeStore> s_stores = new(StringComparer.Ordinal);
    private static MethodInfo? s_open;

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
        string? path = DependencyFolder.Find("redis", AssemblyFile);
        if (path is null)
        {
            throw new AcmeLocalException(AcmeErrorId.StoreUnavailable,
                $"The Redis store's assemblies are missing: {DependencyFolder.Expected("redis", AssemblyFile)} was not found. Reinstall the module.");
        }

        string folder = Path.GetDirectoryName(path) ?? ".";
        log.Verbose($"Loading the Redis client from {folder}.");
        try
        {
            Assembly assembly = DependencyFolder.Load(path);
            return assembly.GetType(StoreType, throwOnError: true)!.GetMethod("Open", BindingFlags.Public | BindingFlags.Static)
                ?? throw new MissingMethodException(StoreType, "Open");
        }
        catch (Exception e) when (e is IOException || e is BadImageFormatException || e is TypeLoadException || e is MissingMethodException)
        {
            throw new AcmeLocalException(AcmeErrorId.StoreUnavailable, $"The Redis client could not be loaded from {folder}: {e.Message}", e);
        }
    }
}
