using System;
using System.Diagnostics;
using System.Linq;
using System.Net.Http;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
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

/// <summary>
/// Finalize as OrderFlow drives it: the processing state with the server's Retry-After (which Pebble
/// 2.4 never sends), orderNotReady after another client finalized, a caller's CSR, alternate chains.
/// </summary>
public class FinalizeTests
{
    private static readonly AcmeIdentifier[] s_names = { new("dns", "a.test") };

    private static (FakeAcmeServer Fake, AcmeClient Client, AcmeOrder Order) Setup(string status)
    {
        var fake = new FakeAcmeServer();
        var server = new AcmeServer(new Uri(FakeAcmeServer.Base + "/dir?" + Guid.NewGuid().ToString("N")));
        var connection = AcmeConnection.Register(server, fake);
        var account = new AcmeAccount(server, AcmeKey.Generate(AcmeKeyAlgorithm.EC256), new Uri(FakeAcmeServer.Base + "/acct/1"));
        var order = new AcmeOrder(account, new Uri(FakeAcmeServer.Base + "/order/1"));
        order.Update(Acme.Protocol.Json.JsonCodec.ParseObject(OrderJson(status).ToJsonString()));
        return (fake, new AcmeClient(connection), order);
    }

    private static JsonObject OrderJson(string status) => new()
    {
        ["status"] = status,
        ["identifiers"] = new JsonArray(new JsonObject { ["type"] = "dns", ["value"] = "a.test" }),
        ["authorizations"] = new JsonArray(FakeAcmeServer.Base + "/authz/1"),
        ["finalize"] = FakeAcmeServer.Base + "/order/1/finalize",
        ["certificate"] = status == "valid" ? FakeAcmeServer.Base + "/cert/1" : null,
    };

    private static HttpResponseMessage Order(string status, string? retryAfter = null)
    {
        HttpResponseMessage response = FakeAcmeServer.Json(200, OrderJson(status));
        if (retryAfter is not null)
        {
            response.Headers.Add("Retry-After", retryAfter);
        }

        return response;
    }

