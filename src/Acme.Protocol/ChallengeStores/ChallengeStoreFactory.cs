using System;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Locking;
using Acme.Protocol.Model;

namespace Acme.Protocol.ChallengeStores;

/// <summary>Opens challenge stores from connection strings, and the lock and expiry rules they share.</summary>
public static class ChallengeStoreFactory
{
    /// <summary>How long a certificate lock lasts unless released: an order's whole pipeline fits in it.</summary>
    public static readonly TimeSpan DefaultLockLease = TimeSpan.FromMinutes(10);

    /// <summary>How long an answer lives when the CA gave its authorization no expiry.</summary>
    private static readonly TimeSpan DefaultAnswerLifetime = TimeSpan.FromDays(1);

    /// <summary>
    /// Opens the store a connection string names: "redis://..." or "rediss://..." (see
    /// <see cref="RedisConnectionString"/>), or a directory path (or file:// URL). Opening checks
    /// nothing on the network; call <see cref="IChallengeStore.CheckAsync"/> for that. Redis stores are
    /// kept per connection string for the life of the process, like the CA connections; the Redis
    /// client is loaded only here, the first time one is opened.
    /// </summary>
    public static IChallengeStore Open(string connection, IAcmeLog? log = null)
    {
        if (string.IsNullOrWhiteSpace(connection))
        {
            throw new AcmeArgumentException("AcmeInvalidStore", "The store is empty: give a directory path or a redis:// connection string.");
        }

        string trimmed = connection.Trim();
        if (RedisConnectionString.IsRedis(trimmed))
        {
            return RedisStoreLoader.Open(RedisConnectionString.Parse(trimmed), log ?? NullAcmeLog.Instance);
        }

        int colon = trimmed.IndexOf("://", StringComparison.Ordinal);
        if (colon > 0)
        {
            if (!Uri.TryCreate(trimmed, UriKind.Absolute, out Uri? uri) || !uri.IsFile)
            {
                throw new AcmeArgumentException("AcmeInvalidStore",
                    $"The store '{trimmed.Substring(0, colon)}://...' is not supported: give a directory path, a file:// URL, or a redis:// or rediss:// connection string.");
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

    /// <summary>Who takes a lock: this machine, this process, and a random part so two locks of one process differ.</summary>
    public static string NewLockOwner()
    {
        byte[] random = new byte[8];
        using (var rng = RandomNumberGenerator.Create())
        {
            rng.GetBytes(random);
        }

        int pid;
        using (Process self = Process.GetCurrentProcess())
        {
            pid = self.Id;
        }

        return $"{Environment.MachineName}/{pid.ToString(CultureInfo.InvariantCulture)}/{BitConverter.ToString(random).Replace("-", string.Empty).ToLowerInvariant()}";
    }

    /// <summary>
    /// Takes the lock on a certificate name, waiting up to <paramref name="wait"/> (zero: not at all)
    /// while someone else holds it. Fails with AcmeCertificateLocked, naming the holder, when it stays held.
    /// </summary>
    public static async Task<AcmeCertificateLock> AcquireLockAsync(IChallengeStore store, string name, TimeSpan lease, TimeSpan wait,
        IAcmeLog? log = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new AcmeArgumentException("AcmeInvalidLockName", "A certificate lock needs a name.");
        }

        log ??= NullAcmeLog.Instance;
        string owner = NewLockOwner();
        DateTimeOffset deadline = DateTimeOffset.UtcNow + wait;
        TimeSpan delay = TimeSpan.FromMilliseconds(200);
        for (bool first = true; ; first = false)
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            StoreLockAttempt attempt = await store.TryLockAsync(name, owner, lease, cancellationToken).ConfigureAwait(false);
            if (attempt.Acquired)
            {
                log.Verbose($"Took the lock on {name} in {store.Description} until {(now + lease).ToLocalTime():u}.");
                return new AcmeCertificateLock(store, name, owner, now + lease);
            }

            string holder = attempt.Holder is null ? "another client" : HolderName(attempt.Holder);
            if (now >= deadline)
            {
                string until = attempt.HolderExpires is DateTimeOffset e ? $" until {e.ToLocalTime():u} at the latest" : string.Empty;
                throw new AcmeLocalException("AcmeCertificateLocked", wait > TimeSpan.Zero
                    ? $"The certificate {name} is still being ordered by {holder} (lock in {store.Description}{until}) after waiting {wait.TotalSeconds:0} seconds."
                    : $"The certificate {name} is being ordered by {holder} (lock in {store.Description}{until}).");
            }

            if (first)
            {
                log.Verbose($"{name} is locked by {holder} in {store.Description}; waiting up to {wait.TotalSeconds:0} seconds.");
            }

            TimeSpan left = deadline - now;
            await Task.Delay(left < delay ? left : delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(2000, delay.TotalMilliseconds * 1.5));
        }
    }

    /// <summary>"host/pid" of an owner string, without its random part.</summary>
    private static string HolderName(string owner)
    {
        int last = owner.LastIndexOf('/');
        return last > 0 ? "process " + owner.Substring(0, last) : owner;
    }

    internal static AcmeLocalException Unavailable(IChallengeStore store, string what, Exception? inner) =>
        new("AcmeStoreUnavailable", $"The challenge store {store.Description} is unavailable: {what}", inner);
}
