using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Diagnostics;

namespace Acme.Protocol.ChallengeStores;

/// <summary>
/// Key authorizations held in this process: what a listener started by this module answers from.
/// Tokens are counted, so two orders that share a reused authorization (the same token) can each
/// add it and remove it without withdrawing the other's answer. Locks here guard one process only.
/// </summary>
public sealed class InMemoryChallengeStore : IChallengeStore
{
    private readonly object _lock = new();
    private readonly Dictionary<string, Entry> _answers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Owner, DateTimeOffset Expires)> _locks = new(StringComparer.OrdinalIgnoreCase);

    public string Description => "this process's memory";

    public void Add(string token, string keyAuthorization) => Add(token, keyAuthorization, null);

    /// <summary>Adds an answer; <paramref name="log"/> hears when the CA fetches it.</summary>
    public void Add(string token, string keyAuthorization, IAcmeLog? log) => Add(token, keyAuthorization, log, DateTimeOffset.MaxValue);

    private void Add(string token, string keyAuthorization, IAcmeLog? log, DateTimeOffset expires)
    {
        lock (_lock)
        {
            if (_answers.TryGetValue(token, out Entry? entry))
            {
                entry.Count++;
                if (expires > entry.Expires)
                {
                    entry.Expires = expires;
                }
            }
            else
            {
                _answers[token] = new Entry(keyAuthorization, log ?? NullAcmeLog.Instance, expires);
            }
        }
    }

    /// <summary>Withdraws one addition of the token; the answer goes when every adder has withdrawn it.</summary>
    public void Remove(string token)
    {
        lock (_lock)
        {
            if (_answers.TryGetValue(token, out Entry? entry) && --entry.Count == 0)
            {
                _answers.Remove(token);
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _answers.Count;
            }
        }
    }

    public Task PublishAsync(string token, string keyAuthorization, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        Add(token, keyAuthorization, null, expires);
        return Task.CompletedTask;
    }

    public Task<string?> GetKeyAuthorizationAsync(string token, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_answers.TryGetValue(token, out Entry? entry) && entry.Expires > DateTimeOffset.UtcNow ? entry.KeyAuthorization : null);
        }
    }

    public Task RemoveAsync(string token, CancellationToken cancellationToken)
    {
        Remove(token);
        return Task.CompletedTask;
    }

    public Task CheckAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<StoreLockAttempt> TryLockAsync(string name, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        lock (_lock)
        {
            if (_locks.TryGetValue(name, out var held) && held.Expires > now && held.Owner != owner)
            {
                return Task.FromResult(StoreLockAttempt.HeldBy(held.Owner, held.Expires));
            }

            _locks[name] = (owner, now + lease);
            return Task.FromResult(StoreLockAttempt.Taken);
        }
    }

    public Task<bool> ReleaseLockAsync(string name, string owner, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            bool mine = _locks.TryGetValue(name, out var held) && held.Owner == owner;
            if (mine)
            {
                _locks.Remove(name);
            }

            return Task.FromResult(mine);
        }
    }

    internal IAcmeLog? LogFor(string token)
    {
        lock (_lock)
        {
            return _answers.TryGetValue(token, out Entry? entry) ? entry.Log : null;
        }
    }

    private sealed class Entry
    {
        public Entry(string keyAuthorization, IAcmeLog log, DateTimeOffset expires)
        {
            KeyAuthorization = keyAuthorization;
            Log = log;
            Expires = expires;
        }

        public string KeyAuthorization { get; }

        public IAcmeLog Log { get; }

        public DateTimeOffset Expires { get; set; }

        public int Count { get; set; } = 1;
    }
}
