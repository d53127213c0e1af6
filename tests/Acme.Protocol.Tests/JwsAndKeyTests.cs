using System;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Xunit;

namespace Acme.Protocol.Tests;

public class JwsAndKeyTests
{
    [Theory]
    [InlineData(AcmeKeyAlgorithm.EC256, "ES256")]
    [InlineData(AcmeKeyAlgorithm.EC384, "ES384")]
    [InlineData(AcmeKeyAlgorithm.RSA2048, "RS256")]
    public void JwsSignatureVerifiesWithThePublicKeyInItsHeader(AcmeKeyAlgorithm algorithm, string alg)
    {
        using AcmeKey key = AcmeKey.Generate(algorithm);
        var url = new Uri("https://ca.test/acme/new-acct");
        string jws = JwsBuilder.Sign(key, url, "nonce-1", null, new Acme.Protocol.Json.JsonObject { ["termsOfServiceAgreed"] = true });

        JsonObject parsed = JsonNode.Parse(jws)!.AsObject();
        string protectedB64 = (string)parsed["protected"]!;
        string payloadB64 = (string)parsed["payload"]!;
        JsonObject header = JsonNode.Parse(Encoding.UTF8.GetString(Base64Url.Decode(protectedB64)))!.AsObject();
        Assert.Equal(alg, (string)header["alg"]!);
        Assert.Equal("nonce-1", (string)header["nonce"]!);
        Assert.Equal(url.AbsoluteUri, (string)header["url"]!);
        Assert.False(header.ContainsKey("kid"));
        JsonObject jwk = header["jwk"]!.AsObject();

        byte[] input = Encoding.ASCII.GetBytes(protectedB64 + "." + payloadB64);
        byte[] signature = Base64Url.Decode((string)parsed["signature"]!);
        if ((string)jwk["kty"]! == "EC")
        {
            using ECDsa ec = ECDsa.Create(new ECParameters
            {
                Curve = alg == "ES256" ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP384,
                Q = new ECPoint { X = Base64Url.Decode((string)jwk["x"]!), Y = Base64Url.Decode((string)jwk["y"]!) },
            });
            Assert.Equal(alg == "ES256" ? 64 : 96, signature.Length);
            Assert.True(ec.VerifyData(input, signature, alg == "ES256" ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA384));
        }
        else
        {
            using RSA rsa = RSA.Create(new RSAParameters
            {
                Modulus = Base64Url.Decode((string)jwk["n"]!),
                Exponent = Base64Url.Decode((string)jwk["e"]!),
            });
            Assert.True(rsa.VerifyData(input, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        }

        // A different payload must not verify: the test would pass for any signature otherwise.
        input[input.Length - 1] ^= 1;
        Assert.False(jwk["kty"]!.ToString() == "EC"
            ? ECDsa.Create(new ECParameters
            {
                Curve = alg == "ES256" ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP384,
                Q = new ECPoint { X = Base64Url.Decode((string)jwk["x"]!), Y = Base64Url.Decode((string)jwk["y"]!) },
            }).VerifyData(input, signature, alg == "ES256" ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA384)
            : false);
    }

    [Fact]
    public void KidAndJwkAreMutuallyExclusiveAndPostAsGetHasAnEmptyPayload()
    {
        using AcmeKey key = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);
        string jws = JwsBuilder.Sign(key, new Uri("https://ca.test/order/1"), "n", new Uri("https://ca.test/acct/7"), null);
        JsonObject parsed = JsonNode.Parse(jws)!.AsObject();
        JsonObject header = JsonNode.Parse(Encoding.UTF8.GetString(Base64Url.Decode((string)parsed["protected"]!)))!.AsObject();
        Assert.Equal("https://ca.test/acct/7", (string)header["kid"]!);
        Assert.False(header.ContainsKey("jwk"));
        Assert.Equal(string.Empty, (string)parsed["payload"]!);
    }

    [Fact]
    public void ExternalAccountBindingIsAnHmacOverTheAccountKeyWithoutNonce()
    {
        using AcmeKey key = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);
        byte[] hmacKey = Encoding.ASCII.GetBytes("0123456789abcdef0123456789abcdef");
        var binding = JwsBuilder.SignExternalAccountBinding(key, new Uri("https://ca.test/new-acct"), "kid-1", hmacKey, "HS256");
        string protectedB64 = (string)binding["protected"]!;
        string payloadB64 = (string)binding["payload"]!;
        JsonObject header = JsonNode.Parse(Encoding.UTF8.GetString(Base64Url.Decode(protectedB64)))!.AsObject();
        Assert.Equal("HS256", (string)header["alg"]!);
        Assert.Equal("kid-1", (string)header["kid"]!);
        Assert.False(header.ContainsKey("nonce"));
        Assert.Equal(key.CanonicalJwk, Encoding.UTF8.GetString(Base64Url.Decode(payloadB64)));
        using var mac = new HMACSHA256(hmacKey);
        Assert.Equal(Base64Url.Encode(mac.ComputeHash(Encoding.ASCII.GetBytes(protectedB64 + "." + payloadB64))), (string)binding["signature"]!);
    }