    /// <summary>A leaf for a.test under an intermediate that one root or another signed: the same certificate, two chains.</summary>
    private static (string Default, string Alternate) Chains()
    {
        using ECDsa rootAKey = ECDsa.Create(), rootBKey = ECDsa.Create(), intermediateKey = ECDsa.Create(), leafKey = ECDsa.Create();
        DateTimeOffset from = DateTimeOffset.UtcNow.AddDays(-1), until = DateTimeOffset.UtcNow.AddDays(30);
        X509Certificate2 Ca(string name, ECDsa key, X509Certificate2? issuer, ECDsa? issuerKey)
        {
            var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
            return issuer is null
                ? request.CreateSelfSigned(from, until)
                : request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey!), from, until, RandomNumberGenerator.GetBytes(8));
        }

        X509Certificate2 rootA = Ca("CN=Root A", rootAKey, null, null);
        X509Certificate2 rootB = Ca("CN=Root B", rootBKey, null, null);
        X509Certificate2 viaA = Ca("CN=Intermediate", intermediateKey, rootA, rootAKey);
        X509Certificate2 viaB = Ca("CN=Intermediate", intermediateKey, rootB, rootBKey);
        var leafRequest = new CertificateRequest("CN=a.test", leafKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("a.test");
        leafRequest.CertificateExtensions.Add(san.Build());
        X509Certificate2 leaf = leafRequest.Create(viaA.SubjectName, X509SignatureGenerator.CreateForECDsa(intermediateKey), from, until, RandomNumberGenerator.GetBytes(8));
        return (leaf.ExportCertificatePem() + "\n" + viaA.ExportCertificatePem() + "\n", leaf.ExportCertificatePem() + "\n" + viaB.ExportCertificatePem() + "\n");
    }

    private static HttpResponseMessage Pem(string pem, string? alternate = null)
    {
        var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent(pem, Encoding.ASCII, "application/pem-certificate-chain") };
        if (alternate is not null)
        {
            response.Headers.Add("Link", $"<{alternate}>;rel=\"alternate\"");
        }

        return response;
    }

    private static readonly RetryPolicy s_fast = new(TimeSpan.FromMilliseconds(10), 1.5, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));

    [Fact]
    public async Task FakeServer_FinalizeWaitsThroughProcessingAsRetryAfterSaysAndDownloadsEveryChain()
    {
        var (fake, client, order) = Setup("ready");
        var (defaultChain, alternateChain) = Chains();
        fake.Route("POST", "/order/1/finalize", _ => Order("processing", "1"));
        int polls = 0;
        fake.Route("POST", "/order/1", _ => Interlocked.Increment(ref polls) < 2 ? Order("processing", "1") : Order("valid"));
        fake.Route("POST", "/cert/1", _ => Pem(defaultChain, FakeAcmeServer.Base + "/cert/1/1"));
        fake.Route("POST", "/cert/1/1", _ => Pem(alternateChain, FakeAcmeServer.Base + "/cert/1"));
        using AcmeKey key = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);

        var watch = Stopwatch.StartNew();
        var chains = await OrderFlow.FinalizeAsync(client, order, key, null, s_fast);

        Assert.Equal(AcmeOrderStatus.Valid, order.Status);
        Assert.Equal(1, fake.Count("POST", "/order/1/finalize"));
        Assert.Equal(2, polls);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1.9), $"Two polls after {watch.Elapsed.TotalSeconds} s; Retry-After asked for 1 s before each.");
        Assert.Equal(2, chains.Count);
        Assert.Equal(chains[0].Thumbprint, chains[1].Thumbprint);
        Assert.Equal(new[] { "CN=Root A", "CN=Root B" }, chains.Select(c => c.ChainIssuer));

        AcmeCertificate chosen = ChainSelector.Choose(chains, "root b");
        Assert.Equal("CN=Root B", chosen.ChainIssuer);
        Assert.Equal("CN=Root A", Assert.Single(chosen.AlternateChains).ChainIssuer);
        Assert.Equal("CN=Root A", ChainSelector.Choose(chains, "Root C").ChainIssuer);
    }

    [Fact]
    public async Task FakeServer_OrderNotReadyOnFinalizeResumesAnOrderAnotherClientFinalized()
    {
        var (fake, client, order) = Setup("ready");
        var (defaultChain, _) = Chains();
        fake.Route("POST", "/order/1/finalize", _ => FakeAcmeServer.Problem(403, "orderNotReady", "Order's status (\"processing\") was not ready"));
        fake.Route("POST", "/order/1", _ => Order("valid"));
        fake.Route("POST", "/cert/1", _ => Pem(defaultChain));
        using AcmeKey key = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);

        var chains = await OrderFlow.FinalizeAsync(client, order, key, null, s_fast);

        Assert.Single(chains);
        Assert.Equal(1, fake.Count("POST", "/order/1/finalize"));
        Assert.Equal(AcmeOrderStatus.Valid, order.Status);
    }

    [Fact]
    public async Task FakeServer_OrderNotReadyForAnOrderThatIsStillNotReadyIsReported()
    {
        var (fake, client, order) = Setup("ready");
        fake.Route("POST", "/order/1/finalize", _ => FakeAcmeServer.Problem(403, "orderNotReady", "not ready"));
        fake.Route("POST", "/order/1", _ => Order("pending"));
        using AcmeKey key = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);

        var e = await Assert.ThrowsAsync<AcmeProblemException>(() => OrderFlow.FinalizeAsync(client, order, key, null, s_fast));
        Assert.Equal(AcmeProblemTypes.OrderNotReady, e.Problem.Type);
    }

    [Fact]
    public async Task FakeServer_ACallersCsrIsSentAsItIsAndAMismatchingOneIsNot()
    {
        var (fake, client, order) = Setup("ready");
        fake.Route("POST", "/order/1/finalize", _ => Order("invalid"));
        fake.Route("POST", "/authz/1", _ => FakeAcmeServer.Json(200, new JsonObject
        {
            ["status"] = "valid",
            ["identifier"] = new JsonObject { ["type"] = "dns", ["value"] = "a.test" },
            ["challenges"] = new JsonArray(),
        }));
        using AcmeKey key = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);
        byte[] other = CsrBuilder.Build(key, new[] { new AcmeIdentifier("dns", "b.test") });
        var e = await Assert.ThrowsAsync<AcmeArgumentException>(() => OrderFlow.FinalizeAsync(client, order, null, other, s_fast));
        Assert.Equal("AcmeCsrMismatch", e.ErrorId);
        Assert.Equal(0, fake.Count("POST", "/order/1/finalize"));

        byte[] mine = CsrBuilder.Build(key, s_names);
        await Assert.ThrowsAsync<AcmeOrderFailedException>(() => OrderFlow.FinalizeAsync(client, order, null, mine, s_fast));
        Assert.Equal(Base64Url.Encode(mine), (string?)fake.Requests.Single(r => r.Path == "/order/1/finalize").Payload!["csr"]);
    }
}
