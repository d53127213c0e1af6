using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Acme.Protocol.Client;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.Transport;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// ARI (RFC 9773) and profiles (draft-ietf-acme-profiles), which Pebble 2.4 does not implement: every
/// test that talks to a server uses <see cref="FakeAcmeServer"/> and says so in its name.
/// </summary>
public class RenewalInfoAndProfileTests
{
    /// <summary>RFC 9773 section 4.1's example: AKI keyIdentifier 69:88:5B:...:D4 and serial 00:87:65:43:21.</summary>
    private const string RfcExampleId = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";

    private static readonly byte[] s_rfcKeyIdentifier = Convert.FromHexString("69885B6B87464041E1B37B847BA0AE2CDE01C8D4");

    private static (FakeAcmeServer Fake, AcmeClient Client, AcmeAccount Account) Setup(bool ari = true, JsonObject? profiles = null,
        string renewalInfoPath = "/renewal-info")
    {
        var fake = new FakeAcmeServer();
        fake.Route("GET", "/dir", _ =>
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
                directory["renewalInfo"] = FakeAcmeServer.Base + renewalInfoPath;
            }

            return FakeAcmeServer.Json(200, directory);
        });
        fake.Route("POST", "/order", r =>
        {
            var ok = FakeAcmeServer.Json(201, new JsonObject
            {
                ["status"] = "ready",
                ["identifiers"] = new JsonArray(new JsonObject { ["type"] = "dns", ["value"] = "a.test" }),
                ["authorizations"] = new JsonArray(),
                ["finalize"] = FakeAcmeServer.Base + "/order/1/finalize",
                ["profile"] = r.Payload?["profile"]?.DeepClone(),
                ["replaces"] = r.Payload?["replaces"]?.DeepClone(),
            });
            ok.Headers.Location = new Uri(FakeAcmeServer.Base + "/order/1");
            return ok;
        });
        var server = new AcmeServer(new Uri(FakeAcmeServer.Base + "/dir?" + Guid.NewGuid().ToString("N")));
        var connection = AcmeConnection.Register(server, fake);
        var account = new AcmeAccount(server, AcmeKey.Generate(AcmeKeyAlgorithm.EC256), new Uri(FakeAcmeServer.Base + "/acct/1"));
        return (fake, new AcmeClient(connection), account);
    }

    private static HttpResponseMessage Window(string start, string end, string? retryAfter = null, string? explanation = null)
    {
        var body = new JsonObject { ["suggestedWindow"] = new JsonObject { ["start"] = start, ["end"] = end } };
        if (explanation is not null)
        {
            body["explanationURL"] = explanation;
        }

        HttpResponseMessage response = FakeAcmeServer.Json(200, body);
        if (retryAfter is not null)
        {
            response.Headers.Add("Retry-After", retryAfter);
        }

        return response;
    }

    private static readonly AcmeIdentifier[] s_names = { new("dns", "a.test") };

    [Fact]
    public void CertificateIdOfTheRfc9773ExampleBytes()
    {
        Assert.Equal(RfcExampleId, AcmeRenewalInfo.FormatCertificateId(s_rfcKeyIdentifier, new byte[] { 0x00, 0x87, 0x65, 0x43, 0x21 }));
    }

    [Fact]
    public void CertificateIdIsComputedFromACertificateWithTheRfc9773ExampleAkiAndSerial()
    {
        // A certificate carrying exactly the RFC's AKI keyIdentifier and the serial 0x87654321, whose
        // DER encoding needs the leading zero byte the identifier must keep.
        var generator = new ECKeyPairGenerator();
        generator.Init(new ECKeyGenerationParameters(Org.BouncyCastle.Asn1.Sec.SecObjectIdentifiers.SecP256r1, new SecureRandom()));
        var keys = generator.GenerateKeyPair();
        var builder = new X509V3CertificateGenerator();
        builder.SetSerialNumber(new BigInteger("87654321", 16));
        builder.SetIssuerDN(new X509Name("CN=Example Issuer"));
        builder.SetSubjectDN(new X509Name("CN=example.com"));
        builder.SetNotBefore(DateTime.UtcNow.AddDays(-1));
        builder.SetNotAfter(DateTime.UtcNow.AddDays(1));
        builder.SetPublicKey(keys.Public);
        builder.AddExtension(X509Extensions.AuthorityKeyIdentifier, false, new AuthorityKeyIdentifier(s_rfcKeyIdentifier));
        X509Certificate bc = builder.Generate(new Asn1SignatureFactory("SHA256WITHECDSA", keys.Private));
        using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(bc.GetEncoded());

        Assert.Equal("0087654321", certificate.SerialNumber);
        Assert.Equal(RfcExampleId, AcmeRenewalInfo.GetCertificateId(certificate));
    }

    [Fact]
    public void ACertificateWithoutAnAuthorityKeyIdentifierHasNoCertificateId()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=self", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var e = Assert.Throws<AcmeArgumentException>(() => AcmeRenewalInfo.GetCertificateId(certificate));
        Assert.Equal("AcmeCertificateIdUnavailable", e.ErrorId);
    }

    [Theory]
    [InlineData(RfcExampleId, true)]
    [InlineData("aYhba4dGQEHhs3uEe6CuLN4ByNQ", false)]
    [InlineData("aYhb.AIdl.QyE", false)]
    [InlineData(".AIdlQyE", false)]
    [InlineData("aYhb+4dG.AIdlQyE", false)]
    [InlineData("aYhb/../x.AIdlQyE", false)]
    public void CertificateIdsAreCheckedBeforeTheyGoIntoAUrl(string id, bool valid)
    {
        Assert.Equal(valid, AcmeRenewalInfo.IsCertificateId(id));
    }

    [Fact]
    public async Task FakeServer_RenewalInfoWindowExplanationAndRetryAfterAreRead()
    {
        var (fake, client, _) = Setup();
        fake.Route("GET", "/renewal-info/" + RfcExampleId, _ =>
            Window("2026-12-01T00:00:00Z", "2026-12-03T00:00:00Z", "21600", "https://ca.test/why"));

        AcmeRenewalInfo info = await client.GetRenewalInfoAsync(RfcExampleId);

        Assert.Equal(RfcExampleId, info.CertificateId);
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T00:00:00Z"), info.SuggestedWindowStart);
        Assert.Equal(DateTimeOffset.Parse("2026-12-03T00:00:00Z"), info.SuggestedWindowEnd);
        Assert.InRange(info.SelectedRenewalTime, info.SuggestedWindowStart, info.SuggestedWindowEnd);
        Assert.Equal(new Uri("https://ca.test/why"), info.ExplanationUrl);
        Assert.Equal(TimeSpan.FromHours(6), info.RetryAfter);
        Assert.Equal(info.RetrievedAt + TimeSpan.FromHours(6), info.NextCheck);
        Assert.Equal(FakeAcmeServer.Base + "/renewal-info/" + RfcExampleId, info.Url.AbsoluteUri);
        // renewalInfo is an unauthenticated GET: nothing was signed, so no nonce was needed.
        Assert.DoesNotContain(fake.Requests, r => r.Method != "GET");
    }

    [Theory]
    [InlineData("5", 60)]
    [InlineData("259200", 86400)]
    [InlineData(null, 21600)]
    public async Task FakeServer_RenewalInfoRetryAfterIsHeldBetweenAMinuteAndADay(string? retryAfter, int expectedSeconds)
    {
        var (fake, client, _) = Setup();
        fake.Route("GET", "/renewal-info/" + RfcExampleId, _ => Window("2026-12-01T00:00:00Z", "2026-12-03T00:00:00Z", retryAfter));
        AcmeRenewalInfo info = await client.GetRenewalInfoAsync(RfcExampleId);
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), info.NextCheck - info.RetrievedAt);
    }

    [Fact]
    public async Task FakeServer_RenewalInfoRetryAfterAsAnHttpDate()
    {
        var (fake, client, _) = Setup();
        string date = DateTimeOffset.UtcNow.AddHours(2).ToString("r");
        fake.Route("GET", "/renewal-info/" + RfcExampleId, _ => Window("2026-12-01T00:00:00Z", "2026-12-03T00:00:00Z", date));
        AcmeRenewalInfo info = await client.GetRenewalInfoAsync(RfcExampleId);
        Assert.InRange(info.RetryAfter!.Value, TimeSpan.FromMinutes(119), TimeSpan.FromMinutes(120));
    }

    [Theory]
    [InlineData("2026-12-03T00:00:00Z", "2026-12-01T00:00:00Z")]
    [InlineData("2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z")]
    [InlineData("2026-12-01T00:00:00Z", "not a time")]
    public async Task FakeServer_AMalformedWindowIsAProtocolError(string start, string end)
    {
        var (fake, client, _) = Setup();
        fake.Route("GET", "/renewal-info/" + RfcExampleId, _ => Window(start, end));
        await Assert.ThrowsAsync<AcmeProtocolException>(() => client.GetRenewalInfoAsync(RfcExampleId));
    }

    [Fact]
    public void TheSelectedRenewalTimeIsSpreadUniformlyOverTheWindow()
    {
        DateTimeOffset start = DateTimeOffset.Parse("2026-12-01T00:00:00Z");
        DateTimeOffset end = start.AddDays(2);
        var picks = Enumerable.Range(0, 400).Select(_ => (AcmeRenewalInfo.PickTime(start, end) - start).TotalHours / 48).ToList();
        Assert.All(picks, p => Assert.InRange(p, 0, 1));
        // Each quarter of the window gets a share; always picking the start (or the middle) would fail this.
        for (int q = 0; q < 4; q++)
        {
            int count = picks.Count(p => p >= q * 0.25 && p < (q + 1) * 0.25);
            Assert.InRange(count, 50, 150);
        }
    }

    [Fact]
    public async Task FakeServer_ACaWithoutRenewalInfoIsToldApartFromAnUnknownCertificate()
    {
        var (fake, client, _) = Setup(ari: false);
        var e = await Assert.ThrowsAsync<AcmeArgumentException>(() => client.GetRenewalInfoAsync(RfcExampleId));
        Assert.Equal("AcmeRenewalInfoUnsupported", e.ErrorId);
        Assert.Equal("/dir", Assert.Single(fake.Requests).Path);
    }

    [Fact]
    public async Task FakeServer_ARenewalInfo404AfterTheCaMovedItRefreshesTheDirectoryOnce()
    {
        // Let's Encrypt once moved its ARI URL; a client with a cached directory got 404s (Posh-ACME#631).
        string path = "/old-ari";
        var (fake, client, _) = Setup();
        fake.Route("GET", "/dir", _ => FakeAcmeServer.Json(200, new JsonObject
        {
            ["newNonce"] = FakeAcmeServer.Base + "/nonce",
            ["newAccount"] = FakeAcmeServer.Base + "/account",
            ["newOrder"] = FakeAcmeServer.Base + "/order",
            ["renewalInfo"] = FakeAcmeServer.Base + path,
        }));
        fake.Route("GET", "/old-ari/" + RfcExampleId, _ =>
        {
            path = "/new-ari";
            return new HttpResponseMessage(HttpStatusCode.NotFound);
        });
        fake.Route("GET", "/new-ari/" + RfcExampleId, _ => Window("2026-12-01T00:00:00Z", "2026-12-03T00:00:00Z"));

        AcmeRenewalInfo info = await client.GetRenewalInfoAsync(RfcExampleId);

        Assert.Equal("/new-ari/" + RfcExampleId, info.Url.AbsolutePath);
        Assert.Equal(2, fake.Count("GET", "/dir"));

        // A 404 at an unchanged URL means the CA does not know the certificate: no loop.
        fake.Route("GET", "/new-ari/" + RfcExampleId, _ => new HttpResponseMessage(HttpStatusCode.NotFound));
        var e = await Assert.ThrowsAsync<AcmeArgumentException>(() => client.GetRenewalInfoAsync(RfcExampleId));
        Assert.Equal("AcmeRenewalInfoNotFound", e.ErrorId);
        Assert.Equal(3, fake.Count("GET", "/dir"));
    }

    [Fact]
    public async Task FakeServer_ReplacesIsSentToACaWithAri()
    {
        var (fake, client, account) = Setup();
        AcmeOrder order = await client.NewOrderAsync(account, s_names, replaces: RfcExampleId);
        Assert.Equal(RfcExampleId, (string?)fake.Requests.Single(r => r.Path == "/order").Payload!["replaces"]);
        Assert.Equal(RfcExampleId, order.Replaces);
    }

    [Fact]
    public async Task FakeServer_ReplacesIsLeftOutForACaWithoutAri()
    {
        var (fake, client, account) = Setup(ari: false);
        AcmeOrder order = await client.NewOrderAsync(account, s_names, replaces: RfcExampleId);
        Assert.False(fake.Requests.Single(r => r.Path == "/order").Payload!.AsObject().ContainsKey("replaces"));
        Assert.Null(order.Replaces);
    }

    [Fact]
    public async Task FakeServer_AnInvalidReplacesIsRefusedBeforeTheOrder()
    {
        var (fake, client, account) = Setup();
        var e = await Assert.ThrowsAsync<AcmeArgumentException>(() => client.NewOrderAsync(account, s_names, replaces: "not-an-id"));
        Assert.Equal("AcmeInvalidCertificateId", e.ErrorId);
        Assert.Equal(0, fake.Count("POST", "/order"));
    }

    [Fact]
    public async Task FakeServer_AlreadyReplacedIsItsOwnException()
    {
        var (fake, client, account) = Setup();
        fake.Route("POST", "/order", _ => FakeAcmeServer.Problem(409, "alreadyReplaced", "The certificate already has a replacement order."));
        var e = await Assert.ThrowsAsync<AcmeAlreadyReplacedException>(() => client.NewOrderAsync(account, s_names, replaces: RfcExampleId));
        Assert.Equal(AcmeProblemTypes.AlreadyReplaced, e.Problem.Type);
        Assert.Equal("The certificate already has a replacement order.", e.Problem.Detail);
        // A state-changing POST is never retried.
        Assert.Equal(1, fake.Count("POST", "/order"));
    }

    [Fact]
    public async Task FakeServer_ProfilesAreListedFromTheDirectoryMeta()
    {
        var (_, client, _) = Setup(profiles: new JsonObject { ["classic"] = "The usual", ["shortlived"] = "Six days" });
        AcmeDirectory directory = await client.GetDirectoryAsync();
        Assert.Equal(new[] { "classic", "shortlived" }, directory.Profiles.Keys.OrderBy(k => k));
        Assert.Equal("Six days", directory.Profiles["shortlived"]);
    }

    [Theory]
    [InlineData("shortlived", "shortlived")]
    [InlineData("ShortLived", "shortlived")]
    public async Task FakeServer_AnOfferedProfileIsSentInTheCasSpelling(string asked, string sent)
    {
        var (fake, client, account) = Setup(profiles: new JsonObject { ["classic"] = "The usual", ["shortlived"] = "Six days" });
        AcmeOrder order = await client.NewOrderAsync(account, s_names, profile: asked);
        Assert.Equal(sent, (string?)fake.Requests.Single(r => r.Path == "/order").Payload!["profile"]);
        Assert.Equal(sent, order.Profile);
    }

    [Fact]
    public async Task FakeServer_AnUnknownProfileIsRefusedBeforeAnyOrderAndTheOfferedOnesAreNamed()
    {
        var (fake, client, account) = Setup(profiles: new JsonObject { ["classic"] = "The usual", ["shortlived"] = "Six days" });
        var e = await Assert.ThrowsAsync<AcmeArgumentException>(() => client.NewOrderAsync(account, s_names, profile: "tlsserver"));
        Assert.Equal("AcmeUnknownProfile", e.ErrorId);
        Assert.Contains("tlsserver", e.Message);
        Assert.Contains("classic (The usual)", e.Message);
        Assert.Contains("shortlived (Six days)", e.Message);
        Assert.Equal(0, fake.Count("POST", "/order"));
    }

    [Fact]
    public async Task FakeServer_AProfileForACaThatOffersNoneIsRefused()
    {
        var (fake, client, account) = Setup();
        var e = await Assert.ThrowsAsync<AcmeArgumentException>(() => client.NewOrderAsync(account, s_names, profile: "classic"));
        Assert.Equal("AcmeUnknownProfile", e.ErrorId);
        Assert.Contains("offers no certificate profiles", e.Message);
        Assert.Equal(0, fake.Count("POST", "/order"));
    }

    [Fact]
    public async Task FakeUserActionRequiredWithOnlyALinkHelpNamesTheUrlToVisit()
    {
        (FakeAcmeServer fake, AcmeClient client, AcmeAccount account) = Setup();
        fake.Route("POST", "/order", _ =>
        {
            HttpResponseMessage problem = FakeAcmeServer.Problem(403, "userActionRequired", "Terms of service have changed");
            problem.Headers.Add("Link", "<https://ca.test/new-terms>;rel=\"help\"");
            return problem;
        });
        var e = await Assert.ThrowsAsync<AcmeProblemException>(() => client.NewOrderAsync(account, s_names));
        Assert.Equal("https://ca.test/new-terms", e.Problem.Instance);
        Assert.Contains("(visit https://ca.test/new-terms)", e.Message);
    }

    [Fact]
    public async Task FakeInvalidProfileFromTheCaListsTheOfferedProfiles()
    {
        var profiles = new JsonObject { ["default"] = "The usual", ["shortlived"] = "Six days" };
        (FakeAcmeServer fake, AcmeClient client, AcmeAccount account) = Setup(profiles: profiles);
        fake.Route("POST", "/order", _ => FakeAcmeServer.Problem(400, "invalidProfile", "profile retired"));
        var e = await Assert.ThrowsAsync<AcmeInvalidProfileException>(() => client.NewOrderAsync(account, s_names, profile: "shortlived"));
        Assert.Equal(new[] { "default", "shortlived" }, e.Offered.OrderBy(p => p));
        Assert.Contains("profile retired", e.Message);
        Assert.Contains("The CA offers the profiles: default (The usual), shortlived (Six days).", e.Message);
    }
}
