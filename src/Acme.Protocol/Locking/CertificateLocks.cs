using System;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.Protocol.Locking;

/// <summary>
/// Locks on certificate names, held in a challenge store that several hosts share, so two hosts never
/// order the same certificate at once (New-AcmeOrder -LockStore). A lock taken for an order travels
/// with that order object until the certificate is issued or a step fails on it.
/// </summary>
public static class CertificateLocks
{
    /// <summary>How long a certificate lock lasts unless released: an order's whole pipeline fits in it.</summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromMinutes(10);

    /// <summary>Gives <paramref name="order"/> the lock taken for it, until the certificate is issued or a step fails on it.</summary>
    public static void Attach(AcmeOrder order, AcmeCertificateLock held) => order.Lock = held;

    /// <summary>The lock New-AcmeOrder -LockStore took for the order, if any.</summary>
    public static AcmeCertificateLock? Of(AcmeOrder order) => order.Lock as AcmeCertificateLock;

    /// <summary>Who takes a lock: this machine, this process, and a random part so two locks of one process differ.</summary>
    public static string NewOwner()
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
    public static async Task<AcmeCertificateLock> AcquireAsync(IChallengeStore store, string name, TimeSpan lease, TimeSpan wait,
        IAcmeLog? log = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidLockName, "A certificate lock needs a name.");
        }

        log ??= NullAcmeLog.Instance;
        string owner = NewOwner();
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
                throw new AcmeLocalException(AcmeErrorId.CertificateLocked, wait > TimeSpan.Zero
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
}
