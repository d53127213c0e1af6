using System;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.Errors;
using StackExchange.Redis;

namespace Acme.Redis;

/// <summary>
/// Challenge answers and certificate locks in Redis, shared by every host that names the same
/// server, database and prefix. Answers are "&lt;prefix&gt;http-01:&lt;token&gt;" strings that Redis expires
/// when their authorization does; locks are "&lt;prefix&gt;lock:&lt;name&gt;" taken with SET NX PX and a
/// random owner, and released only by that owner (a Lua compare-and-delete), the single-instance
/// lock that the Redis documentation for SET describes. The connection is opened on first use and
/// kept; StackExchange.Redis reconnects by itself, so a responder outlives a Redis restart.
/// </summary>
public sealed class RedisChallengeStore : IChallengeStore
{
    private const string ReleaseScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

    private readonly RedisConnectionString _connection;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private ConnectionMultiplexer? _multiplexer;
    private volatile string? _lastFailure;

    private RedisChallengeStore(RedisConnectionString connection)
    {
        _connection = connection;
    }

    public string Description => _connection.ToString();

    /// <summary>Called by Acme.Protocol's loader through reflection, so Redis loads only when used.</summary>
    public static IChallengeStore Open(RedisConnectionString connection) => new RedisChallengeStore(connection);

    public Task PublishAsync(string token, string keyAuthorization, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        TimeSpan ttl = expires - DateTimeOffset.UtcNow;
        return RunAsync(db => db.StringSetAsync(AnswerKey(token), keyAuthorization, ttl > TimeSpan.FromSeconds(1) ? ttl : TimeSpan.FromSeconds(1)),
            "publishing an answer", cancellationToken);
    }

    public async Task<string?> GetKeyAuthorizationAsync(string token, CancellationToken cancellationToken)
    {
        RedisValue value = await RunAsync(db => db.StringGetAsync(AnswerKey(token)), "looking up an answer", cancellationToken).ConfigureAwait(false);
        return value.IsNull ? null : (string?)value;
    }

    public Task RemoveAsync(string token, CancellationToken cancellationToken) =>
        RunAsync(db => db.KeyDeleteAsync(AnswerKey(token)), "removing an answer", cancellationToken);

    public Task CheckAsync(CancellationToken cancellationToken) => RunAsync(db => (Task)db.PingAsync(), "PING", cancellationToken);

    public async Task<StoreLockAttempt> TryLockAsync(string name, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        RedisKey key = LockKey(name);
        bool taken = await RunAsync(db => db.StringSetAsync(key, owner, lease, When.NotExists), "taking a lock", cancellationToken).ConfigureAwait(false);
        if (taken)
        {
            return StoreLockAttempt.Taken;
        }

        RedisValueWithExpiry holder = await RunAsync(db => db.StringGetWithExpiryAsync(key), "reading a lock", cancellationToken).ConfigureAwait(false);
        return StoreLockAttempt.HeldBy(holder.Value.IsNull ? null : (string?)holder.Value,
            holder.Expiry is TimeSpan left ? DateTimeOffset.UtcNow + left : null);
    }

    public async Task<bool> ReleaseLockAsync(string name, string owner, CancellationToken cancellationToken)
    {
        RedisResult result = await RunAsync(db => db.ScriptEvaluateAsync(ReleaseScript, new[] { LockKey(name) }, new RedisValue[] { owner }),
            "releasing a lock", cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    private RedisKey AnswerKey(string token) => _connection.Prefix + "http-01:" + token;

    private RedisKey LockKey(string name) => _connection.Prefix + "lock:" + name.ToLowerInvariant();

    private async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> command, string what, CancellationToken cancellationToken)
    {
        try
        {
            ConnectionMultiplexer multiplexer = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            if (!multiplexer.IsConnected)
            {
                // Fail at once, not after a command timeout: the multiplexer keeps reconnecting meanwhile.
                throw new AcmeLocalException(AcmeErrorId.StoreUnavailable,
                    $"The challenge store {Description} is unavailable ({what}): not connected to {_connection.Host}:{_connection.Port}" +
                    (_lastFailure is null ? "." : $" ({_lastFailure})."));
            }

            IDatabase db = multiplexer.GetDatabase(_connection.Database);
            Task<T> task = command(db);
            if (task != await Task.WhenAny(task, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false))
            {
                // The command still ends on its own (StackExchange.Redis times it out); observe it.
                _ = task.ContinueWith(t => t.Exception, TaskScheduler.Default);
                cancellationToken.ThrowIfCancellationRequested();
            }

            return await task.ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException || e is TimeoutException || e is ObjectDisposedException)
        {
            // StackExchange.Redis's messages name the endpoint and the command, never the password.
            throw new AcmeLocalException(AcmeErrorId.StoreUnavailable, $"The challenge store {Description} is unavailable ({what}): {e.Message}", e);
        }
    }

    private async Task RunAsync(Func<IDatabase, Task> command, string what, CancellationToken cancellationToken) =>
        await RunAsync(async db =>
        {
            await command(db).ConfigureAwait(false);
            return true;
        }, what, cancellationToken).ConfigureAwait(false);

    private async Task<ConnectionMultiplexer> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_multiplexer is ConnectionMultiplexer ready)
        {
            return ready;
        }

        await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Not aborting on a failed first connect keeps the multiplexer, which goes on reconnecting in
            // the background; commands fail at once meanwhile, which is what the caller reports.
            if (_multiplexer is null)
            {
                ConfigurationOptions options = Options();
                var log = new System.IO.StringWriter();
                ConnectionMultiplexer multiplexer = await ConnectionMultiplexer.ConnectAsync(options, log).ConfigureAwait(false);
                multiplexer.ConnectionFailed += (_, e) => _lastFailure = Describe(e);
                multiplexer.ConnectionRestored += (_, _) => _lastFailure = null;
                if (!multiplexer.IsConnected)
                {
                    _lastFailure ??= FirstFailure(log.ToString());
                }

                _multiplexer = multiplexer;
            }

            return _multiplexer;
        }
        finally
        {
            _connecting.Release();
        }
    }

    private static string Describe(ConnectionFailedEventArgs e) =>
        e.Exception?.InnerException?.Message is string inner ? $"{e.FailureType}: {inner}" : e.FailureType.ToString();

    /// <summary>The failure type (UnableToConnect, AuthenticationFailure...) StackExchange.Redis's connect log gives.</summary>
    private static string? FirstFailure(string log)
    {
        Match m = Regex.Match(log, @"\(Interactive, (\w+)\)");
        return m.Success ? m.Groups[1].Value : null;
    }

    private ConfigurationOptions Options()
    {
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            ConnectTimeout = (int)_connection.ConnectTimeout.TotalMilliseconds,
            SyncTimeout = (int)_connection.CommandTimeout.TotalMilliseconds,
            AsyncTimeout = (int)_connection.CommandTimeout.TotalMilliseconds,
            ConnectRetry = 1,
            DefaultDatabase = _connection.Database,
            Password = _connection.Password,
            User = _connection.User,
            Ssl = _connection.Tls,
            ClientName = "Acme-PowerShell",
            ReconnectRetryPolicy = new LinearRetry(1000),
        };
        if (_connection.Tls)
        {
            options.SslHost = _connection.TlsHost ?? _connection.Host;
        }

        options.EndPoints.Add(_connection.Host, _connection.Port);
        return options;
    }
}
