using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Challenges.Http01;

namespace Acme.Protocol.ChallengeStores;

/// <summary>
/// Where http-01 key authorizations live between the moment they are published (before the CA is
/// told the challenge is ready) and the moment the authorization ends: this process's memory (the
/// listener Start-AcmeHttpChallenge runs), a directory (a web server's root or a shared folder), or
/// Redis. A responder answers from it (<see cref="Http01Server"/>), so any of several responders
/// behind a load balancer can answer any challenge. The store also holds a lock per certificate name,
/// so two hosts never order the same certificate at once.
/// </summary>
public interface IChallengeStore
{
    /// <summary>Where the store is, for messages. Never holds a password.</summary>
    string Description { get; }

    /// <summary>Makes the answer for <paramref name="token"/> available until it is removed or <paramref name="expires"/> passes.</summary>
    Task PublishAsync(string token, string keyAuthorization, DateTimeOffset expires, CancellationToken cancellationToken);

    /// <summary>The key authorization for <paramref name="token"/>, or null when it is not known (or has expired).</summary>
    Task<string?> GetKeyAuthorizationAsync(string token, CancellationToken cancellationToken);

    /// <summary>Withdraws the answer for <paramref name="token"/>; nothing happens when it is not there.</summary>
    Task RemoveAsync(string token, CancellationToken cancellationToken);

    /// <summary>Returns when the store can be read and written; throws AcmeStoreUnavailable otherwise.</summary>
    Task CheckAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Takes the lock called <paramref name="name"/> for <paramref name="owner"/> until
    /// <paramref name="lease"/> has passed, unless someone else holds it: then the holder comes back.
    /// </summary>
    Task<StoreLockAttempt> TryLockAsync(string name, string owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Releases the lock if <paramref name="owner"/> still holds it; a lock that lapsed and was taken by another stays theirs.</summary>
    Task<bool> ReleaseLockAsync(string name, string owner, CancellationToken cancellationToken);
}
