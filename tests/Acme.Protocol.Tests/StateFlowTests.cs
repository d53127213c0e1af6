using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Acme.Protocol.Client;
using Acme.Protocol.Crypto;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;
using Acme.Protocol.Model;
using Acme.Protocol.Renewal;
using Acme.Protocol.State;
using Acme.Protocol.Transport;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// The renewal check and the pipeline steps with a state folder. ARI and profiles are not in Pebble 2.4,
/// so the tests that need a CA use <see cref="FakeAcmeServer"/> and say so in their names.
/// </summary>
public class StateFlowTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private sealed class Setup : IDisposable
    {
        public Setup(bool ari = true, JsonObject? profiles = null)
        {
            Fake = new FakeAcmeServer();
            Fake.Route("GET", "/dir", _ =>
            {
                var directory = new JsonObject
                {
                    ["newNonce"] = FakeAcmeServer.Base + "/nonce",
                    ["newAccount"] = FakeAcmeServer.Base + "/account",
                    ["newOrder"] = FakeAcmeServer.Base + "/order",
                    ["meta"] = new JsonObject { ["profiles"] = profiles?.DeepClone() },
                };
                if (ari)
                {
                    directory["renewalInfo"] = FakeAcmeServer.Base + "/renewal-info";
                }

                return FakeAcmeServer.Json(200, directory);
            });
            Server = new AcmeServer(new Uri(FakeAcmeServer.Base + "/dir?" + Guid.NewGuid().ToString("N")));
            Client = new AcmeClient(AcmeConnection.Register(Server, Fake), Log);
            Store = Temp.Open();
            Account = TempState.SaveAccount(Store, Server, "default");
        }

        public FakeAcmeServer Fake { get; }

        public AcmeServer Server { get; }

        public WarningLog Log { get; } = new();

        public AcmeClient Client { get; }

        public TempState Temp { get; } = new();

        public AcmeStateStore Store { get; }

        public AcmeAccount Account { get; }

        /// <summary>A saved certificate issued <paramref name="age"/> ago for <paramref name="lifetime"/>.</summary>
        public AcmeCertificate Saved(TimeSpan age, TimeSpan lifetime, AcmeKeyAlgorithm algorithm = AcmeKeyAlgorithm.EC256, string? profile = null)
        {
            AcmeOrder order = TempState.Order(Account, "valid", "renew.test", "www.renew.test");
            order.Profile = profile;
            return TempState.SaveCertificate(Store, order, TempState.Issue(AcmeKey.Generate(algorithm), Now - age, lifetime, "renew.test", "www.renew.test"));
        }

        public void Window(AcmeCertificate certificate, DateTimeOffset start, DateTimeOffset end, string? retryAfter = "3600") =>
            Fake.Route("GET", "/renewal-info/" + AcmeRenewalInfo.GetCertificateId(certificate.Certificate), _ =>
            {
                HttpResponseMessage response = FakeAcmeServer.Json(200, new JsonObject
                {
                    ["suggestedWindow"] = new JsonObject { ["start"] = start.ToString("o"), ["end"] = end.ToString("o") },
                    ["explanationURL"] = "https://ca.test/why",
                });
                if (retryAfter is not null)
                {
                    response.Headers.Add("Retry-After", retryAfter);
                }

                return response;
            });

        public int AriRequests => Fake.Requests.Count(r => r.Path.StartsWith("/renewal-info/", StringComparison.Ordinal));

        /// <summary>The certificate as the next run reads it from the state folder.</summary>
        public AcmeCertificate Reread(AcmeCertificate certificate) =>
            Store.ReadCertificate(Server, certificate.Name!, n => Store.ReadAccount(Server, n))!;

        public void Dispose() => Temp.Dispose();
    }

    internal sealed class WarningLog : IAcmeWarningLog
    {
        public List<string> Warnings { get; } = new();

        public bool IsDebugEnabled => false;

        public void Verbose(string message) { }

        public void Debug(string message) { }

        public void Warning(string message) => Warnings.Add(message);
    }

    [Theory]
    [InlineData(90, 59, 61)]   // a third of 90 days left: due after day 60
    [InlineData(45, 29, 31)]   // due after day 30
    [InlineData(6, 2.9, 3.1)]  // under 10 days: due at half-life, day 3
    public async Task WithoutAriASavedCertificateIsDueAtItsLifetimeFraction(int lifetimeDays, double notDueAtDay, double dueAtDay)
    {
        using var setup = new Setup(ari: false);
        AcmeCertificate certificate = setup.Saved(TimeSpan.Zero, TimeSpan.FromDays(lifetimeDays));

        AcmeRenewalCheck early = await CertificateSteps.CheckRenewalAsync(setup.Client, certificate, false, Now.AddDays(notDueAtDay), setup.Log);
        Assert.False(early.Due);
        Assert.Equal(RenewalReason.NotDue, early.Reason);
        Assert.Null(early.RetryAfter);

        AcmeRenewalCheck late = await CertificateSteps.CheckRenewalAsync(setup.Client, certificate, false, Now.AddDays(dueAtDay), setup.Log);
        Assert.True(late.Due);
        Assert.Equal(RenewalReason.LifetimeFraction, late.Reason);
        Assert.Same(certificate, late.Certificate);
        Assert.Equal(0, setup.AriRequests);
    }

    [Theory]
    [InlineData(90)]
    [InlineData(45)]
    [InlineData(6)]
    public async Task FakeServer_AnAriWindowDecidesForEveryLifetime(int lifetimeDays)
    {
        using var setup = new Setup();
        AcmeCertificate certificate = setup.Saved(TimeSpan.Zero, TimeSpan.FromDays(lifetimeDays));
        // A window long before the lifetime rule's moment: the CA wants the certificate replaced early.
        setup.Window(certificate, Now.AddHours(2), Now.AddHours(4));

        AcmeRenewalCheck before = await CertificateSteps.CheckRenewalAsync(setup.Client, certificate, false, Now.AddHours(1), setup.Log);
        Assert.False(before.Due);
        Assert.InRange(before.RenewAt, Now.AddHours(2).AddSeconds(-1), Now.AddHours(4));
        Assert.Equal(new Uri("https://ca.test/why"), before.ExplanationUrl);

        AcmeRenewalCheck after = await CertificateSteps.CheckRenewalAsync(setup.Client, setup.Reread(certificate), false, Now.AddHours(5), setup.Log);
        Assert.True(after.Due);
        Assert.Equal(RenewalReason.Ari, after.Reason);
        Assert.Equal(before.RenewAt, after.RenewAt);
    }

    [Fact]
    public async Task FakeServer_AriIsNotAskedAgainBeforeRetryAfterAndTheChosenMomentIsKept()
    {
        using var setup = new Setup();
        AcmeCertificate certificate = setup.Saved(TimeSpan.FromDays(10), TimeSpan.FromDays(90));
        setup.Window(certificate, Now.AddDays(40), Now.AddDays(42), retryAfter: "3600");

        AcmeRenewalCheck first = await CertificateSteps.CheckRenewalAsync(setup.Client, certificate, false, Now, setup.Log);
        Assert.Equal(1, setup.AriRequests);
        Assert.False(first.Due);
        Assert.InRange(first.RetryAfter!.Value, Now.AddMinutes(59), Now.AddMinutes(61));

        // Another run half an hour later reads the saved answer: no request, the same moment.
        AcmeRenewalCheck second = await CertificateSteps.CheckRenewalAsync(setup.Client, setup.Reread(certificate), false, Now.AddMinutes(30), setup.Log);
        Assert.Equal(1, setup.AriRequests);
        Assert.Equal(first.RenewAt, second.RenewAt);

        // After Retry-After the CA is asked again; the same window keeps the moment chosen the first time.
        AcmeRenewalCheck third = await CertificateSteps.CheckRenewalAsync(setup.Client, setup.Reread(certificate), false, Now.AddHours(2), setup.Log);
        Assert.Equal(2, setup.AriRequests);
        Assert.Equal(first.RenewAt, third.RenewAt);

        // A new window (an incident: renew now) gets a new moment inside it.
        setup.Window(certificate, Now.AddHours(-1), Now.AddHours(1));
        AcmeRenewalCheck fourth = await CertificateSteps.CheckRenewalAsync(setup.Client, setup.Reread(certificate), false, Now.AddHours(4), setup.Log);
        Assert.Equal(3, setup.AriRequests);
        Assert.InRange(fourth.RenewAt, Now.AddHours(-1).AddSeconds(-1), Now.AddHours(1));
        Assert.True(fourth.Due);
        Assert.Equal(RenewalReason.Ari, fourth.Reason);
    }

    [Fact]
    public async Task FakeServer_AFailingRenewalInfoFallsBackToTheLifetimeRuleWithAWarning()
    {
        using var setup = new Setup();
        AcmeCertificate certificate = setup.Saved(TimeSpan.FromDays(70), TimeSpan.FromDays(90));
        setup.Fake.Route("GET", "/renewal-info/" + AcmeRenewalInfo.GetCertificateId(certificate.Certificate),
            _ => FakeAcmeServer.Problem(500, "serverInternal", "ARI is down"));

        AcmeRenewalCheck check = await CertificateSteps.CheckRenewalAsync(setup.Client, certificate, false, Now, setup.Log);

        Assert.True(check.Due);
        Assert.Equal(RenewalReason.LifetimeFraction, check.Reason);
        Assert.Contains(setup.Log.Warnings, w => w.Contains("lifetime rule") && w.Contains("renew.test"));
    }

    [Fact]
    public async Task RevokedExpiredAndForcedCertificatesAreDueWithoutAskingTheCa()
    {
        using var setup = new Setup();
        AcmeCertificate fresh = setup.Saved(TimeSpan.Zero, TimeSpan.FromDays(90));
        Assert.Equal(RenewalReason.Forced, (await CertificateSteps.CheckRenewalAsync(setup.Client, fresh, true, Now, setup.Log)).Reason);

        await CertificateSteps.RecordRevocationAsync(fresh, AcmeRevocationReason.KeyCompromise, setup.Log);
        AcmeCertificate revoked = setup.Reread(fresh);
        Assert.NotNull(revoked.RevokedAt);
        Assert.Equal(RenewalReason.Revoked, (await CertificateSteps.CheckRenewalAsync(setup.Client, revoked, false, Now, setup.Log)).Reason);

        AcmeCertificate expired = setup.Saved(TimeSpan.FromDays(91), TimeSpan.FromDays(90));
        Assert.Equal(RenewalReason.Expired, (await CertificateSteps.CheckRenewalAsync(setup.Client, expired, false, Now, setup.Log)).Reason);
        Assert.Equal(0, setup.AriRequests);
    }

    [Fact]
    public async Task FakeServer_ARenewalOrderKeepsTheAccountNamesProfileAndKeyTypeAndSaysWhatItReplaces()
    {
        using var setup = new Setup(profiles: new JsonObject { ["classic"] = "The usual" });
        AcmeCertificate certificate = setup.Saved(TimeSpan.FromDays(70), TimeSpan.FromDays(90), AcmeKeyAlgorithm.EC384, "classic");
        setup.Fake.Route("POST", "/order", r =>
        {
            HttpResponseMessage ok = FakeAcmeServer.Json(201, new JsonObject
            {
                ["status"] = "pending",
                ["identifiers"] = r.Payload!["identifiers"]!.DeepClone(),
                ["authorizations"] = new JsonArray(FakeAcmeServer.Base + "/authz/1"),
                ["finalize"] = FakeAcmeServer.Base + "/order/2/finalize",
                ["profile"] = r.Payload?["profile"]?.DeepClone(),
                ["replaces"] = r.Payload?["replaces"]?.DeepClone(),
            });
            ok.Headers.Location = new Uri(FakeAcmeServer.Base + "/order/2");
            return ok;
        });
        setup.Fake.Route("POST", "/authz/1", _ => FakeAcmeServer.Json(200, new JsonObject
        {
            ["status"] = "valid",
            ["identifier"] = new JsonObject { ["type"] = "dns", ["value"] = "renew.test" },
            ["challenges"] = new JsonArray(),
        }));

        AcmeOrder order = await OrderSteps.NewReplacementOrderAsync(setup.Client, certificate, null, null, null, null, null);

        JsonNode payload = setup.Fake.Requests.Single(r => r.Path == "/order").Payload!;
        Assert.Equal(AcmeRenewalInfo.GetCertificateId(certificate.Certificate), (string?)payload["replaces"]);
        Assert.Equal("classic", (string?)payload["profile"]);
        Assert.Equal(new[] { "renew.test", "www.renew.test" }, payload["identifiers"]!.AsArray().Select(i => (string)i!["value"]!));
        Assert.Equal(setup.Account.Location, order.Account.Location);
        Assert.Equal("renew.test", order.Name);
        Assert.Equal(AcmeKeyAlgorithm.EC384, setup.Store.ReadOrder(setup.Server, "renew.test", n => setup.Store.ReadAccount(setup.Server, n))!.KeyAlgorithm);
    }

    [Fact]
    public async Task FakeServer_ARenewalBlockedByAnEarlierUnfinishedReplacementOrdersWithoutReplaces()
    {
        using var setup = new Setup();
        AcmeCertificate certificate = setup.Saved(TimeSpan.FromDays(70), TimeSpan.FromDays(90));
        setup.Fake.Route("POST", "/order", r =>
        {
            if (r.Payload?["replaces"] is not null)
            {
                return FakeAcmeServer.Problem(409, "alreadyReplaced", "The certificate already has a replacement order.");
            }

            HttpResponseMessage ok = FakeAcmeServer.Json(201, new JsonObject
            {
                ["status"] = "ready",
                ["identifiers"] = r.Payload!["identifiers"]!.DeepClone(),
                ["authorizations"] = new JsonArray(),
                ["finalize"] = FakeAcmeServer.Base + "/order/3/finalize",
            });
            ok.Headers.Location = new Uri(FakeAcmeServer.Base + "/order/3");
            return ok;
        });

        AcmeOrder order = await OrderSteps.NewReplacementOrderAsync(setup.Client, certificate, null, null, null, null, null);

        Assert.Equal(2, setup.Fake.Count("POST", "/order"));
        Assert.Null(order.Replaces);
        Assert.Equal("renew.test", order.Name);
    }

    [Fact]
    public async Task FakeServer_AnOrderFinalizedByAProcessThatDiedIsDownloadedForTheSavedKeyWithoutFinalizingAgain()
    {
        using var setup = new Setup();
        // What the dead process left: the order saved as processing, its certificate key saved before finalize.
        AcmeOrder order = TempState.Order(setup.Account, "processing", "resume.test");
        setup.Store.WriteOrder(order);
        AcmeKey key = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);
        setup.Store.WriteOrderKey(order, key);
        AcmeCertificate issued = TempState.Issue(key, Now, TimeSpan.FromDays(90), "resume.test");
        setup.Fake.Route("POST", order.Location.AbsolutePath, _ => FakeAcmeServer.Json(200, new JsonObject
        {
            ["status"] = "valid",
            ["identifiers"] = new JsonArray(new JsonObject { ["type"] = "dns", ["value"] = "resume.test" }),
            ["authorizations"] = new JsonArray("https://ca.test/authz/1"),
            ["finalize"] = "https://ca.test/finalize/1",
            ["certificate"] = FakeAcmeServer.Base + "/cert/1",
        }));
        setup.Fake.Route("POST", "/cert/1", _ => new HttpResponseMessage(System.Net.HttpStatusCode.OK)
        {
            Content = new StringContent(issued.Pem, Encoding.ASCII, "application/pem-certificate-chain"),
        });

        AcmeOrder resumed = setup.Store.ReadOrder(setup.Server, "resume.test", n => setup.Store.ReadAccount(setup.Server, n))!;
        AcmeCertificate certificate = await OrderSteps.CompleteOrderAsync(setup.Client, resumed, null, null, null, null,
            RetryPolicy.Default.WithTimeout(TimeSpan.FromSeconds(10)));

        Assert.Equal(key.Thumbprint, certificate.Key!.Thumbprint);
        Assert.True(key.MatchesCertificate(certificate.Certificate));
        Assert.DoesNotContain(setup.Fake.Requests, r => r.Path.Contains("finalize"));
        AcmeCertificate saved = setup.Reread(certificate);
        Assert.Equal(certificate.Thumbprint, saved.Thumbprint);
        Assert.Equal(key.Thumbprint, saved.Key!.Thumbprint);
        Assert.Empty(Directory.GetFiles(setup.Store.CertificateFolder(setup.Server, "resume.test"), "order-key-*.pem"));
    }

    [Theory]
    [InlineData(11, 0)]
    [InlineData(1400, 0)]
    [InlineData(2, 65 * 1024)]
    public async Task FakeCa_AChainPastTheBoundsIsRefusedAndNothingIsSavedOrExported(int copies, int padBytes)
    {
        // A CA that sends many copies of a certificate (1,400 copies were a megabyte, accepted and saved as
        // fullchain.pem), or one certificate of more than 64 KiB. Pebble always sends a sane chain.
        using var setup = new Setup();
        AcmeOrder order = TempState.Order(setup.Account, "processing", "chain.test");
        setup.Store.WriteOrder(order);
        AcmeKey key = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);
        setup.Store.WriteOrderKey(order, key);
        AcmeCertificate issued = TempState.Issue(key, Now, TimeSpan.FromDays(90), "chain.test");
        string body = string.Concat(Enumerable.Repeat(issued.Pem.TrimEnd() + "\n", copies));
        if (padBytes > 0)
        {
            // The second certificate: an over-long DER body (its content need not parse; its size is refused first).
            body += Pem.Encode("CERTIFICATE", new byte[padBytes]);
        }

        setup.Fake.Route("POST", order.Location.AbsolutePath, _ => FakeAcmeServer.Json(200, new JsonObject
        {
            ["status"] = "valid",
            ["identifiers"] = new JsonArray(new JsonObject { ["type"] = "dns", ["value"] = "chain.test" }),
            ["authorizations"] = new JsonArray("https://ca.test/authz/1"),
            ["finalize"] = "https://ca.test/finalize/1",
            ["certificate"] = FakeAcmeServer.Base + "/cert/1",
        }));
        setup.Fake.Route("POST", "/cert/1", _ => new HttpResponseMessage(System.Net.HttpStatusCode.OK)
        {
            Content = new StringContent(body, Encoding.ASCII, "application/pem-certificate-chain"),
        });

        AcmeOrder resumed = setup.Store.ReadOrder(setup.Server, "chain.test", n => setup.Store.ReadAccount(setup.Server, n))!;
        var e = await Assert.ThrowsAsync<AcmeProtocolException>(() => OrderSteps.CompleteOrderAsync(setup.Client, resumed, null, null, null, null,
            RetryPolicy.Default.WithTimeout(TimeSpan.FromSeconds(10))));

        Assert.Equal("AcmeChainTooLong", e.ErrorId);
        Assert.Contains(padBytes > 0 ? "more than the 65536" : $"holds {copies} certificates, more than the 10", e.Message);
        Assert.Equal(1, setup.Fake.Count("POST", "/cert/1"));
        string folder = setup.Store.CertificateFolder(setup.Server, "chain.test");
        string[] chains = Directory.Exists(folder) ? Directory.GetFiles(folder, "fullchain.pem", SearchOption.AllDirectories) : Array.Empty<string>();
        Assert.Empty(chains);
        // The order key stays, so the download can be resumed once the CA sends a sane chain.
        Assert.Single(Directory.GetFiles(folder, "order-key-*.pem"));
    }
    [Fact]
    public void ACertificatesNamesCompareAsAnOrderWouldSendThem()
    {
        AcmeCertificate certificate = TempState.Issue(AcmeKey.Generate(AcmeKeyAlgorithm.EC256), Now, TimeSpan.FromDays(90), "xn--bcher-kva.test", "www.names.test");

        Assert.True(certificate.HasNames(new[] { "WWW.Names.TEST.", "bücher.test" }));
        Assert.False(certificate.HasNames(new[] { "www.names.test" }));
        Assert.False(certificate.HasNames(new[] { "www.names.test", "bücher.test", "api.names.test" }));
        Assert.Equal("AcmeInvalidIdentifier", Assert.Throws<AcmeArgumentException>(() => certificate.HasNames(new[] { "not a name" })).ErrorId);
    }

    [Fact]
    public async Task FakeServer_NewAcmeCertificateRenewsACertificateTheCaWindowMadeDueSayingWhatItReplaces()
    {
        // New-AcmeCertificate's step, which the AcmeCertificate DSC resource's Set runs; Pebble 2.4 has no ARI.
        using var setup = new Setup();
        AcmeCertificate saved = setup.Saved(TimeSpan.FromDays(10), TimeSpan.FromDays(90));
        setup.Window(saved, Now.AddDays(-2), Now.AddDays(-1));
        setup.Fake.Route("POST", "/order", r =>
        {
            HttpResponseMessage created = FakeAcmeServer.Json(201, RenewalOrder("ready", r.Payload!["identifiers"]!));
            created.Headers.Location = new Uri(FakeAcmeServer.Base + "/order/9");
            return created;
        });
        setup.Fake.Route("POST", "/order/9/finalize", r =>
        {
            setup.Fake.Route("POST", "/cert/9", _ => new HttpResponseMessage(System.Net.HttpStatusCode.OK)
            {
                Content = new StringContent(IssueFor(Base64Url.Decode((string)r.Payload!["csr"]!)), Encoding.ASCII, "application/pem-certificate-chain"),
            });
            return FakeAcmeServer.Json(200, RenewalOrder("valid", setup.Fake.Requests.Single(q => q.Path == "/order").Payload!["identifiers"]!));
        });

        (AcmeCertificate renewed, bool issued) = await CertificateSteps.IssueAsync(setup.Client, setup.Store, "renew.test",
            IdentifierParser.Parse(new[] { "www.renew.test", "renew.test" }), "default", Array.Empty<string>(), false, null, null, null,
            new NoSolver(), RetryPolicy.Default.WithTimeout(TimeSpan.FromSeconds(10)), false);

        Assert.True(issued);
        Assert.Equal(AcmeRenewalInfo.GetCertificateId(saved.Certificate), (string?)setup.Fake.Requests.Single(r => r.Path == "/order").Payload!["replaces"]);
        Assert.NotEqual(saved.Thumbprint, renewed.Thumbprint);
        Assert.Equal(renewed.Thumbprint, setup.Reread(saved).Thumbprint);
        Assert.Equal(saved.Key!.Name, renewed.Key!.Name);
    }

    private static JsonObject RenewalOrder(string status, JsonNode identifiers) => new()
    {
        ["status"] = status,
        ["identifiers"] = identifiers.DeepClone(),
        ["authorizations"] = new JsonArray(),
        ["finalize"] = FakeAcmeServer.Base + "/order/9/finalize",
        ["certificate"] = status == "valid" ? FakeAcmeServer.Base + "/cert/9" : null,
    };

    /// <summary>What a CA issues for a CSR: its key and names, signed by a throwaway issuer.</summary>
    private static string IssueFor(byte[] csr)
    {
        CertificateRequest request = CertificateRequest.LoadSigningRequest(csr, HashAlgorithmName.SHA256,
            CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        using ECDsa issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 leaf = request.Create(new X500DistinguishedName("CN=Renewal Test Issuer"), X509SignatureGenerator.CreateForECDsa(issuerKey),
            Now.AddMinutes(-1), Now.AddDays(90), RandomNumberGenerator.GetBytes(8));
        return leaf.ExportCertificatePem() + "\n";
    }

    /// <summary>A solver for orders that need no answer (their authorizations are valid already).</summary>
    private sealed class NoSolver : IChallengeSolver
    {
        public string ChallengeType => "http-01";

        public Task PresentAsync(IReadOnlyList<AcmeChallenge> challenges, System.Threading.CancellationToken cancellationToken) =>
            throw new InvalidOperationException("Nothing should need an answer.");

        public Task CleanupAsync(IReadOnlyList<AcmeChallenge> challenges, System.Threading.CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
