using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Client;
using Acme.Protocol.Crypto;
using Acme.Protocol.Model;
using Acme.Protocol.Transport;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// The transport's retry rules for answers Pebble 2.4 never gives (server Retry-After on 429 and
/// 503), against <see cref="FakeAcmeServer"/>. The same faults are driven end to end through the
/// cmdlets by tests/Pester/Faults.Tests.ps1 with a real TLS proxy in front of Pebble.
/// </summary>
public class TransportRuleTests
{
    private static readonly AcmeIdentifier[] s_name = { new("dns", "a.test") };

    private static (FakeAcmeServer Fake, AcmeClient Client, AcmeAccount Account) Connect()
    {
        var fake = new FakeAcmeServer();
        var server = new AcmeServer(new Uri(FakeAcmeServer.Base + "/dir?transport-" + Guid.NewGuid().ToString("N")));
        var client = new AcmeClient(AcmeConnection.Register(server, fake));
        return (fake, client, new AcmeAccount(server, AcmeKey.Generate(AcmeKeyAlgorithm.EC256), new Uri(FakeAcmeServer.Base + "/acct/1")));
    }

    private static HttpResponseMessage RateLimited(string? retryAfter)
    {
        HttpResponseMessage limited = FakeAcmeServer.Problem(429, "rateLimited", "too many new orders recently");
        if (retryAfter is not null)
        {
            limited.Headers.Add("Retry-After", retryAfter);
        }

        return limited;
    }

    private static HttpResponseMessage CreatedOrder()
    {
        HttpResponseMessage created = FakeAcmeServer.Json(201, new JsonObject
        {
            ["status"] = "ready",
            ["identifiers"] = new JsonArray(new JsonObject { ["type"] = "dns", ["value"] = "a.test" }),
            ["authorizations"] = new JsonArray(),
            ["finalize"] = FakeAcmeServer.Base + "/order/1/finalize",
        });
        created.Headers.Location = new Uri(FakeAcmeServer.Base + "/order/1");
        return created;
    }

    [Fact]
    public async Task AShortRateLimitOnNewOrderIsWaitedOutThenRetriedWithAFreshNonce()
    {
        var (fake, client, account) = Connect();
        int calls = 0;
        fake.Route("POST", "/order", _ => Interlocked.Increment(ref calls) == 1 ? RateLimited("1") : CreatedOrder());

        var watch = Stopwatch.StartNew();
        AcmeOrder order = await client.NewOrderAsync(account, s_name);

        Assert.Equal(AcmeOrderStatus.Ready, order.Status);
        Assert.Equal(2, fake.Count("POST", "/order"));
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(950), $"the retry came after {watch.ElapsedMilliseconds} ms, before the 1 s Retry-After");
        var nonces = fake.Requests.Where(r => r.Path == "/order").Select(r => r.Nonce).ToList();
        Assert.NotEqual(nonces[0], nonces[1]);
    }

    [Fact]
    public async Task ShortRateLimitsAreWaitedOutABoundedNumberOfTimes()
    {
        var (fake, client, account) = Connect();
        fake.Route("POST", "/order", _ => RateLimited("0"));
        var e = await Assert.ThrowsAsync<AcmeRateLimitedException>(() => client.NewOrderAsync(account, s_name));
        Assert.Equal(AcmeConnection.MaxRateLimitRetries + 1, fake.Count("POST", "/order"));
        Assert.Equal("too many new orders recently", e.Problem.Detail);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("11")]
    [InlineData("86400")]
    public async Task ARateLimitWithoutAShortRetryAfterEndsAtOnceWithTheTimeToComeBack(string? retryAfter)
    {
        var (fake, client, account) = Connect();
        fake.Route("POST", "/order", _ => RateLimited(retryAfter));
        var e = await Assert.ThrowsAsync<AcmeRateLimitedException>(() => client.NewOrderAsync(account, s_name));
        Assert.Equal(1, fake.Count("POST", "/order"));
        Assert.Equal(retryAfter is null ? null : TimeSpan.FromSeconds(int.Parse(retryAfter)), e.RetryAfter);
    }

    [Fact]
    public async Task A503WithALongRetryAfterIsNotRetriedAndCarriesTheTime()
    {
        var (fake, client, _) = Connect();
        fake.Route("GET", "/dir", _ =>
        {
            var busy = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent("<html>maintenance</html>") };
            busy.Headers.Add("Retry-After", "120");
            return busy;
        });
        var e = await Assert.ThrowsAsync<AcmeServerException>(() => client.GetDirectoryAsync());
        Assert.Equal(1, fake.Count("GET", "/dir"));
        Assert.Equal(TimeSpan.FromSeconds(120), e.RetryAfter);
        Assert.Contains("maintenance", e.Message);
    }

    [Fact]
    public async Task A503WithAShortRetryAfterOnTheDirectoryIsRetriedABoundedNumberOfTimes()
    {
        var (fake, client, _) = Connect();
        fake.Route("GET", "/dir", _ =>
        {
            var busy = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent("busy") };
            busy.Headers.Add("Retry-After", "0");
            return busy;
        });
        await Assert.ThrowsAsync<AcmeServerException>(() => client.GetDirectoryAsync());
        Assert.Equal(AcmeConnection.MaxReadRetries + 1, fake.Count("GET", "/dir"));
    }

    [Fact]
    public async Task ABare429OnHeadNewNonceIsRateLimitedEvenWithoutAProblemDocument()
    {
        var (fake, client, account) = Connect();
        fake.IssueNonces = false;
        fake.Route("HEAD", "/nonce", _ =>
        {
            var limited = new HttpResponseMessage((HttpStatusCode)429);
            limited.Headers.Add("Retry-After", "3600");
            return limited;
        });
        var e = await Assert.ThrowsAsync<AcmeRateLimitedException>(() => client.NewOrderAsync(account, s_name));
        Assert.Equal(TimeSpan.FromHours(1), e.RetryAfter);
        Assert.Equal(1, fake.Count("HEAD", "/nonce"));
        Assert.Equal(0, fake.Count("POST", "/order"));
    }
}
