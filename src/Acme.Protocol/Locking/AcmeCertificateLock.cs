using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.Model;

namespace Acme.Protocol.Locking;

/// <summary>
/// A held lock on a certificate name in a challenge store. It lapses by itself after its lease (a host
/// that dies does not block the name for ever); <see cref="ReleaseAsync"/> frees it at once.
/// </summary>
public sealed class AcmeCertificateLock : ICertificateLock
{
    private int _released;

    internal AcmeCertificateLock(IChallengeStore store, string name, string owner, DateTimeOffset expires)
    {
        Store = store;
        Name = name;
        Owner = owner;
        Expires = expires;
    }

    public IChallengeStore Store { get; }

    /// <summary>The certificate name the lock is for.</summary>
    public string Name { get; }

    /// <summary>Who holds it: this machine's name, the process id and a random part.</summary>
    public string Owner { get; }

    /// <summary>When the lock lapses unless released first.</summary>
    public DateTimeOffset Expires { get; }

    public bool IsReleased => Volatile.Read(ref _released) != 0;

    /// <summary>Frees the lock (once; later calls do nothing). False when it had lapsed and someone else holds it now.</summary>
    public async Task<bool> ReleaseAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return false;
        }

        return await Store.ReleaseLockAsync(Name, Owner, cancellationToken).ConfigureAwait(false);
    }

    public override string ToString() => $"{Name} ({Store.Description}, until {Expires:u})";
}
