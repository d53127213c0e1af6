using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Client;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;
using Acme.Protocol.Model;
using Acme.Protocol.Transport;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>Request choreography against <see cref="FakeAcmeServer"/>: no network, every request counted.</summary>
public class ChoreographyTests
{
    private static (FakeAcmeServer Server, AcmeClient Client, AcmeAccount Account) Setup()
    {
        var fake = new FakeAcmeServer();
        var server = new AcmeServer(new Uri(FakeAcmeServer.Base + "/dir?" + Guid.NewGuid().ToString("N")));
        fake.Route("GET", "/dir", fake.Directory is { } _ ? DirectoryRoute() : null!);
        var connection = AcmeConnection.Register(server, fake);
        var account = new AcmeAccount(server, AcmeKey.Generate(AcmeKeyAlgorithm.EC256), new Uri(FakeAcmeServer.Base + "/acct/1"));
        return (fake, new AcmeClient(connection), account);
    }

    private static Func<FakeAcmeServer.Recorded, HttpResponseMessage> DirectoryRoute() => _ => FakeAcmeServer.Json(200, new JsonObject
    {
        ["newNonce"] = FakeAcmeServer.Base + "/nonce",
        ["newAccount"] = FakeAcmeServer.Base + "/account",
        ["newOrder"] = FakeAcmeServer.Base + "/order",
    });

    private static JsonObject OrderJson(string status, string? certificate = null) => new()
    {
        ["status"] = status,
        ["identifiers"] = new JsonArray(new JsonObject { ["type"] = "dns", ["value"] = "a.test" }),
        ["authorizations"] = new JsonArray(FakeAcmeServer.Base + "/authz/1"),
        ["finalize"] = FakeAcmeServer.Base + "/order/1/finalize",
        ["certificate"] = certificate,
    };

    private static JsonObject AuthzJson(string status) => new()
    {
        ["status"] = status,
        ["identifier"] = new JsonObject { ["type"] = "dns", ["value"] = "a.test" },
        ["challenges"] = new JsonArray(new JsonObject
        {
            ["type"] = "http-01", ["url"] = FakeAcmeServer.Base + "/chall/1", ["status"] = status == "valid" ? "valid" : "pending",
            ["token"] = "tok",
        }),
    };

    [Fact]
    public async Task BadNonceIsRetriedWithTheNonceFromTheError()
    {
        var (fake, client, account) = Setup();
        int calls = 0;
        fake.Route("POST", "/order", r =>
        {
            if (Interlocked.Increment(ref calls) <= 2)
            {
                var bad = FakeAcmeServer.Problem(400, "badNonce", "JWS has an invalid anti-replay nonce");
                bad.Headers.Add("Replay-Nonce", "from-error-" + calls);
                return bad;
            }

            var ok = FakeAcmeServer.Json(201, OrderJson("pending"));
            ok.Headers.Location = new Uri(FakeAcmeServer.Base + "/order/1");
            return ok;
        });
        fake.Route("POST", "/authz/1", _ => FakeAcmeServer.Json(200, AuthzJson("pending")));

        AcmeOrder order = await client.NewOrderAsync(account, new[] { new AcmeIdentifier("dns", "a.test") });

        var posts = fake.Requests.Where(r => r.Path == "/order").ToList();
        Assert.Equal(3, posts.Count);
        Assert.Equal("from-error-1", posts[1].Nonce);
        Assert.Equal("from-error-2", posts[2].Nonce);
        // The directory's response carried a nonce, so no HEAD newNonce was needed at all.
        Assert.Equal(0, fake.Count("HEAD", "/nonce"));
        Assert.Equal(AcmeOrderStatus.Pending, order.Status);
        Assert.Single(order.Authorizations);
    }

    [Fact]
    public async Task BadNonceRetriesAreBoundedAndEndInABadNonceError()
    {
        var (fake, client, account) = Setup();
        fake.Route("POST", "/order", _ => FakeAcmeServer.Problem(400, "badNonce", "always bad"));
        var e = await Assert.ThrowsAsync<AcmeBadNonceException>(() => client.NewOrderAsync(account, new[] { new AcmeIdentifier("dns", "a.test") }));
        Assert.Equal(AcmeConnection.MaxBadNonceRetries + 1, fake.Count("POST", "/order"));
        Assert.Equal("always bad", e.Problem.Detail);
        Assert.Equal("POST", e.Problem.RequestMethod);
    }

