using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.Protocol.ChallengeStores;

/// <summary>Opens challenge stores from connection strings, and the lock and expiry rules they share.</summary>
public static class ChallengeStoreFactory
{
    /// <summary>How long an answer lives when the CA gave its authorization no expiry.</summary>
    private static readonly TimeSpan DefaultAnswerLifetime = TimeSpan.FromDays(1);

    /// <summary>
    /// Opens the store a connection string names: "redis://..." or "rediss://..." (see
    /// <see cref="RedisConnectionString"/>), "postgres://..." (the state database), or a directory path (or file:// URL). Opening checks
    /// nothing on the network; call <see cref="IChallengeStore.CheckAsync"/> for that. Redis stores are
    /// kept per connection string for the life of the process, like the CA connections; the Redis
    /// client is loaded only here, the first time one is opened.
    /// </summary>
    public static IChallengeStore Open(string connection, IAcmeLog? log = null)
    {
        if (string.IsNullOrWhiteSpace(connection))
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidStore, "The store is empty: give a directory path or a redis:// connection string.");
        }

        string trimmed = connection.Trim();
        if (RedisConnectionString.IsRedis(trimmed))
        {
            return RedisStoreLoader.Open(RedisConnectionString.Parse(trimmed), log ?? NullAcmeLog.Instance);
        }

        if (PostgresUrl.IsAddress(trimmed))
        {
            // The state database's answers and leases (schema version 2, Initialize-AcmeStateStore).
            return PostgresStoreLoader.Open(trimmed);
        }

        int colon = trimmed.IndexOf("://", StringComparison.Ordinal);
        if (colon > 0)
        {
            if (!Uri.TryCreate(trimmed, UriKind.Absolute, out Uri? uri) || !uri.IsFile)
            {
                throw new AcmeArgumentException(AcmeErrorId.InvalidStore,
                    $"The store '{trimmed.Substring(0, colon)}://...' is not supported: give a directory path, a file:// URL, a redis:// or rediss:// connection string, or a postgres:// address.");
            }

            trimmed = uri.LocalPath;
        }

        return DirectoryChallengeStore.Open(trimmed);
    }

    /// <summary>
    /// When a published answer should go: when its authorization (or, sooner, its order) expires, since
    /// the CA cannot ask for it after that (RFC 8555 section 7.1.4: "expires ... The timestamp after
    /// which the server will consider this authorization invalid").
    /// </summary>
    public static DateTimeOffset ExpiryFor(AcmeChallenge challenge, DateTimeOffset now)
    {
        DateTimeOffset? expires = challenge.Authorization?.Expires;
        if (challenge.Order?.Expires is DateTimeOffset orderExpires && (expires is null || orderExpires < expires))
        {
            expires = orderExpires;
        }

        // A CA clock a little behind ours must not make the answer vanish before the CA fetches it.
        DateTimeOffset floor = now + TimeSpan.FromMinutes(5);
        return expires is DateTimeOffset e ? (e < floor ? floor : e) : now + DefaultAnswerLifetime;
    }

    internal static AcmeLocalException Unavailable(IChallengeStore store, string what, Exception? inner) =>
        new(AcmeErrorId.StoreUnavailable, $"The challenge store {store.Description} is unavailable: {what}", inner);
}
