using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.Challenges.Http01;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Locking;
using Acme.Protocol.Model;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// The challenge stores on real files and sockets: the directory store's answers, expiry and locks
/// (across two store objects, as two hosts would see one shared folder), the in-memory store's
/// locks, Redis connection strings, and the responder's health endpoint. Redis itself is exercised
/// by tests/Pester/ScaleOut.Tests.ps1 against a real redis-server.
/// </summary>
public sealed class ChallengeStoreTests : IDisposable
{
    private const string Token = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
    private const string Answer = Token + ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "acme-store-" + Guid.NewGuid().ToString("N").Substring(0, 8));

    public ChallengeStoreTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task ADirectoryStoreWritesTheAnswerWhereAWebServerServesItAndLeavesNoFolderItMade()
    {
        DirectoryChallengeStore store = DirectoryChallengeStore.Open(_root);
        await store.PublishAsync(Token, Answer, DateTimeOffset.UtcNow.AddHours(1), default);

        string file = Path.Combine(_root, ".well-known", "acme-challenge", Token);
        Assert.Equal(Answer, File.ReadAllText(file));
        Assert.Equal(Answer, await DirectoryChallengeStore.Open(_root).GetKeyAuthorizationAsync(Token, default));

        await store.RemoveAsync(Token, default);
        Assert.Empty(Directory.GetFileSystemEntries(_root));
        Assert.Null(await store.GetKeyAuthorizationAsync(Token, default));
    }

    [Fact]
    public async Task ADirectoryStoreKeepsFoldersThatWereThereBefore()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_root, ".well-known", "acme-challenge")).FullName;
        DirectoryChallengeStore store = DirectoryChallengeStore.Open(_root);
        await store.PublishAsync(Token, Answer, DateTimeOffset.UtcNow.AddHours(1), default);
        await store.RemoveAsync(Token, default);
        Assert.True(Directory.Exists(folder));
        Assert.Empty(Directory.GetFileSystemEntries(folder));
    }

    [Fact]
    public async Task AnExpiredAnswerInADirectoryIsNotServedAndIsRemoved()
    {
        DirectoryChallengeStore store = DirectoryChallengeStore.Open(_root);
        await store.PublishAsync(Token, Answer, DateTimeOffset.UtcNow.AddSeconds(-1), default);
        Assert.Null(await store.GetKeyAuthorizationAsync(Token, default));
        Assert.False(File.Exists(store.PathFor(Token)));
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("")]
    public async Task ADirectoryStoreRefusesATokenOutsideBase64Url(string token)
    {
        DirectoryChallengeStore store = DirectoryChallengeStore.Open(_root);
        var e = await Assert.ThrowsAsync<AcmeArgumentException>(() => store.PublishAsync(token, "x", DateTimeOffset.UtcNow.AddHours(1), default));
        Assert.Equal("AcmeInvalidToken", e.ErrorId);
    }

    [Fact]
    public void OpeningAFolderThatDoesNotExistFailsWithAcmeStoreNotFound()
    {
        var e = Assert.Throws<AcmeArgumentException>(() => ChallengeStoreFactory.Open(Path.Combine(_root, "missing")));
        Assert.Equal("AcmeStoreNotFound", e.ErrorId);
    }

    [Fact]
    public async Task ALockInASharedFolderIsHeldAgainstAnotherHostUntilReleased()
    {
        // Two store objects on one folder stand for two hosts sharing it.
        DirectoryChallengeStore first = DirectoryChallengeStore.Open(_root);
        DirectoryChallengeStore second = DirectoryChallengeStore.Open(_root);
        AcmeCertificateLock held = await CertificateLocks.AcquireAsync(first, "www.example.com", TimeSpan.FromMinutes(5), TimeSpan.Zero);

        var e = await Assert.ThrowsAsync<AcmeLocalException>(() =>
            CertificateLocks.AcquireAsync(second, "WWW.example.com", TimeSpan.FromMinutes(5), TimeSpan.Zero));
        Assert.Equal("AcmeCertificateLocked", e.ErrorId);
        Assert.Contains($"/{Environment.ProcessId}", e.Message);

        // A lock on another name is independent.
        AcmeCertificateLock other = await CertificateLocks.AcquireAsync(second, "api.example.com", TimeSpan.FromMinutes(5), TimeSpan.Zero);

        Assert.True(await held.ReleaseAsync());
        Assert.False(await held.ReleaseAsync());
        AcmeCertificateLock taken = await CertificateLocks.AcquireAsync(second, "www.example.com", TimeSpan.FromMinutes(5), TimeSpan.Zero);
        Assert.True(await taken.ReleaseAsync());
        Assert.True(await other.ReleaseAsync());
        Assert.Empty(Directory.GetFileSystemEntries(_root));
    }

    [Fact]
    public async Task AWaiterGetsTheLockWhenTheHolderReleasesIt()
    {
        DirectoryChallengeStore store = DirectoryChallengeStore.Open(_root);
        AcmeCertificateLock held = await CertificateLocks.AcquireAsync(store, "a.example", TimeSpan.FromMinutes(5), TimeSpan.Zero);
        Task<AcmeCertificateLock> waiter = CertificateLocks.AcquireAsync(DirectoryChallengeStore.Open(_root), "a.example", TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(20));
        await Task.Delay(300);
        Assert.False(waiter.IsCompleted);
        await held.ReleaseAsync();
        AcmeCertificateLock next = await waiter.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotEqual(held.Owner, next.Owner);
        await next.ReleaseAsync();
    }

    [Fact]
    public async Task ALapsedLockIsTakenOverAndItsOldHolderCannotReleaseTheNewOne()
    {
        DirectoryChallengeStore store = DirectoryChallengeStore.Open(_root);
        AcmeCertificateLock lapsed = await CertificateLocks.AcquireAsync(store, "b.example", TimeSpan.FromMilliseconds(200), TimeSpan.Zero);
        await Task.Delay(400);
        AcmeCertificateLock fresh = await CertificateLocks.AcquireAsync(DirectoryChallengeStore.Open(_root), "b.example", TimeSpan.FromMinutes(5), TimeSpan.Zero);

        Assert.False(await lapsed.ReleaseAsync());
        var e = await Assert.ThrowsAsync<AcmeLocalException>(() => CertificateLocks.AcquireAsync(store, "b.example", TimeSpan.FromMinutes(5), TimeSpan.Zero));
        Assert.Equal("AcmeCertificateLocked", e.ErrorId);
        Assert.True(await fresh.ReleaseAsync());
    }

    [Fact]
    public async Task ManyContendersForOneNameInASharedFolderGetItOneAtATime()
    {
        int holders = 0;
        int most = 0;
        async Task ContendAsync()
        {
            AcmeCertificateLock held = await CertificateLocks.AcquireAsync(DirectoryChallengeStore.Open(_root), "c.example",
                TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(60));
            int now = Interlocked.Increment(ref holders);
            InterlockedMax(ref most, now);
            await Task.Delay(20);
            Interlocked.Decrement(ref holders);
            await held.ReleaseAsync();
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(ContendAsync)));
        Assert.Equal(1, most);
    }

    [Fact]
    public async Task AnInMemoryLockIsHeldUntilReleasedOrLapsed()
    {
        var store = new InMemoryChallengeStore();
        AcmeCertificateLock held = await CertificateLocks.AcquireAsync(store, "d.example", TimeSpan.FromMilliseconds(300), TimeSpan.Zero);
        await Assert.ThrowsAsync<AcmeLocalException>(() => CertificateLocks.AcquireAsync(store, "d.example", TimeSpan.FromMinutes(1), TimeSpan.Zero));
        await Task.Delay(400);
        AcmeCertificateLock next = await CertificateLocks.AcquireAsync(store, "d.example", TimeSpan.FromMinutes(1), TimeSpan.Zero);
        Assert.False(await held.ReleaseAsync());
        Assert.True(await next.ReleaseAsync());
    }

    [Fact]
    public async Task AnInMemoryAnswerExpires()
    {
        var store = new InMemoryChallengeStore();
        await store.PublishAsync(Token, Answer, DateTimeOffset.UtcNow.AddMilliseconds(-1), default);
        Assert.Null(await store.GetKeyAuthorizationAsync(Token, default));
        await store.PublishAsync("other", "other.x", DateTimeOffset.UtcNow.AddMinutes(1), default);
        Assert.Equal("other.x", await store.GetKeyAuthorizationAsync("other", default));
    }

    [Fact]
    public void AnAnswerLivesUntilItsAuthorizationOrOrderExpiresButAtLeastFiveMinutes()
    {
        var now = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        AcmeChallenge challenge = new(new AcmeIdentifier("dns", "a.test"), AcmeChallenge.Http01, new Uri("https://ca.test/c/1"), Token, "thumb");
        Assert.Equal(now.AddDays(1), ChallengeStoreFactory.ExpiryFor(challenge, now));
    }

    [Theory]
    [InlineData("redis://127.0.0.1", "127.0.0.1", 6379, null, null, false, 0, "acme:")]
    [InlineData("redis://cache.example:6380/3", "cache.example", 6380, null, null, false, 3, "acme:")]
    [InlineData("rediss://:p%40ss%2Fw0rd@cache.example/1?prefix=prod:", "cache.example", 6379, null, "p@ss/w0rd", true, 1, "prod:")]
    [InlineData("redis://acme:secret@[::1]:7000?tls=true&tlsHost=redis.internal", "::1", 7000, "acme", "secret", true, 0, "acme:")]
    [InlineData("redis://secret@host.example", "host.example", 6379, null, "secret", false, 0, "acme:")]
    [InlineData("REDIS://host.example?database=5&password=pw&connectTimeout=1500", "host.example", 6379, null, "pw", false, 5, "acme:")]
    public void RedisConnectionStringsAreParsed(string text, string host, int port, string? user, string? password, bool tls, int database, string prefix)
    {
        RedisConnectionString c = RedisConnectionString.Parse(text);
        Assert.Equal((host, port, user, password, tls, database, prefix), (c.Host, c.Port, c.User, c.Password, c.Tls, c.Database, c.Prefix));
        if (password is not null)
        {
            Assert.DoesNotContain(password, c.ToString());
            Assert.Contains(":***@", c.ToString());
        }
    }

    [Theory]
    [InlineData("redis://", "no host")]
    [InlineData("redis://host:0", "port")]
    [InlineData("redis://host:99999", "port")]
    [InlineData("redis://host/abc", "database")]
    [InlineData("redis://host?colour=blue", "colour")]
    [InlineData("redis://host?tls=maybe", "tls")]
    [InlineData("redis://:hunter2@[::1", "bracket")]
    public void ABadRedisConnectionStringIsRefusedWithoutShowingItsPassword(string text, string why)
    {
        var e = Assert.Throws<AcmeArgumentException>(() => ChallengeStoreFactory.Open(text));
        Assert.Equal("AcmeInvalidStore", e.ErrorId);
        Assert.Contains(why, e.Message);
        Assert.DoesNotContain("hunter2", e.Message);
    }

    [Theory]
    [InlineData("http://store.example/acme")]
    [InlineData("memcached://host")]
    public void AnUnknownSchemeIsRefused(string text)
    {
        var e = Assert.Throws<AcmeArgumentException>(() => ChallengeStoreFactory.Open(text));
        Assert.Equal("AcmeInvalidStore", e.ErrorId);
    }

    [Fact]
    public async Task TheHealthEndpointSays200WhileTheStoreAnswersAnd503WhenItIsGone()
    {
        string shared = Directory.CreateDirectory(Path.Combine(_root, "shared")).FullName;
        DirectoryChallengeStore store = DirectoryChallengeStore.Open(shared);
        await store.PublishAsync(Token, Answer, DateTimeOffset.UtcNow.AddHours(1), default);
        using Http01Server responder = Http01Server.StartWithHealth(0, store, IPAddress.Loopback, NullAcmeLog.Instance);

        (int status, _, string body) = await Http01ListenerTests.SendRawAsync(responder.Port, $"GET {Http01Server.HealthPath} HTTP/1.1\r\n\r\n");
        Assert.Equal((200, "ok"), (status, body));
        (status, _, body) = await Http01ListenerTests.SendRawAsync(responder.Port, $"GET /.well-known/acme-challenge/{Token} HTTP/1.1\r\n\r\n");
        Assert.Equal((200, Answer), (status, body));
        (status, _, _) = await Http01ListenerTests.SendRawAsync(responder.Port, "GET /.well-known/acme-challenge/UnknownTokenUnknownToken HTTP/1.1\r\n\r\n");
        Assert.Equal(404, status);
        Assert.Equal((1, 1), (responder.AnswersServed, responder.TokensNotFound));

        Directory.Delete(shared, recursive: true);
        (status, _, _) = await Http01ListenerTests.SendRawAsync(responder.Port, $"GET {Http01Server.HealthPath} HTTP/1.1\r\n\r\n");
        Assert.Equal(503, status);
    }

    [Fact]
    public async Task ThePlainListenerHasNoHealthEndpoint()
    {
        using Http01Server responder = Http01Server.Start(0, new InMemoryChallengeStore(), IPAddress.Loopback);
        (int status, _, _) = await Http01ListenerTests.SendRawAsync(responder.Port, $"GET {Http01Server.HealthPath} HTTP/1.1\r\n\r\n");
        Assert.Equal(404, status);
    }

    [Fact]
    public async Task ASolverPublishesIntoAStoreAndChecksTheAnswerThroughAResponderBeforeTheCaIsAsked()
    {
        DirectoryChallengeStore store = DirectoryChallengeStore.Open(_root);
        using Http01Server responder = Http01Server.StartWithHealth(0, store, IPAddress.Loopback, NullAcmeLog.Instance);
        AcmeChallenge challenge = new(new AcmeIdentifier("dns", "a.test"), AcmeChallenge.Http01, new Uri("https://ca.test/c/1"), Token, "thumb");
        Http01Solver solver = Http01Solver.WithStore(store, new Uri($"http://127.0.0.1:{responder.Port}/"));

        await solver.PresentAsync(new[] { challenge }, default);
        Assert.Equal(challenge.KeyAuthorization, await store.GetKeyAuthorizationAsync(Token, default));
        Assert.Equal(1, responder.AnswersServed);
        await solver.CleanupAsync(new[] { challenge }, default);
        Assert.Null(await store.GetKeyAuthorizationAsync(Token, default));
    }

    [Fact]
    public async Task ASelfCheckThroughAUrlThatServesAnotherStoreFailsBeforeTheCaIsAsked()
    {
        DirectoryChallengeStore store = DirectoryChallengeStore.Open(_root);
        using Http01Server elsewhere = Http01Server.StartWithHealth(0, new InMemoryChallengeStore(), IPAddress.Loopback, NullAcmeLog.Instance);
        AcmeChallenge challenge = new(new AcmeIdentifier("dns", "a.test"), AcmeChallenge.Http01, new Uri("https://ca.test/c/1"), Token, "thumb");
        Http01Solver solver = Http01Solver.WithStore(store, new Uri($"http://127.0.0.1:{elsewhere.Port}"));

        var e = await Assert.ThrowsAsync<AcmeLocalException>(() => solver.PresentAsync(new[] { challenge }, default));
        Assert.Equal("AcmeSelfCheckFailed", e.ErrorId);
        await solver.CleanupAsync(new[] { challenge }, default);
        Assert.Empty(Directory.GetFileSystemEntries(_root));
    }

    [Theory]
    [InlineData("https://balancer.example/")]
    [InlineData("http://balancer.example/?x=1")]
    public void ACheckUrlMustBePlainHttp(string url)
    {
        var e = Assert.Throws<AcmeArgumentException>(() => Http01Solver.WithStore(new InMemoryChallengeStore(), new Uri(url)));
        Assert.Equal("AcmeInvalidCheckUrl", e.ErrorId);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
