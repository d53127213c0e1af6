using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
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

/// <summary>
/// What a hostile or broken CA may send that Pebble never does, against <see cref="FakeAcmeServer"/>:
/// Retry-After on a 5xx that carries a problem document, a Retry-After far past the wait, problem
/// text with control characters or hundreds of subproblems. No test sleeps the server's Retry-After:
/// the connection's delay is replaced by one that records the wait, or the answer is refused at once.
/// </summary>
public class CaAnswerBoundsTests
{
    private static readonly AcmeIdentifier[] s_name = { new("dns", "a.test") };

    private sealed class Connected
    {
        public Connected()
        {
            Fake = new FakeAcmeServer();
            var server = new AcmeServer(new Uri(FakeAcmeServer.Base + "/dir?bounds-" + Guid.NewGuid().ToString("N")));
            Connection = AcmeConnection.Register(server, Fake);
            Connection.Delay = (wait, _) =>
            {
                lock (Waits)
                {
                    Waits.Add(wait);
                }

                return Task.CompletedTask;
            };
            Client = new AcmeClient(Connection);
            Account = new AcmeAccount(server, AcmeKey.Generate(AcmeKeyAlgorithm.EC256), new Uri(FakeAcmeServer.Base + "/acct/1"));
        }

        public FakeAcmeServer Fake { get; }

        public AcmeConnection Connection { get; }

        public AcmeClient Client { get; }

        public AcmeAccount Account { get; }

        /// <summary>Every wait the connection asked for before a retry, in order.</summary>
        public List<TimeSpan> Waits { get; } = new();
    }

    private static HttpResponseMessage ServerInternal(string? retryAfter, int status = 503)
    {
        HttpResponseMessage busy = FakeAcmeServer.Problem(status, "serverInternal", "the database is being migrated");
        if (retryAfter is not null)
        {
            busy.Headers.Add("Retry-After", retryAfter);
        }

        return busy;
    }

    private static JsonObject DirectoryJson() => new()
    {
        ["newNonce"] = FakeAcmeServer.Base + "/nonce",
        ["newAccount"] = FakeAcmeServer.Base + "/account",
        ["newOrder"] = FakeAcmeServer.Base + "/order",
    };

    [Fact]
    public async Task FakeCa_A503ServerInternalWithRetryAfter10IsRetriedAfter10SecondsNotTheShortBackoff()
    {
        var c = new Connected();
        int calls = 0;
        c.Fake.Route("GET", "/dir", _ => Interlocked.Increment(ref calls) == 1 ? ServerInternal("10") : FakeAcmeServer.Json(200, DirectoryJson()));

        AcmeDirectory directory = await c.Client.GetDirectoryAsync();

        Assert.Equal(FakeAcmeServer.Base + "/order", directory.NewOrder.AbsoluteUri);
        Assert.Equal(2, c.Fake.Count("GET", "/dir"));
        Assert.Equal(new[] { TimeSpan.FromSeconds(10) }, c.Waits);
    }

    [Fact]
    public async Task FakeCa_A503ServerInternalWithAShortRetryAfterOnEveryAnswerEndsWithTheTimeAfterTheBoundedRetries()
    {
        var c = new Connected();
        c.Fake.Route("GET", "/dir", _ => ServerInternal("10"));

        var e = await Assert.ThrowsAsync<AcmeProblemException>(() => c.Client.GetDirectoryAsync());

        Assert.Equal(AcmeConnection.MaxReadRetries + 1, c.Fake.Count("GET", "/dir"));
        Assert.Equal(Enumerable.Repeat(TimeSpan.FromSeconds(10), AcmeConnection.MaxReadRetries), c.Waits);
        Assert.Equal(AcmeProblemTypes.ServerInternal, e.Problem.Type);
        Assert.Equal(TimeSpan.FromSeconds(10), e.RetryAfter);
        Assert.Contains("asked to retry after", e.Message);
    }

    [Theory]
    [InlineData("120")]
    [InlineData("31536000")]
    public async Task FakeCa_A503ServerInternalWithALongRetryAfterIsNotRetriedAndNamesTheTime(string retryAfter)
    {
        var c = new Connected();
        c.Fake.Route("GET", "/dir", _ => ServerInternal(retryAfter));

        var e = await Assert.ThrowsAsync<AcmeProblemException>(() => c.Client.GetDirectoryAsync());

        Assert.Equal(1, c.Fake.Count("GET", "/dir"));
        Assert.Empty(c.Waits);
        Assert.IsNotType<AcmeServerException>(e);
        Assert.Equal(AcmeProblemTypes.ServerInternal, e.Problem.Type);
        TimeSpan wait = TimeSpan.FromSeconds(long.Parse(retryAfter));
        Assert.Equal(wait, e.RetryAfter);
        Assert.NotNull(e.RetryAt);
        Assert.InRange(e.RetryAt!.Value, DateTimeOffset.UtcNow + wait - TimeSpan.FromMinutes(1), DateTimeOffset.UtcNow + wait);
        Assert.Contains($"({retryAfter} seconds, Retry-After)", e.Message);
        Assert.Contains("the database is being migrated", e.Message);
    }