    [Fact]
    public async Task NoncesFromResponsesAreReusedAndTheDirectoryIsFetchedOnce()
    {
        var (fake, client, account) = Setup();
        fake.Route("POST", "/authz/1", _ => FakeAcmeServer.Json(200, AuthzJson("pending")));
        for (int i = 0; i < 5; i++)
        {
            await client.GetAuthorizationAsync(account, new Uri(FakeAcmeServer.Base + "/authz/1"));
        }

        Assert.Equal(0, fake.Count("HEAD", "/nonce"));
        Assert.Equal(1, fake.Count("GET", "/dir"));
        var nonces = fake.Requests.Where(r => r.Method == "POST").Select(r => r.Nonce).ToList();
        Assert.Equal(nonces.Count, nonces.Distinct().Count());
    }

    [Fact]
    public async Task PostAsGetIsRetriedAfter503ButAStateChangingPostIsNot()
    {
        var (fake, client, account) = Setup();
        int authzCalls = 0;
        fake.Route("POST", "/authz/1", _ =>
        {
            if (Interlocked.Increment(ref authzCalls) == 1)
            {
                var busy = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent("busy") };
                busy.Headers.Add("Retry-After", "0");
                return busy;
            }

            return FakeAcmeServer.Json(200, AuthzJson("valid"));
        });
        AcmeAuthorization authz = await client.GetAuthorizationAsync(account, new Uri(FakeAcmeServer.Base + "/authz/1"));
        Assert.Equal(AcmeAuthorizationStatus.Valid, authz.Status);
        Assert.Equal(2, authzCalls);

