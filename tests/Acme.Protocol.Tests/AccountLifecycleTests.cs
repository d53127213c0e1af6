using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
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
/// The request shapes of account update, key change, deactivation and revocation, read back from
/// <see cref="FakeAcmeServer"/>; Pester proves the same requests against Pebble.
/// </summary>
public class AccountLifecycleTests
{
    private const string AccountUrl = FakeAcmeServer.Base + "/acct/1";

    private static (FakeAcmeServer Fake, AcmeClient Client, AcmeAccount Account) Setup()
    {
        var fake = new FakeAcmeServer();
        var server = new AcmeServer(new Uri(FakeAcmeServer.Base + "/dir?" + Guid.NewGuid().ToString("N")));
        var connection = AcmeConnection.Register(server, fake);
        var account = new AcmeAccount(server, AcmeKey.Generate(AcmeKeyAlgorithm.EC256), new Uri(AccountUrl));
        return (fake, new AcmeClient(connection), account);
    }

    private static JsonObject AccountJson(string status, params string[] contact) => new()
    {
        ["status"] = status,
        ["contact"] = new JsonArray(contact.Select(c => (JsonNode)JsonValue.Create(c)!).ToArray()),
        ["orders"] = FakeAcmeServer.Base + "/acct/1/orders",
    };

    private static JsonObject Decode(string base64Url) => JsonNode.Parse(Encoding.UTF8.GetString(Base64Url.Decode(base64Url)))!.AsObject();

