using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Challenges.TlsAlpn01;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// The tls-alpn-01 listener on real sockets, handshaking with .NET's own TLS client: one listener per
/// port shared by solvers, a flood beyond the connection limit does not keep a real handshake out,
/// and a silent peer is cut off at the handshake deadline.
/// </summary>
public class TlsAlpnListenerTests
{
    private const string KeyAuthorizationA = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    private const string KeyAuthorizationB = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

    [Fact]
    public async Task SolversOnOnePortShareOneListenerThatStopsWithTheLast()
    {
        int port = Http01ListenerTests.FreePort();
        var first = TlsAlpnPortLease.Acquire(port, IPAddress.Loopback);
        first.Add(Dns("a.test"), KeyAuthorizationA);
        var second = TlsAlpnPortLease.Acquire(port, IPAddress.Loopback);
        second.Add(Dns("b.test"), KeyAuthorizationB);
        Assert.Same(first.Responder, second.Responder);
        Assert.Equal(1, TlsAlpnPortLease.ActiveCount);

        Assert.Equal(Digest(KeyAuthorizationA), await HandshakeAsync(port, "a.test"));
        Assert.Equal(Digest(KeyAuthorizationB), await HandshakeAsync(port, "b.test"));

        first.Dispose();
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(port, "a.test"));
        Assert.Equal(Digest(KeyAuthorizationB), await HandshakeAsync(port, "b.test"));
        Assert.False(PortIsFree(port));

        second.Dispose();
        Assert.True(PortIsFree(port));
        Assert.Equal(0, TlsAlpnPortLease.ActiveCount);
    }

    [Fact]
    public async Task TheLatestAnswerForANameIsServedAndWithdrawingItBringsBackTheEarlierOne()
    {
        int port = Http01ListenerTests.FreePort();
        using var first = TlsAlpnPortLease.Acquire(port, IPAddress.Loopback);
        using var second = TlsAlpnPortLease.Acquire(port, IPAddress.Loopback);
        first.Add(Dns("same.test"), KeyAuthorizationA);
        second.Add(Dns("same.test"), KeyAuthorizationB);

        Assert.Equal(Digest(KeyAuthorizationB), await HandshakeAsync(port, "same.test"));
        second.Remove(Dns("same.test"));
        Assert.Equal(Digest(KeyAuthorizationA), await HandshakeAsync(port, "same.test"));
    }

    [Fact]
    public async Task AFloodOfIdleConnectionsBeyondTheLimitDoesNotKeepARealHandshakeOut()
    {
        using TlsAlpnServer responder = TlsAlpnServer.Start(0, IPAddress.Loopback, null, maxConnections: 50);
        responder.Add(Dns("flood.test"), KeyAuthorizationA);
        // Half trickle the start of a TLS record and never finish it.
        List<TcpClient> junk = await Http01ListenerTests.OpenJunkAsync(responder.Port, 200, new byte[] { 0x16, 0x03, 0x01 });
        try
        {
            Assert.Equal(Digest(KeyAuthorizationA), await HandshakeAsync(responder.Port, "flood.test"));
            Assert.True(responder.ConnectionsDropped >= 100, $"only {responder.ConnectionsDropped} junk connections were dropped");
            // The client is done once it has sent its Finished; the listener counts the handshake when it has read it.
            Assert.True(await EventuallyAsync(() => responder.HandshakesAnswered == 1), "the listener counted the handshake");
        }
        finally
        {
            junk.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task ASilentPeerIsCutOffAtTheHandshakeDeadline()
    {
        using TlsAlpnServer responder = TlsAlpnServer.Start(0, IPAddress.Loopback, null, TlsAlpnServer.DefaultMaxConnections,
            handshakeTimeout: TimeSpan.FromMilliseconds(300));
        using var silent = new TcpClient(AddressFamily.InterNetwork);
        await silent.ConnectAsync(IPAddress.Loopback, responder.Port);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int read = await silent.GetStream().ReadAsync(new byte[16], limit.Token);
        Assert.Equal(0, read);
        Assert.True(await EventuallyAsync(() => responder.HandshakesRefused == 1), "the listener counted the refusal");
    }

    [Fact]
    public async Task AHandshakeWithoutAcmeTlsIsRefused()
    {
        using TlsAlpnServer responder = TlsAlpnServer.Start(0, IPAddress.Loopback);
        responder.Add(Dns("held.test"), KeyAuthorizationA);
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(responder.Port, "held.test", "h2"));
        Assert.Equal(0, responder.HandshakesAnswered);
    }

    [Fact]
    public async Task APortHeldForTheWholeWaitFailsWithPortInUseNamingThePortAndTheWait()
    {
        // A plain socket outside the shared listeners stands for another process's listener on the port.
        int port = Http01ListenerTests.FreePort();
        var other = new TcpListener(IPAddress.Loopback, port);
        other.Start();
        try
        {
            var progress = new Http01ListenerTests.ProgressLog();
            var solver = new TlsAlpn01Solver(port, IPAddress.Loopback, null, TimeSpan.FromSeconds(1), progress);
            var challenge = new AcmeChallenge(Dns("held.test"), AcmeChallenge.TlsAlpn01, new Uri("https://ca.test/chall/t"), "tokT", "thumb");
            var e = await Assert.ThrowsAsync<AcmeLocalException>(() => solver.PresentAsync(new[] { challenge }, default));
            Assert.Equal("AcmeListenerPortInUse", e.ErrorId);
            Assert.Contains($"Port {port} was still in use after waiting 1 seconds", e.Message);
            Assert.Contains("tls-alpn-01", e.Message);
            Assert.Contains(progress.Reports, r => r.Status.StartsWith($"Waiting for port {port}", StringComparison.Ordinal));
            Assert.Equal(0, TlsAlpnPortLease.ActiveCount);
        }
        finally
        {
            other.Stop();
        }
    }

    private static AcmeIdentifier Dns(string name) => new("dns", name);

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        for (int i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        return condition();
    }

    private static string Digest(string keyAuthorization) =>
        "0420" + Convert.ToHexString(SHA256.HashData(Encoding.ASCII.GetBytes(keyAuthorization)));

    /// <summary>A tls-alpn-01 handshake as a CA makes it; returns the acmeIdentifier extension's value in hex.</summary>
    private static async Task<string> HandshakeAsync(int port, string serverName, string protocol = TlsAlpnServer.AlpnProtocol)
    {
        using var client = new TcpClient(AddressFamily.InterNetwork);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        using var tls = new SslStream(client.GetStream(), false);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
            ApplicationProtocols = new List<SslApplicationProtocol> { new(protocol) },
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        }, timeout.Token);
        Assert.Equal(TlsAlpnServer.AlpnProtocol, tls.NegotiatedApplicationProtocol.ToString());
        using var certificate = new X509Certificate2(tls.RemoteCertificate!);
        X509Extension extension = certificate.Extensions["1.3.6.1.5.5.7.1.31"] ?? throw new InvalidOperationException("no acmeIdentifier extension");
        return Convert.ToHexString(extension.RawData);
    }

    private static bool PortIsFree(int port) => Http01ListenerTests.PortIsFree(port);
}