    [Theory]
    [InlineData("HS384", 47, false)]
    [InlineData("HS384", 48, true)]
    [InlineData("HS512", 32, false)]
    [InlineData("HS512", 64, true)]
    [InlineData("HS256", 32, true)]
    public void AnExternalAccountHmacKeyShorterThanItsHashIsRefused(string algorithm, int length, bool accepted)
    {
        // RFC 7518 section 3.2: the key is at least as long as the hash output.
        byte[] hmacKey = new byte[length];
        if (accepted)
        {
            Assert.Equal(algorithm, new Acme.Protocol.Client.ExternalAccountBinding("kid-1", hmacKey, algorithm).Algorithm);
            return;
        }

        AcmeArgumentException e = Assert.Throws<AcmeArgumentException>(() => new Acme.Protocol.Client.ExternalAccountBinding("kid-1", hmacKey, algorithm));
        Assert.Equal(AcmeErrorId.InvalidBinding, e.Id);
        Assert.Contains($"{length} bytes", e.Message);
        Assert.Contains("RFC 7518", e.Message);
    }

    [Theory]
    [InlineData(AcmeKeyAlgorithm.EC256)]
    [InlineData(AcmeKeyAlgorithm.EC384)]
    [InlineData(AcmeKeyAlgorithm.RSA2048)]
    public void KeysRoundTripThroughPkcs8AndKeepTheirThumbprint(AcmeKeyAlgorithm algorithm)
    {
        using AcmeKey key = AcmeKey.Generate(algorithm);
        string pem = key.ExportPkcs8Pem();
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", pem);
        using AcmeKey again = AcmeKey.ImportPem(pem);
        Assert.Equal(key.Thumbprint, again.Thumbprint);
        Assert.Equal(key.Name, again.Name);
        Assert.DoesNotContain("PRIVATE", key.ToString());
    }

    [Fact]
    public void EncryptedPkcs8NeedsTheRightPassphrase()
    {
        using AcmeKey key = AcmeKey.Generate(AcmeKeyAlgorithm.EC256);
        string pem = key.ExportEncryptedPkcs8Pem("correct horse".ToCharArray());
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", pem);
        Assert.Equal(key.Thumbprint, AcmeKey.ImportPem(pem, "correct horse".ToCharArray()).Thumbprint);
        var wrong = Assert.Throws<AcmeArgumentException>(() => AcmeKey.ImportPem(pem, "wrong".ToCharArray()));
        Assert.Equal("AcmeKeyPasswordIncorrect", wrong.ErrorId);
        Assert.Equal("AcmeKeyPasswordRequired", Assert.Throws<AcmeArgumentException>(() => AcmeKey.ImportPem(pem)).ErrorId);
    }