    private static bool VerifiesWith(JsonObject jws, JsonObject jwk)
    {
        byte[] input = Encoding.ASCII.GetBytes((string)jws["protected"]! + "." + (string)jws["payload"]!);
        using ECDsa ec = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = Base64Url.Decode((string)jwk["x"]!), Y = Base64Url.Decode((string)jwk["y"]!) },
        });
        return ec.VerifyData(input, Base64Url.Decode((string)jws["signature"]!), HashAlgorithmName.SHA256);
    }

    [Fact]
    public async Task ContactUpdatePostsOnlyTheContactsToTheAccountUrl()
    {
        var (fake, client, account) = Setup();
        fake.Route("POST", "/acct/1", _ => FakeAcmeServer.Json(200, AccountJson("valid", "mailto:new@a.test")));

        await client.UpdateAccountContactAsync(account, new[] { "mailto:new@a.test" });

        var post = fake.Requests.Single(r => r.Path == "/acct/1");
        Assert.Equal(AccountUrl, (string?)post.Protected!["kid"]);
        Assert.Equal("""{"contact":["mailto:new@a.test"]}""", post.Payload!.ToJsonString());
        Assert.Equal(new[] { "mailto:new@a.test" }, account.Contact);
    }

    [Fact]
    public async Task DeactivationPostsTheDeactivatedStatusAndUpdatesTheAccount()
    {
        var (fake, client, account) = Setup();
        fake.Route("POST", "/acct/1", _ => FakeAcmeServer.Json(200, AccountJson("deactivated")));

        await client.DeactivateAccountAsync(account);

        Assert.Equal("""{"status":"deactivated"}""", fake.Requests.Single(r => r.Path == "/acct/1").Payload!.ToJsonString());
        Assert.Equal(AcmeAccountStatus.Deactivated, account.Status);
    }

    [Fact]
    public async Task KeyChangeNestsAJwsSignedByTheNewKeyInOneSignedByTheOld()
    {
        var (fake, client, account) = Setup();
        fake.Route("POST", "/account", _ => FakeAcmeServer.Problem(400, "accountDoesNotExist", "No account for this key."));
        fake.Route("POST", "/key-change", _ => new HttpResponseMessage(HttpStatusCode.OK));
        AcmeKey newKey = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);

        AcmeAccount rolled = await client.ChangeAccountKeyAsync(account, newKey);

        var post = fake.Requests.Single(r => r.Path == "/key-change");
        JsonObject outer = JsonNode.Parse(post.Body)!.AsObject();
        Assert.Equal(AccountUrl, (string?)post.Protected!["kid"]);
        Assert.NotNull(post.Nonce);
        JsonObject oldJwk = JsonNode.Parse(account.Key.CanonicalJwk)!.AsObject();
        Assert.True(VerifiesWith(outer, oldJwk), "the outer JWS is signed by the old key");

        // RFC 8555 section 7.3.5: the inner JWS has the new key as "jwk", the same "url", no nonce.
        JsonObject inner = post.Payload!.AsObject();
        JsonObject innerHeader = Decode((string)inner["protected"]!);
        Assert.Equal(FakeAcmeServer.Base + "/key-change", (string?)innerHeader["url"]);
        Assert.False(innerHeader.ContainsKey("nonce"));
        Assert.False(innerHeader.ContainsKey("kid"));
        JsonObject newJwk = innerHeader["jwk"]!.AsObject();
        Assert.Equal(newKey.Thumbprint, AcmeKey.ComputeThumbprint(newJwk.ToJsonString()));
        Assert.True(VerifiesWith(inner, newJwk), "the inner JWS is signed by the new key");
        Assert.False(VerifiesWith(inner, oldJwk));

        JsonObject innerPayload = Decode((string)inner["payload"]!);
        Assert.Equal(AccountUrl, (string?)innerPayload["account"]);
        Assert.Equal(account.Key.Thumbprint, AcmeKey.ComputeThumbprint(innerPayload["oldKey"]!.ToJsonString()));

        // A new object with the new key; the old object keeps the old key.
        Assert.NotSame(account, rolled);
        Assert.Equal(account.Location, rolled.Location);
        Assert.Equal(newKey.Thumbprint, rolled.KeyThumbprint);
        Assert.NotEqual(newKey.Thumbprint, account.KeyThumbprint);
    }

    [Fact]
    public async Task KeyChangeAsksFirstWhetherTheNewKeyAlreadyHasAnAccount()
    {
        var (fake, client, account) = Setup();
        fake.Route("POST", "/account", _ =>
        {
            var existing = FakeAcmeServer.Json(200, AccountJson("valid"));
            existing.Headers.Location = new Uri(FakeAcmeServer.Base + "/acct/2");
            return existing;
        });
        AcmeKey newKey = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);

        var e = await Assert.ThrowsAsync<AcmeArgumentException>(() => client.ChangeAccountKeyAsync(account, newKey));

        Assert.Equal("AcmeAccountKeyInUse", e.ErrorId);
        Assert.Contains(FakeAcmeServer.Base + "/acct/2", e.Message);
        var lookup = fake.Requests.Single(r => r.Path == "/account");
        Assert.Equal(true, (bool?)lookup.Payload!["onlyReturnExisting"]);
        Assert.Equal(newKey.Thumbprint, AcmeKey.ComputeThumbprint(lookup.Protected!["jwk"]!.ToJsonString()));
        Assert.Equal(0, fake.Count("POST", "/key-change"));
    }

    [Fact]
    public async Task KeyChangeAnswered409IsNamed()
    {
        var (fake, client, account) = Setup();
        fake.Route("POST", "/account", _ => FakeAcmeServer.Problem(400, "accountDoesNotExist", "No account for this key."));
        fake.Route("POST", "/key-change", _ =>
        {
            var conflict = new HttpResponseMessage(HttpStatusCode.Conflict);
            conflict.Headers.Location = new Uri(FakeAcmeServer.Base + "/acct/2");
            return conflict;
        });
        var e = await Assert.ThrowsAsync<AcmeArgumentException>(() => client.ChangeAccountKeyAsync(account, AcmeKey.Generate(AcmeKeyAlgorithm.EC256)));
        Assert.Equal("AcmeAccountKeyInUse", e.ErrorId);
    }

    [Fact]
    public async Task KeyChangeToTheSameKeyIsRefusedBeforeAnyRequest()
    {
        var (fake, client, account) = Setup();
        var e = await Assert.ThrowsAsync<AcmeArgumentException>(() => client.ChangeAccountKeyAsync(account, account.Key));
        Assert.Equal("AcmeSameAccountKey", e.ErrorId);
        Assert.Empty(fake.Requests);
    }

    [Fact]
    public async Task RevocationByTheAccountUsesKidAndCarriesTheReasonCode()
    {
        var (fake, client, account) = Setup();
        fake.Route("POST", "/revoke", _ => new HttpResponseMessage(HttpStatusCode.OK));
        (X509Certificate2 certificate, _) = SelfSigned();

        await client.RevokeCertificateAsync(account, certificate, AcmeRevocationReason.Superseded);

        var post = fake.Requests.Single(r => r.Path == "/revoke");
        Assert.Equal(AccountUrl, (string?)post.Protected!["kid"]);
        Assert.False(post.Protected.ContainsKey("jwk"));
        Assert.Equal(Base64Url.Encode(certificate.RawData), (string?)post.Payload!["certificate"]);
        Assert.Equal(4, (int)post.Payload["reason"]!);
    }

    [Fact]
    public async Task RevocationByTheCertificateKeyUsesJwkAndLeavesOutAnAbsentReason()
    {
        var (fake, client, _) = Setup();
        fake.Route("POST", "/revoke", _ => new HttpResponseMessage(HttpStatusCode.OK));
        (X509Certificate2 certificate, AcmeKey key) = SelfSigned();

        await client.RevokeCertificateAsync(key, certificate, null);

        var post = fake.Requests.Single(r => r.Path == "/revoke");
        Assert.False(post.Protected!.ContainsKey("kid"));
        Assert.Equal(key.Thumbprint, AcmeKey.ComputeThumbprint(post.Protected["jwk"]!.ToJsonString()));
        Assert.False(post.Payload!.AsObject().ContainsKey("reason"));
    }

    [Fact]
    public async Task RevocationWithAKeyThatIsNotTheCertificatesIsRefusedBeforeAnyRequest()
    {
        var (fake, client, _) = Setup();
        (X509Certificate2 certificate, _) = SelfSigned();
        var e = await Assert.ThrowsAsync<AcmeArgumentException>(() =>
            client.RevokeCertificateAsync(AcmeKey.Generate(AcmeKeyAlgorithm.EC256), certificate, AcmeRevocationReason.KeyCompromise));
        Assert.Equal("AcmeCertificateKeyMismatch", e.ErrorId);
        Assert.Empty(fake.Requests);
    }

    [Fact]
    public async Task AnAlreadyRevokedCertificateKeepsTheProblemType()
    {
        var (fake, client, account) = Setup();
        fake.Route("POST", "/revoke", _ => FakeAcmeServer.Problem(400, "alreadyRevoked", "Certificate has already been revoked."));
        (X509Certificate2 certificate, _) = SelfSigned();
        var e = await Assert.ThrowsAsync<AcmeProblemException>(() => client.RevokeCertificateAsync(account, certificate, null));
        Assert.Equal(AcmeProblemTypes.AlreadyRevoked, e.Problem.Type);
    }

    [Theory]
    [InlineData(AcmeRevocationReason.Unspecified, 0)]
    [InlineData(AcmeRevocationReason.KeyCompromise, 1)]
    [InlineData(AcmeRevocationReason.CACompromise, 2)]
    [InlineData(AcmeRevocationReason.AffiliationChanged, 3)]
    [InlineData(AcmeRevocationReason.Superseded, 4)]
    [InlineData(AcmeRevocationReason.CessationOfOperation, 5)]
    [InlineData(AcmeRevocationReason.CertificateHold, 6)]
    [InlineData(AcmeRevocationReason.RemoveFromCRL, 8)]
    [InlineData(AcmeRevocationReason.PrivilegeWithdrawn, 9)]
    [InlineData(AcmeRevocationReason.AACompromise, 10)]
    public void RevocationReasonsAreTheRfc5280Codes(AcmeRevocationReason reason, int code)
    {
        Assert.Equal(code, (int)reason);
        Assert.Equal(10, Enum.GetValues(typeof(AcmeRevocationReason)).Length);
        Assert.False(Enum.IsDefined(typeof(AcmeRevocationReason), 7));
    }

    [Fact]
    public async Task AuthorizationDeactivationPostsTheStaticObjectAndKeepsTheLinks()
    {
        var (fake, client, account) = Setup();
        fake.Route("POST", "/authz/1", _ => FakeAcmeServer.Json(200, new JsonObject
        {
            ["status"] = "deactivated",
            ["identifier"] = new JsonObject { ["type"] = "dns", ["value"] = "a.test" },
            ["challenges"] = new JsonArray(),
        }));
        AcmeAuthorization pending = AcmeAuthorization.FromJson(new Uri(FakeAcmeServer.Base + "/authz/1"),
            Acme.Protocol.Json.JsonCodec.ParseObject("""{"status":"pending","identifier":{"type":"dns","value":"a.test"},"challenges":[]}"""),
            account.KeyThumbprint).Attach(account, null);

        AcmeAuthorization updated = await client.DeactivateAuthorizationAsync(pending);

        Assert.Equal("""{"status":"deactivated"}""", fake.Requests.Single(r => r.Path == "/authz/1").Payload!.ToJsonString());
        Assert.Equal(AcmeAuthorizationStatus.Deactivated, updated.Status);
        Assert.Same(account, updated.Account);
    }

    [Fact]
    public void ACsrMatchingTheOrderPassesAndADifferentOneIsNamed()
    {
        using AcmeKey key = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);
        var order = new[] { new AcmeIdentifier("dns", "a.test"), new AcmeIdentifier("ip", "::1") };
        byte[] csr = CsrBuilder.Build(key, new[] { new AcmeIdentifier("dns", "A.test"), new AcmeIdentifier("ip", "0:0:0:0:0:0:0:1") });
        Assert.Equal(AcmeKey.PublicKeyBits(CsrBuilder.EnsureMatchesOrder(csr, order)), AcmeKey.PublicKeyBits(key.GetSubjectPublicKeyInfo()));

        byte[] other = CsrBuilder.Build(key, new[] { new AcmeIdentifier("dns", "a.test"), new AcmeIdentifier("dns", "b.test") });
        var e = Assert.Throws<AcmeArgumentException>(() => CsrBuilder.EnsureMatchesOrder(other, order));
        Assert.Equal("AcmeCsrMismatch", e.ErrorId);
        Assert.Contains("the order names ::1 but the CSR does not", e.Message);
        Assert.Contains("the CSR asks for b.test which the order does not name", e.Message);
    }

    private static (X509Certificate2 Certificate, AcmeKey Key) SelfSigned()
    {
        AcmeKey key = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);
        using ECDsa ec = ECDsa.Create();
        ec.ImportPkcs8PrivateKey(Convert.FromBase64String(string.Concat(key.ExportPkcs8Pem().Split('\n').Where(l => !l.StartsWith("-----")))), out _);
        var request = new CertificateRequest("CN=revoke.test", ec, HashAlgorithmName.SHA256);
        return (request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1)), key);
    }
}