        fake.Route("POST", "/order", _ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent("busy") });
        var e = await Assert.ThrowsAsync<AcmeServerException>(() => client.NewOrderAsync(account, new[] { new AcmeIdentifier("dns", "a.test") }));
        Assert.Equal(1, fake.Count("POST", "/order"));
        Assert.Contains("503", e.Message);
    }

    [Fact]
    public async Task RateLimitedCarriesRetryAfter()
    {
        var (fake, client, account) = Setup();
        fake.Route("POST", "/order", _ =>
        {
            var limited = FakeAcmeServer.Problem(429, "rateLimited", "too many new orders");
            limited.Headers.Add("Retry-After", "3600");
            return limited;
        });
        var e = await Assert.ThrowsAsync<AcmeRateLimitedException>(() => client.NewOrderAsync(account, new[] { new AcmeIdentifier("dns", "a.test") }));
        Assert.Equal(TimeSpan.FromHours(1), e.RetryAfter);
        Assert.Equal(1, fake.Count("POST", "/order"));
    }

    [Fact]
    public async Task RedirectsAreNotFollowedAndOversizedOrMistypedBodiesAreProtocolErrors()
    {
        var (fake, client, account) = Setup();
        fake.Route("POST", "/authz/1", _ =>
        {
            var redirect = new HttpResponseMessage(HttpStatusCode.TemporaryRedirect);
            redirect.Headers.Location = new Uri("https://elsewhere.test/steal");
            return redirect;
        });
        var url = new Uri(FakeAcmeServer.Base + "/authz/1");
        var redirected = await Assert.ThrowsAsync<AcmeProtocolException>(() => client.GetAuthorizationAsync(account, url));
        Assert.Contains("elsewhere.test", redirected.Message);
        Assert.Equal(1, fake.Count("POST", "/authz/1"));

        fake.Route("POST", "/authz/1", _ => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new ByteArrayContent(new byte[AcmeConnection.MaxResponseBytes + 1]),
        });
        Assert.Contains("bytes", (await Assert.ThrowsAsync<AcmeProtocolException>(() => client.GetAuthorizationAsync(account, url))).Message);

        fake.Route("POST", "/authz/1", _ => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StringContent("<html>hello</html>", Encoding.UTF8, "text/html"),
        });
        Assert.Contains("text/html", (await Assert.ThrowsAsync<AcmeProtocolException>(() => client.GetAuthorizationAsync(account, url))).Message);

        fake.Route("POST", "/authz/1", _ => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StringContent("{\"status\":\"valid\",", Encoding.UTF8, "application/json"),
        });
        Assert.Contains("not a JSON object", (await Assert.ThrowsAsync<AcmeProtocolException>(() => client.GetAuthorizationAsync(account, url))).Message);
    }

    [Fact]
    public async Task AnEmptyNoncePoolIsRefilledWithOneHeadNewNonce()
    {
        var (fake, client, account) = Setup();
        fake.Route("GET", "/dir", r =>
        {
            var response = DirectoryRoute()(r);
            response.Headers.Add("Replay-Nonce", "");
            return response;
        });
        fake.IssueNonces = false;
        fake.Route("HEAD", "/nonce", _ =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK);
            response.Headers.Add("Replay-Nonce", "head-" + Guid.NewGuid().ToString("N"));
            return response;
        });
        fake.Route("POST", "/authz/1", _ => FakeAcmeServer.Json(200, AuthzJson("pending")));
        await client.GetAuthorizationAsync(account, new Uri(FakeAcmeServer.Base + "/authz/1"));
        await client.GetAuthorizationAsync(account, new Uri(FakeAcmeServer.Base + "/authz/1"));
        Assert.Equal(2, fake.Count("HEAD", "/nonce"));
        Assert.All(fake.Requests.Where(r => r.Method == "POST"), r => Assert.StartsWith("head-", r.Nonce));
    }

    [Fact]
    public async Task ConcurrentRequestsEachKeepTheNonceTheirOwnHeadFetched()
    {
        // With no nonce in any other answer, every request needs a HEAD newNonce; one request's fetched
        // nonce must not be taken by another, which would leave the first with none.
        var (fake, client, account) = Setup();
        fake.Route("GET", "/dir", r =>
        {
            var response = DirectoryRoute()(r);
            response.Headers.Add("Replay-Nonce", "");
            return response;
        });
        fake.IssueNonces = false;
        fake.Route("HEAD", "/nonce", _ =>
        {
            // A body that takes a moment to read holds each HEAD between its headers and its end,
            // the window in which another request could take the nonce from a shared pool.
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new SlowStream(20)) };
            response.Headers.Add("Replay-Nonce", "head-" + Guid.NewGuid().ToString("N"));
            return response;
        });
        fake.Route("POST", "/authz/1", _ => FakeAcmeServer.Json(200, AuthzJson("pending")));
        await client.GetDirectoryAsync();
        var url = new Uri(FakeAcmeServer.Base + "/authz/1");
        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(() => client.GetAuthorizationAsync(account, url))));
        var nonces = fake.Requests.Where(r => r.Method == "POST").Select(r => r.Nonce).ToList();
        Assert.Equal(32, nonces.Count);
        Assert.Equal(32, nonces.Distinct().Count());
        Assert.Equal(32, fake.Count("HEAD", "/nonce"));
    }

    [Fact]
    public async Task MissingReplayNonceOnNewNonceIsAProtocolError()
    {
        var (fake, client, account) = Setup();
        fake.IssueNonces = false;
        var e = await Assert.ThrowsAsync<AcmeProtocolException>(() => client.GetAuthorizationAsync(account, new Uri(FakeAcmeServer.Base + "/authz/1")));
        Assert.Contains("Replay-Nonce", e.Message);
    }

    [Fact]
    public async Task OrderPollingHonoursRetryAfterFromAFakeServer()
    {
        // Pebble 2.4 sends no Retry-After; this fake does, so the wait is measured against it.
        var (fake, client, account) = Setup();
        int polls = 0;
        fake.Route("POST", "/order/1", _ =>
        {
            bool done = Interlocked.Increment(ref polls) >= 2;
            var response = FakeAcmeServer.Json(200, OrderJson(done ? "valid" : "processing", done ? FakeAcmeServer.Base + "/cert/1" : null));
            response.Headers.Add("Retry-After", "1");
            return response;
        });
        var order = new AcmeOrder(account, new Uri(FakeAcmeServer.Base + "/order/1"));
        order.Update(Acme.Protocol.Json.JsonCodec.ParseObject(OrderJson("processing").ToJsonString()));
        order.RetryAfter = TimeSpan.FromSeconds(1);
        var policy = new RetryPolicy(TimeSpan.FromMilliseconds(10), 1.5, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));
        var watch = Stopwatch.StartNew();
        await OrderFlow.WaitForOrderAsync(client, order, s => s == AcmeOrderStatus.Valid, policy);
        Assert.Equal(AcmeOrderStatus.Valid, order.Status);
        Assert.Equal(2, polls);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1.9), $"The two polls came after {watch.Elapsed.TotalSeconds} s; Retry-After asked for 1 s each.");
    }

    [Fact]
    public async Task ARetryAfterBeyondTheTimeoutEndsTheWaitWithTheSuggestedTime()
    {
        var (fake, client, account) = Setup();
        var order = new AcmeOrder(account, new Uri(FakeAcmeServer.Base + "/order/1"));
        order.Update(Acme.Protocol.Json.JsonCodec.ParseObject(OrderJson("processing").ToJsonString()));
        order.RetryAfter = TimeSpan.FromHours(2);
        var policy = new RetryPolicy(timeout: TimeSpan.FromSeconds(5));
        var e = await Assert.ThrowsAsync<AcmeTimeoutException>(() => OrderFlow.WaitForOrderAsync(client, order, s => s == AcmeOrderStatus.Valid, policy));
        Assert.NotNull(e.SuggestedRetryAt);
        Assert.True(e.SuggestedRetryAt > DateTimeOffset.UtcNow.AddHours(1.9));
        Assert.Equal(0, fake.Count("POST", "/order/1"));
    }

    [Fact]
    public async Task CancellationStopsAWaitAtOnce()
    {
        var (fake, client, account) = Setup();
        fake.Route("POST", "/order/1", _ => FakeAcmeServer.Json(200, OrderJson("processing")));
        var order = new AcmeOrder(account, new Uri(FakeAcmeServer.Base + "/order/1"));
        order.Update(Acme.Protocol.Json.JsonCodec.ParseObject(OrderJson("processing").ToJsonString()));
        using var cts = new CancellationTokenSource();
        var policy = new RetryPolicy(TimeSpan.FromSeconds(30), 1, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5));
        Task wait = OrderFlow.WaitForOrderAsync(client, order, s => s == AcmeOrderStatus.Valid, policy, cancellationToken: cts.Token);
        cts.CancelAfter(100);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
        Assert.Equal(0, fake.Count("POST", "/order/1"));
    }

    [Fact]
    public async Task AnInvalidAuthorizationEndsTheWaitWithTheChallengeError()
    {
        var (fake, client, account) = Setup();
        fake.Route("POST", "/authz/1", _ => FakeAcmeServer.Json(200, new JsonObject
        {
            ["status"] = "invalid",
            ["identifier"] = new JsonObject { ["type"] = "dns", ["value"] = "a.test" },
            ["challenges"] = new JsonArray(new JsonObject
            {
                ["type"] = "http-01", ["url"] = FakeAcmeServer.Base + "/chall/1", ["status"] = "invalid", ["token"] = "tok",
                ["error"] = new JsonObject { ["type"] = "urn:ietf:params:acme:error:connection", ["detail"] = "connection refused" },
            }),
        }));
        var order = new AcmeOrder(account, new Uri(FakeAcmeServer.Base + "/order/1"));
        order.Update(Acme.Protocol.Json.JsonCodec.ParseObject(OrderJson("pending").ToJsonString()));
        var pending = AcmeAuthorization.FromJson(new Uri(FakeAcmeServer.Base + "/authz/1"),
            Acme.Protocol.Json.JsonCodec.ParseObject(AuthzJson("pending").ToJsonString()), account.KeyThumbprint);
        order.Authorizations = new[] { pending };
        var e = await Assert.ThrowsAsync<AcmeAuthorizationFailedException>(() =>
            OrderFlow.WaitForAuthorizationsAsync(client, order, new[] { pending }, RetryPolicy.Default));
        Assert.Equal("a.test", e.Authorization.Identifier.Value);
        Assert.Equal(AcmeProblemTypes.Connection, e.Problem.Type);
        Assert.Contains("connection refused", e.Message);
        Assert.Equal(1, fake.Count("POST", "/authz/1"));
    }

    /// <summary>A one-byte body that is read only after a delay.</summary>
    private sealed class SlowStream : System.IO.Stream
    {
        private readonly int _delayMs;
        private bool _done;

        public SlowStream(int delayMs) => _delayMs = delayMs;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => 1;

        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (_done)
            {
                return 0;
            }

            await Task.Delay(_delayMs, cancellationToken);
            _done = true;
            buffer[offset] = (byte)'.';
            return 1;
        }

        public override void Flush() { }

        public override long Seek(long offset, System.IO.SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