    [Theory]
    [InlineData(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, "EC")]
    [InlineData(Pkcs12ExportPbeParameters.Pkcs12TripleDesSha1, "EC")]
    [InlineData(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, "RSA")]
    public void Pkcs12FilesGiveTheirKeyWithTheRightPassword(Pkcs12ExportPbeParameters encryption, string type)
    {
        using AsymmetricAlgorithm key = type == "EC" ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : RSA.Create(2048);
        using X509Certificate2 certificate = key is ECDsa ec
            ? new CertificateRequest("CN=pfx.test", ec, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1))
            : new CertificateRequest("CN=pfx.test", (RSA)key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        byte[] pfx = certificate.ExportPkcs12(encryption, "pfx password");
        string expected = AcmeKey.ImportPem(Pem.Encode("PRIVATE KEY", key.ExportPkcs8PrivateKey())).Thumbprint;

        using AcmeKey read = AcmeKey.ImportPkcs12(pfx, "pfx password".ToCharArray());
        Assert.Equal(expected, read.Thumbprint);
        Assert.Equal(type == "EC" ? "EC256" : "RSA2048", read.Name);
        var wrong = Assert.Throws<AcmeArgumentException>(() => AcmeKey.ImportPkcs12(pfx, "n0t-the-Passw0rd".ToCharArray()));
        Assert.Equal("AcmeKeyPasswordIncorrect", wrong.ErrorId);
        Assert.DoesNotContain("n0t-the-Passw0rd", wrong.ToString());
        Assert.DoesNotContain("pfx password", wrong.ToString());
        Assert.Equal("AcmeKeyPasswordRequired", Assert.Throws<AcmeArgumentException>(() => AcmeKey.ImportPkcs12(pfx)).ErrorId);
    }

    [Fact]
    public void Pkcs12WithAnEmptyPasswordNeedsNoneAndOneWithoutAKeyIsRefused()
    {
        using ECDsa ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using X509Certificate2 certificate = new CertificateRequest("CN=pfx.test", ec, HashAlgorithmName.SHA384)
            .CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        Assert.Equal("EC384", AcmeKey.ImportPkcs12(certificate.Export(X509ContentType.Pkcs12, string.Empty)).Name);

        using var publicOnly = X509CertificateLoader.LoadCertificate(certificate.RawData);
        var noKey = Assert.Throws<AcmeArgumentException>(() => AcmeKey.ImportPkcs12(publicOnly.Export(X509ContentType.Pkcs12, "x"), "x".ToCharArray()));
        Assert.Equal("AcmeInvalidKey", noKey.ErrorId);
        Assert.Equal("AcmeInvalidKey", Assert.Throws<AcmeArgumentException>(() => AcmeKey.ImportPkcs12(new byte[] { 0x30, 0x03, 0x02, 0x01 })).ErrorId);
    }

    [Fact]
    public void KeysFromOpenSslFormatsAreRead()
    {
        using ECDsa ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string sec1 = Pem.Encode("EC PRIVATE KEY", ec.ExportECPrivateKey());
        Assert.Equal("EC256", AcmeKey.ImportPem(sec1).Name);
        using RSA rsa = RSA.Create(3072);
        string pkcs1 = Pem.Encode("RSA PRIVATE KEY", rsa.ExportRSAPrivateKey());
        Assert.Equal("RSA3072", AcmeKey.ImportPem(pkcs1).Name);
    }

    [Fact]
    public void ShortRsaKeysAndDamagedKeysAreRefusedClearly()
    {
        using RSA rsa = RSA.Create(1024);
        var weak = Assert.Throws<AcmeArgumentException>(() => AcmeKey.ImportPem(Pem.Encode("PRIVATE KEY", rsa.ExportPkcs8PrivateKey())));
        Assert.Equal("AcmeUnsupportedKey", weak.ErrorId);
        Assert.Contains("1024", weak.Message);

        string good = AcmeKey.Generate(AcmeKeyAlgorithm.EC256).ExportPkcs8Pem();
        Assert.Equal("AcmeInvalidKey", Assert.Throws<AcmeArgumentException>(() => AcmeKey.ImportPem(good.Substring(0, good.Length / 2))).ErrorId);
        Assert.Equal("AcmeInvalidKey", Assert.Throws<AcmeArgumentException>(() => AcmeKey.ImportPem("hello")).ErrorId);
        string corrupt = good.Replace(good.Substring(40, 20), new string('A', 20));
        Assert.Throws<AcmeArgumentException>(() => AcmeKey.ImportPem(corrupt));
    }
}
