using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.ChallengeStores;

namespace Acme.Protocol.ChallengeStores;

/// <summary>What <see cref="IChallengeStore.TryLockAsync"/> found: the lock taken, or who holds it.</summary>
public sealed class StoreLockAttempt
{
    private StoreLockAttempt(bool acquired, string? holder, DateTimeOffset? holderExpires)
    {
        Acquired = acquired;
        Holder = holder;
        HolderExpires = holderExpires;
    }

    public bool Acquired { get; }

    /// <summary>The owner string of whoever holds the lock (host, process id, random part), when it was not acquired.</summary>
    public string? Holder { get; }

    public DateTimeOffset? HolderExpires { get; }

    public static StoreLockAttempt Taken { get; } = new(true, null, null);

    public static StoreLockAttempt HeldBy(string? holder, DateTimeOffset? expires) => new(false, holder, expires);
}
