using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.Challenges.Http01;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// The http-01 listener on real sockets: what it answers to hostile requests, how solvers share one
/// listener per port, and that a flood of idle connections does not keep a real request out.
/// </summary>
public class Http01ListenerTests
{
    private const string Token = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
    private const string Answer = Token + ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

    public static IEnumerable<object[]> HostileRequests() => new[]
    {
        // request, expected status; every non-200 answer must have an empty body
        new object[] { $"GET /.well-known/acme-challenge/{Token} HTTP/1.1\r\nHost: a.test\r\n\r\n", 200 },
        new object[] { $"GET /.well-known/acme-challenge/{Token} HTTP/1.0\r\n\r\n", 200 },
        new object[] { $"GET /.well-known/acme-challenge/UnknownTokenUnknownTokenUnknownToken HTTP/1.1\r\n\r\n", 404 },
        new object[] { "GET /.well-known/acme-challenge/../../../etc/passwd HTTP/1.1\r\n\r\n", 404 },
        new object[] { "GET /.well-known/acme-challenge/..%2F..%2Fetc%2Fpasswd HTTP/1.1\r\n\r\n", 404 },
        new object[] { $"GET /.well-known/acme-challenge/%2e%2e/{Token} HTTP/1.1\r\n\r\n", 404 },
        new object[] { $"GET /.well-known/acme-challenge/{Token}/../{Token} HTTP/1.1\r\n\r\n", 404 },
        new object[] { $"GET /.well-known/acme-challenge/x/../{Token} HTTP/1.1\r\n\r\n", 404 },
        new object[] { $"GET /.well-known/acme-challenge/{Token}?download=1 HTTP/1.1\r\n\r\n", 404 },
        new object[] { $"GET /.well-known/acme-challenge/{Token}%00 HTTP/1.1\r\n\r\n", 404 },
        new object[] { $"GET /.well-known/acme-challenge/{Token}/ HTTP/1.1\r\n\r\n", 404 },
        new object[] { $"GET //.well-known/acme-challenge/{Token} HTTP/1.1\r\n\r\n", 404 },
        new object[] { $"GET /.WELL-KNOWN/ACME-CHALLENGE/{Token} HTTP/1.1\r\n\r\n", 404 },
        new object[] { $"GET /.well-known/acme-challenge/{Token.ToLowerInvariant()} HTTP/1.1\r\n\r\n", 404 },
        new object[] { "GET /.well-known/acme-challenge/ HTTP/1.1\r\n\r\n", 404 },
        new object[] { "GET / HTTP/1.1\r\n\r\n", 404 },
        new object[] { "GET /index.html HTTP/1.1\r\n\r\n", 404 },
        new object[] { "GET /.well-known/ HTTP/1.1\r\n\r\n", 404 },
        new object[] { "GET http://evil.test/ HTTP/1.1\r\n\r\n", 404 },
        new object[] { "GET /.well-known/acme-challenge/" + new string('A', 4000) + " HTTP/1.1\r\n\r\n", 404 },
        new object[] { "GET /" + new string('a', 9000) + " HTTP/1.1\r\n\r\n", 400 },
        new object[] { "GET / HTTP/1.1\r\n" + string.Concat(Enumerable.Repeat("X-Junk: " + new string('j', 100) + "\r\n", 100)) + "\r\n", 400 },
        new object[] { $"POST /.well-known/acme-challenge/{Token} HTTP/1.1\r\nContent-Length: 2\r\n\r\n{{}}", 405 },
        new object[] { $"PUT /.well-known/acme-challenge/{Token} HTTP/1.1\r\n\r\n", 405 },
        new object[] { $"DELETE /.well-known/acme-challenge/{Token} HTTP/1.1\r\n\r\n", 405 },
        new object[] { $"OPTIONS /.well-known/acme-challenge/{Token} HTTP/1.1\r\n\r\n", 405 },
        new object[] { $"TRACE /.well-known/acme-challenge/{Token} HTTP/1.1\r\n\r\n", 405 },
        new object[] { $"PATCH /.well-known/acme-challenge/{Token} HTTP/1.1\r\n\r\n", 405 },
        new object[] { "CONNECT evil.test:443 HTTP/1.1\r\n\r\n", 405 },
        new object[] { $"get /.well-known/acme-challenge/{Token} HTTP/1.1\r\n\r\n", 405 },
        new object[] { $"GET /.well-known/acme-challenge/{Token} HTTP/2.0\r\n\r\n", 400 },
        new object[] { "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400 },
        new object[] { $"GET  /.well-known/acme-challenge/{Token} HTTP/1.1\r\n\r\n", 400 },
        new object[] { $"GET /.well-known/acme-challenge/{Token}\r\n\r\n", 400 },
        new object[] { "\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003\r\n\r\n", 400 },
        new object[] { "\r\n\r\n", 400 },
    };

    [Theory]
    [MemberData(nameof(HostileRequests))]
    public async Task OnlyGetOrHeadOfAKnownTokenIsAnsweredAndEverythingElseGetsAnEmptyError(string request, int expected)
    {
        var store = new InMemoryChallengeStore();
        store.Add(Token, Answer);
        using Http01Server responder = Http01Server.Start(0, store, IPAddress.Loopback);

        (int status, string headers, string body) = await SendRawAsync(responder.Port, request);

        Assert.Equal(expected, status);
        Assert.Equal(expected == 200 ? Answer : string.Empty, body);
        Assert.DoesNotContain("Server:", headers, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Connection: close", headers);
        Assert.Equal(expected == 200 ? 1 : 0, responder.AnswersServed);
    }

    [Fact]
    public async Task HeadGetsTheLengthButNoBody()
    {
        var store = new InMemoryChallengeStore();
        store.Add(Token, Answer);
        using Http01Server responder = Http01Server.Start(0, store, IPAddress.Loopback);
        (int status, string headers, string body) = await SendRawAsync(responder.Port, $"HEAD /.well-known/acme-challenge/{Token} HTTP/1.1\r\n\r\n");
        Assert.Equal(200, status);
        Assert.Contains($"Content-Length: {Answer.Length}", headers);
        Assert.Equal(string.Empty, body);
    }

    [Fact]
    public async Task SolversOnOnePortShareOneListenerThatStopsWithTheLast()
    {
        int port = FreePort();
        using Http01PortLease first = Http01PortLease.Acquire(port, IPAddress.Loopback);
        first.Add("tokenA", "tokenA.thumb");
        using Http01PortLease second = Http01PortLease.Acquire(port, IPAddress.Loopback);
        second.Add("tokenB", "tokenB.thumb");
        Assert.Equal(port, second.Port);

        Assert.Equal("tokenA.thumb", await first.SelfCheckAsync("tokenA", "a.test", default));
        Assert.Equal("tokenB.thumb", await first.SelfCheckAsync("tokenB", "b.test", default));

        first.Dispose();
        Assert.Null(await second.SelfCheckAsync("tokenA", "a.test", default));
        Assert.Equal("tokenB.thumb", await second.SelfCheckAsync("tokenB", "b.test", default));
        Assert.False(PortIsFree(port));

        second.Dispose();
        Assert.True(PortIsFree(port));
    }

    [Fact]
    public async Task ATokenTwoSolversShareStaysUntilBothWithdrawIt()
    {
        int port = FreePort();
        var a = Http01PortLease.Acquire(port, IPAddress.Loopback);
        var b = Http01PortLease.Acquire(port, IPAddress.Loopback);
        a.Add(Token, Answer);
        b.Add(Token, Answer);
        a.Dispose();
        Assert.Equal(Answer, await b.SelfCheckAsync(Token, "a.test", default));
        b.Dispose();
        Assert.True(PortIsFree(port));
    }

    [Fact]
    public async Task TwoSolversPresentOnOnePortWithoutAPortInUseErrorAndCleanupFreesIt()
    {
        int port = FreePort();
        Http01Solver one = Http01Solver.WithListener(port, IPAddress.Loopback, selfCheck: true);
        Http01Solver two = Http01Solver.WithListener(port, IPAddress.Loopback, selfCheck: true);
        AcmeChallenge c1 = Challenge("one.test", "tok1");
        AcmeChallenge c2 = Challenge("two.test", "tok2");

        await one.PresentAsync(new[] { c1 }, default);
        await two.PresentAsync(new[] { c2 }, default);
        await one.CleanupAsync(new[] { c1 }, default);
        Assert.False(PortIsFree(port));
        Assert.Equal(c2.KeyAuthorization, await Http01Server.HttpGetAsync(IPAddress.Loopback, port, "/.well-known/acme-challenge/tok2", "two.test", default));
        await two.CleanupAsync(new[] { c2 }, default);
        Assert.True(PortIsFree(port));
    }

    [Fact]
    public async Task AFloodOfIdleConnectionsBeyondTheLimitDoesNotKeepARealRequestOut()
    {
        var store = new InMemoryChallengeStore();
        store.Add(Token, Answer);
        using Http01Server responder = Http01Server.Start(0, store, IPAddress.Loopback, null, maxConnections: 50);
        List<TcpClient> junk = await OpenJunkAsync(responder.Port, 200, Encoding.ASCII.GetBytes("GET /.well-known/acme-ch"));
        try
        {
            (int status, _, string body) = await SendRawAsync(responder.Port, $"GET /.well-known/acme-challenge/{Token} HTTP/1.1\r\n\r\n");
            Assert.Equal(200, status);
            Assert.Equal(Answer, body);
            Assert.True(responder.ConnectionsDropped >= 100, $"only {responder.ConnectionsDropped} junk connections were dropped");
        }
        finally
        {
            junk.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public void DisposingFreesThePortEvenWithConnectionsStillOpen()
    {
        var responder = Http01Server.Start(0, new InMemoryChallengeStore(), IPAddress.Loopback);
        int port = responder.Port;
        using var idle = new TcpClient(AddressFamily.InterNetwork);
        idle.Connect(IPAddress.Loopback, port);
        responder.Dispose();
        Assert.True(PortIsFree(port));
    }

    /// <summary>Opens idle connections; every other one trickles the start of a request (<paramref name="start"/>) and never finishes it.</summary>
    internal static async Task<List<TcpClient>> OpenJunkAsync(int port, int count, byte[] start)
    {
        var junk = new List<TcpClient>();
        for (int i = 0; i < count; i++)
        {
            var c = new TcpClient(AddressFamily.InterNetwork);
            await c.ConnectAsync(IPAddress.Loopback, port);
            if (i % 2 == 0)
            {
                await c.GetStream().WriteAsync(start);
            }

            junk.Add(c);
        }

        return junk;
    }

    [Fact]
    public async Task APortHeldElsewhereIsWaitedForWithProgressAndAnsweredOnceFree()
    {
        // A plain socket outside the shared listeners stands for another process's listener on the port.
        int port = FreePort();
        var other = new TcpListener(IPAddress.Loopback, port);
        other.Start();
        var progress = new ProgressLog();
        var log = new ListLog();
        Http01Solver solver = Http01Solver.WithListener(port, IPAddress.Loopback, selfCheck: true, log, TimeSpan.FromSeconds(20), progress);
        AcmeChallenge challenge = Challenge("waits.test", "tokW");
        var watch = System.Diagnostics.Stopwatch.StartNew();

        Task present = solver.PresentAsync(new[] { challenge }, default);
        await Task.Delay(1000);
        Assert.False(present.IsCompleted, "the solver waits while the port is held");
        Assert.Contains(progress.Reports, r => r.Status.StartsWith($"Waiting for port {port}, held by another process", StringComparison.Ordinal) && r.SecondsRemaining > 0);
        Assert.Contains(log.Lines, l => l.Contains($"Port {port} is in use") && l.Contains("waiting up to 20 seconds"));

        other.Stop();
        await present.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.InRange(watch.Elapsed.TotalSeconds, 1, 12);
        Assert.Equal(challenge.KeyAuthorization, await Http01Server.HttpGetAsync(IPAddress.Loopback, port, "/.well-known/acme-challenge/tokW", "waits.test", default));
        await solver.CleanupAsync(new[] { challenge }, default);
        Assert.True(PortIsFree(port));
    }

    [Fact]
    public async Task APortHeldForTheWholeWaitFailsWithPortInUseNamingThePortAndTheWait()
    {
        int port = FreePort();
        var other = new TcpListener(IPAddress.Loopback, port);
        other.Start();
        try
        {
            Http01Solver solver = Http01Solver.WithListener(port, IPAddress.Loopback, portWait: TimeSpan.FromSeconds(1));
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<AcmeLocalException>(() => solver.PresentAsync(new[] { Challenge("held.test", "tokH") }, default));
            Assert.Equal("AcmeListenerPortInUse", e.ErrorId);
            Assert.Contains($"Port {port} was still in use after waiting 1 seconds", e.Message);
            Assert.IsType<AcmeLocalException>(e.InnerException);
            Assert.InRange(watch.Elapsed.TotalSeconds, 0.9, 5);
            await solver.CleanupAsync(new[] { Challenge("held.test", "tokH") }, default);
        }
        finally
        {
            other.Stop();
        }
    }

    [Fact]
    public async Task NoPortWaitFailsAtOnceAsBefore()
    {
        int port = FreePort();
        var other = new TcpListener(IPAddress.Loopback, port);
        other.Start();
        try
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<AcmeLocalException>(() => Http01PortLease.AcquireAsync(port, IPAddress.Loopback, TimeSpan.Zero));
            Assert.Equal("AcmeListenerPortInUse", e.ErrorId);
            Assert.StartsWith($"Port {port} is already in use", e.Message);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1));
        }
        finally
        {
            other.Stop();
        }
    }

    [Fact]
    public async Task CancellingTheWaitForAPortEndsItAtOnce()
    {
        int port = FreePort();
        var other = new TcpListener(IPAddress.Loopback, port);
        other.Start();
        try
        {
            using var cancel = new CancellationTokenSource();
            Task<Http01PortLease> waiting = Http01PortLease.AcquireAsync(port, IPAddress.Loopback, TimeSpan.FromMinutes(5), null, null, cancel.Token);
            await Task.Delay(500);
            Assert.False(waiting.IsCompleted);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"the wait ended {watch.Elapsed.TotalMilliseconds} ms after the cancel");
        }
        finally
        {
            other.Stop();
        }
    }

