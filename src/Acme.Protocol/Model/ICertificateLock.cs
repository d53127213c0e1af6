using System;
using System.Threading;
using System.Threading.Tasks;

namespace Acme.Protocol.Model;

/// <summary>
/// A lock on a certificate name that an order carries (New-AcmeOrder -LockStore): the model names only
/// this contract, Acme.Protocol.Locking holds the locks themselves.
/// </summary>
public interface ICertificateLock
{
    /// <summary>The certificate name the lock is for.</summary>
    string Name { get; }

    /// <summary>Who holds it: this machine's name, the process id and a random part.</summary>
    string Owner { get; }

    /// <summary>When the lock lapses unless released first.</summary>
    DateTimeOffset Expires { get; }

    bool IsReleased { get; }

    /// <summary>Frees the lock (once). False when it had lapsed and someone else holds it now.</summary>
    Task<bool> ReleaseAsync(CancellationToken cancellationToken = default);
}