    [Fact]
    public async Task FakeCa_A503ServerInternalOnAPostThatChangesStateIsNotRetriedButCarriesTheRetryAfter()
    {
        var c = new Connected();
        c.Fake.Route("POST", "/order", _ => ServerInternal("10"));

        var e = await Assert.ThrowsAsync<AcmeProblemException>(() => c.Client.NewOrderAsync(c.Account, s_name));

        Assert.Equal(1, c.Fake.Count("POST", "/order"));
        Assert.Empty(c.Waits);
        Assert.Equal(TimeSpan.FromSeconds(10), e.RetryAfter);
    }

    [Fact]
    public async Task FakeCa_A500WithoutRetryAfterStillBacksOffShortly()
    {
        var c = new Connected();
        c.Fake.Route("GET", "/dir", _ => ServerInternal(null, 500));

        var e = await Assert.ThrowsAsync<AcmeProblemException>(() => c.Client.GetDirectoryAsync());

        Assert.Null(e.RetryAfter);
        Assert.Equal(new[] { 0.5, 1.0, 2.0 }, c.Waits.Select(w => w.TotalSeconds));
    }

    [Fact]
    public async Task FakeCa_AProcessingOrderWhoseRetryAfterIsAYearAwaySaysSoInsteadOfClaimingTheWaitRanOut()
    {
        var c = new Connected();
        var order = new AcmeOrder(c.Account, new Uri(FakeAcmeServer.Base + "/order/1"));
        order.Update(Acme.Protocol.Json.JsonCodec.ParseObject(new JsonObject
        {
            ["status"] = "processing",
            ["identifiers"] = new JsonArray(new JsonObject { ["type"] = "dns", ["value"] = "a.test" }),
            ["authorizations"] = new JsonArray(),
            ["finalize"] = FakeAcmeServer.Base + "/order/1/finalize",
        }.ToJsonString()));
        order.RetryAfter = TimeSpan.FromDays(365);
        var policy = new RetryPolicy(timeout: TimeSpan.FromSeconds(20));

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<AcmeTimeoutException>(() => OrderFlow.WaitForOrderAsync(c.Client, order, s => s == AcmeOrderStatus.Valid, policy));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"ended after {watch.Elapsed.TotalSeconds} s");
        Assert.DoesNotContain("after 20 seconds", e.Message);
        Assert.Contains("was still processing; the server asked to come back at", e.Message);
        Assert.Contains("Retry-After: 31536000 seconds", e.Message);
        Assert.Contains("later than this wait of 20 seconds allows", e.Message);
        Assert.True(e.SuggestedRetryAt > DateTimeOffset.UtcNow.AddDays(364));
        Assert.Null(e.RequestTimeout);
    }

    [Fact]
    public async Task FakeCa_AnOrderStillProcessingAtTheEndOfTheWaitSaysHowLongItWaited()
    {
        var c = new Connected();
        c.Fake.Route("POST", "/order/1", _ => FakeAcmeServer.Json(200, new JsonObject
        {
            ["status"] = "processing",
            ["identifiers"] = new JsonArray(new JsonObject { ["type"] = "dns", ["value"] = "a.test" }),
            ["authorizations"] = new JsonArray(),
            ["finalize"] = FakeAcmeServer.Base + "/order/1/finalize",
        }));
        var order = new AcmeOrder(c.Account, new Uri(FakeAcmeServer.Base + "/order/1"));
        await c.Client.GetOrderAsync(order);
        var policy = new RetryPolicy(TimeSpan.FromMilliseconds(10), 2, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1));

        var e = await Assert.ThrowsAsync<AcmeTimeoutException>(() => OrderFlow.WaitForOrderAsync(c.Client, order, s => s == AcmeOrderStatus.Valid, policy));

        Assert.EndsWith("was still processing after 1 seconds.", e.Message);
        Assert.Null(e.SuggestedRetryAt);
    }

    private sealed class SilentHandler : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }

    [Fact]
    public async Task FakeCa_ARequestThatGoesUnansweredNamesThePerRequestTimeoutNotTimeoutSec()
    {
        var server = new AcmeServer(new Uri(FakeAcmeServer.Base + "/dir?silent-" + Guid.NewGuid().ToString("N")));
        AcmeConnection connection = AcmeConnection.Register(server, new SilentHandler());
        connection.RequestTimeout = TimeSpan.FromMilliseconds(200);

        var e = await Assert.ThrowsAsync<AcmeTimeoutException>(() => new AcmeClient(connection).GetDirectoryAsync());

        Assert.Equal(TimeSpan.FromMilliseconds(200), e.RequestTimeout);
        Assert.Null(e.SuggestedRetryAt);
        Assert.Contains("did not answer within 0.2 seconds (the per-request timeout)", e.Message);
        Assert.DoesNotContain("-TimeoutSec", e.Message); // the core names no parameter: the error record says -TimeoutSec does not change it (Errors.Tests)
    }

    /// <summary>ESC (a CSI colour and a window-title OSC), BEL, a C1 CSI, DEL, a bidi override, and line breaks.</summary>
    private const string Hostile = "bad\u001b[31mred\u001b]0;owned\u0007 text\u009b2J\u007f\u202Egnp.exe\r\nsecond line\tend";

    [Fact]
    public async Task FakeCa_ControlCharactersInAProblemNeverReachTheMessageButStayOnTheProblem()
    {
        var c = new Connected();
        c.Fake.Route("POST", "/order", _ => FakeAcmeServer.Json(400, new JsonObject
        {
            ["type"] = "urn:ietf:params:acme:error:rejectedIdentifier",
            ["detail"] = Hostile,
            ["subproblems"] = new JsonArray(new JsonObject
            {
                ["type"] = "urn:ietf:params:acme:error:rejectedIdentifier",
                ["detail"] = Hostile,
                ["identifier"] = new JsonObject { ["type"] = "dns", ["value"] = "a\u001b[2Ka.test" },
            }),
        }, "application/problem+json"));

        var e = await Assert.ThrowsAsync<AcmeProblemException>(() => c.Client.NewOrderAsync(c.Account, s_name));

        foreach (string text in new[] { e.Message, e.Problem.ToString(), e.Problem.Describe() })
        {
            Assert.DoesNotContain(text, ch => ch == '\u001b' || ch == '\u0007' || ch == '\u009b' || ch == '\u007f' || ch == '\u202E' || ch == '\t');
            Assert.Contains("bad[31mred]0;owned text2Jgnp.exe second line end", text);
        }

        // The message's only line break is the one before the subproblem, which the client puts there.
        Assert.Equal(2, e.Problem.Describe().Split('\n').Length);
        Assert.Equal(Hostile, e.Problem.Detail);
    }

    [Fact]
    public async Task FakeCa_FiveHundredSubproblemsMakeAMessageOfAFewKilobytesThatCountsTheRest()
    {
        var c = new Connected();
        var subproblems = new JsonArray();
        for (int i = 0; i < 500; i++)
        {
            subproblems.Add(new JsonObject
            {
                ["type"] = "urn:ietf:params:acme:error:rejectedIdentifier",
                ["detail"] = $"name {i} is refused: " + new string('x', 1000),
                ["identifier"] = new JsonObject { ["type"] = "dns", ["value"] = $"n{i}.test" },
            });
        }

        c.Fake.Route("POST", "/order", _ => FakeAcmeServer.Json(400, new JsonObject
        {
            ["type"] = "urn:ietf:params:acme:error:compound",
            ["detail"] = new string('d', 100_000),
            ["subproblems"] = subproblems,
        }, "application/problem+json"));

        var e = await Assert.ThrowsAsync<AcmeProblemException>(() => c.Client.NewOrderAsync(c.Account, s_name));

        Assert.InRange(e.Message.Length, 1000, 5 * 1024);
        Assert.Contains("(97952 more characters)", e.Message);
        Assert.Matches(@"\.\.\. \d+ more subproblems", e.Message);
        int shown = e.Problem.Describe().Split('\n').Count(l => l.Contains("is refused"));
        Assert.Contains($"... {500 - shown} more subproblems", e.Message);
        Assert.Equal(500, e.Problem.Subproblems.Count);
        Assert.Equal(100_000, e.Problem.Detail!.Length);
    }

    [Fact]
    public async Task FakeCa_AnHtmlErrorPageWithControlCharactersIsShortenedAndCleaned()
    {
        var c = new Connected();
        c.Fake.Route("GET", "/dir", _ =>
        {
            var page = new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("<html>\u001b[5m" + new string('z', 5000) + "</html>") };
            page.Headers.Add("Retry-After", "3600");
            return page;
        });

        var e = await Assert.ThrowsAsync<AcmeServerException>(() => c.Client.GetDirectoryAsync());

        Assert.DoesNotContain('\u001b', e.Message);
        Assert.InRange(e.Message.Length, 100, 700);
        Assert.Equal(TimeSpan.FromHours(1), e.RetryAfter);
    }
}