    internal sealed class ProgressLog : IProgress<AcmeProgress>
    {
        private readonly List<AcmeProgress> _reports = new();

        public List<AcmeProgress> Reports
        {
            get
            {
                lock (_reports)
                {
                    return _reports.ToList();
                }
            }
        }

        public void Report(AcmeProgress value)
        {
            lock (_reports)
            {
                _reports.Add(value);
            }
        }
    }

    internal sealed class ListLog : IAcmeLog
    {
        private readonly List<string> _lines = new();

        public List<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return _lines.ToList();
                }
            }
        }

        public bool IsDebugEnabled => false;

        public void Verbose(string message)
        {
            lock (_lines)
            {
                _lines.Add(message);
            }
        }

        public void Debug(string message)
        {
        }
    }

    private static AcmeChallenge Challenge(string name, string token) =>
        new(new AcmeIdentifier("dns", name), AcmeChallenge.Http01, new Uri("https://ca.test/chall/" + token), token, "thumb");

    internal static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    internal static bool PortIsFree(int port)
    {
        try
        {
            var probe = new TcpListener(IPAddress.Loopback, port);
            probe.Start();
            probe.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Sends bytes as they are (Latin-1, so junk survives) and reads the answer until the listener closes.</summary>
    internal static async Task<(int Status, string Headers, string Body)> SendRawAsync(int port, string request)
    {
        using var client = new TcpClient(AddressFamily.InterNetwork);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        NetworkStream stream = client.GetStream();
        byte[] bytes = Encoding.Latin1.GetBytes(request);
        try
        {
            await stream.WriteAsync(bytes, timeout.Token);
        }
        catch (IOException)
        {
            // An oversized request may be cut off while it is still being sent; the answer is read below.
        }

        using var buffer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(buffer, timeout.Token);
        }
        catch (IOException)
        {
        }

        string text = Encoding.ASCII.GetString(buffer.ToArray());
        int split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(split > 0, $"no HTTP answer came back: '{text}'");
        string headers = text.Substring(0, split);
        return (int.Parse(headers.Substring(9, 3)), headers, text.Substring(split + 4));
    }
}
