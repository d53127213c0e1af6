using System;
using System.Linq;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;
using Acme.Protocol.Json;
using Acme.Protocol.Model;
using Acme.Protocol.Transport;
using Xunit;

namespace Acme.Protocol.Tests;

public class ProtocolTests
{
    [Fact]
    public void ProblemWithSubproblemsIsParsedWithIdentifiers()
    {
        // RFC 8555 section 6.7.1's example.
        const string json = """
        {
            "type": "urn:ietf:params:acme:error:malformed",
            "detail": "Some of the identifiers requested were rejected",
            "subproblems": [
                { "type": "urn:ietf:params:acme:error:malformed", "detail": "Invalid underscore in DNS name \"_example.org\"",
                  "identifier": { "type": "dns", "value": "_example.org" } },
                { "type": "urn:ietf:params:acme:error:rejectedIdentifier", "detail": "This CA will not issue for \"example.net\"",
                  "identifier": { "type": "dns", "value": "example.net" } }
            ]
        }
        """;
        AcmeProblem problem = AcmeProblem.FromJson(JsonCodec.ParseObject(json));
        Assert.Equal(AcmeProblemTypes.Malformed, problem.Type);
        Assert.Equal("malformed", problem.ShortType);
        Assert.Equal(2, problem.Subproblems.Count);
        Assert.Equal("example.net", problem.Subproblems[1].Identifier!.Value);
        Assert.Equal("rejectedIdentifier", problem.Subproblems[1].ShortType);
        string text = problem.Describe();
        Assert.Contains("_example.org", text);
        Assert.Contains("This CA will not issue for \"example.net\"", text);
    }

    [Fact]
    public void ProblemExceptionsAreTypedByProblem()
    {
        Assert.IsType<AcmeBadNonceException>(AcmeProblemException.Create(new AcmeProblem(AcmeProblemTypes.BadNonce, "x"), null));
        var limited = Assert.IsType<AcmeRateLimitedException>(
            AcmeProblemException.Create(new AcmeProblem(AcmeProblemTypes.RateLimited, "x"), TimeSpan.FromSeconds(30)));
        Assert.Equal(TimeSpan.FromSeconds(30), limited.RetryAfter);
        Assert.IsType<AcmeAlreadyReplacedException>(AcmeProblemException.Create(new AcmeProblem(AcmeProblemTypes.AlreadyReplaced, "x"), null));
        Assert.Equal(typeof(AcmeProblemException), AcmeProblemException.Create(new AcmeProblem(AcmeProblemTypes.Caa, "x"), null).GetType());
    }

    [Fact]
    public void RetryAfterInSeconds()
    {
        var now = DateTimeOffset.Parse("2026-11-30T10:00:00Z");
        Assert.Equal(TimeSpan.FromSeconds(120), AcmeHeaders.ParseRetryAfter("120", now));
        Assert.Equal(TimeSpan.Zero, AcmeHeaders.ParseRetryAfter("0", now));
        Assert.Null(AcmeHeaders.ParseRetryAfter("-5", now));
        Assert.Null(AcmeHeaders.ParseRetryAfter("soon", now));
        Assert.Null(AcmeHeaders.ParseRetryAfter(null, now));
    }

    [Fact]
    public void RetryAfterAsHttpDate()
    {
        var now = DateTimeOffset.Parse("2026-11-30T10:00:00Z");
        Assert.Equal(TimeSpan.FromSeconds(90), AcmeHeaders.ParseRetryAfter("Mon, 30 Nov 2026 10:01:30 GMT", now));
        Assert.Equal(TimeSpan.Zero, AcmeHeaders.ParseRetryAfter("Mon, 30 Nov 2026 09:00:00 GMT", now));
    }

    [Fact]
    public void LinkHeadersAreSplitAndResolved()
    {
        var links = AcmeHeaders.ParseLinks(new[]
        {
            "<https://ca.test/cert/1/1>;rel=\"alternate\", </cert/1/2>; rel=alternate",
            "<https://ca.test/dir>;rel=\"index\"",
        }, new Uri("https://ca.test/cert/1"));
        Assert.Equal(new[] { "https://ca.test/cert/1/1", "https://ca.test/cert/1/2" },
            links.Where(l => l.Key == "alternate").Select(l => l.Value.AbsoluteUri));
        Assert.Equal("https://ca.test/dir", links.Single(l => l.Key == "index").Value.AbsoluteUri);
    }

    [Fact]
    public void RetryPolicyStartsFastBacksOffAndCaps()
    {
        var policy = new RetryPolicy(TimeSpan.FromMilliseconds(100), 2, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        Assert.Equal(TimeSpan.FromMilliseconds(100), policy.DelayFor(0));
        Assert.Equal(TimeSpan.FromMilliseconds(200), policy.DelayFor(1));
        Assert.Equal(TimeSpan.FromMilliseconds(800), policy.DelayFor(3));
        Assert.Equal(TimeSpan.FromSeconds(1), policy.DelayFor(4));
        Assert.Equal(TimeSpan.FromSeconds(1), policy.DelayFor(1000));
        Assert.True(RetryPolicy.Default.InitialDelay < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void RetryPolicyHonoursRetryAfterWithinTheDeadline()
    {
        var policy = new RetryPolicy(TimeSpan.FromMilliseconds(100), 2, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(TimeSpan.FromSeconds(7), policy.NextDelay(0, TimeSpan.FromSeconds(7), now, now.AddSeconds(30)));
        // Past the deadline the server's time is not slept through: the caller reports a timeout instead.
        Assert.Null(policy.NextDelay(0, TimeSpan.FromSeconds(40), now, now.AddSeconds(30)));
        // Without Retry-After, the last wait is cut to the deadline.
        Assert.Equal(TimeSpan.FromMilliseconds(500), policy.NextDelay(5, null, now, now.AddMilliseconds(500)));
    }

    [Theory]
    [InlineData("Example.COM.", "dns", "example.com")]
    [InlineData("  www.example.com ", "dns", "www.example.com")]
    [InlineData("*.Example.com", "dns", "*.example.com")]
    [InlineData("bücher.example", "dns", "xn--bcher-kva.example")]
    [InlineData("127.0.0.1", "ip", "127.0.0.1")]
    [InlineData("2001:DB8::0:1", "ip", "2001:db8::1")]
    [InlineData("[::1]", "ip", "::1")]
    public void IdentifiersAreNormalised(string input, string type, string value)
    {
        AcmeIdentifier identifier = IdentifierParser.Parse(input);
        Assert.Equal(type, identifier.Type);
        Assert.Equal(value, identifier.Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("has space.example")]
    [InlineData("under_score.example")]
    [InlineData("https://example.com/")]
    [InlineData("example.com/path")]
    [InlineData("*.*.example.com")]
    [InlineData("foo*.example.com")]
    [InlineData("*")]
    [InlineData("a..example")]
    [InlineData("-lead.example")]
    [InlineData("fe80::1%eth0")]
    [InlineData("1.2.3")]
    [InlineData("example.com:443")]
    public void BadIdentifiersAreRefusedBeforeAnyRequest(string input)
    {
        var e = Assert.Throws<AcmeArgumentException>(() => IdentifierParser.Parse(input));
        Assert.Equal("AcmeInvalidIdentifier", e.ErrorId);
    }

    [Fact]
    public void OverlongNamesAndLabelsAreRefused()
    {
        Assert.Throws<AcmeArgumentException>(() => IdentifierParser.Parse(new string('a', 64) + ".example"));
        IdentifierParser.Parse(new string('a', 63) + ".example");
        string longName = string.Join(".", Enumerable.Repeat(new string('a', 60), 5)) + ".example";
        Assert.Throws<AcmeArgumentException>(() => IdentifierParser.Parse(longName));
    }

    [Fact]
    public void DuplicateIdentifiersAreRemoved()
    {
        var identifiers = IdentifierParser.Parse(new[] { "a.example", "A.example.", "b.example" }, new[] { "127.0.0.1", "127.0.0.1" });
        Assert.Equal(new[] { "a.example", "b.example", "127.0.0.1" }, identifiers.Select(i => i.Value));
    }

    [Fact]
    public void ChallengeAnswersAreComputedAsTheRfcSays()
    {
        // RFC 8555 section 8.1: keyAuthorization = token || '.' || base64url(Thumbprint(accountKey)).
        const string thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
        var identifier = new AcmeIdentifier("dns", "*.example.org");
        var json = JsonCodec.ParseObject("{\"type\":\"dns-01\",\"url\":\"https://ca.test/chall/1\",\"status\":\"pending\",\"token\":\"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA\"}");
        AcmeChallenge challenge = AcmeChallenge.FromJson(identifier, json, thumbprint);
        Assert.Equal("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA." + thumbprint, challenge.KeyAuthorization);
        Assert.Equal("_acme-challenge.example.org", challenge.DnsRecordName);
        // Hand-computed: base64url(SHA-256("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")).
        using var sha = System.Security.Cryptography.SHA256.Create();
        string expected = Convert.ToBase64String(sha.ComputeHash(System.Text.Encoding.UTF8.GetBytes(challenge.KeyAuthorization!)))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.Equal(expected, challenge.DnsRecordValue);
        Assert.Equal(43, challenge.DnsRecordValue!.Length);
    }

    [Theory]
    [InlineData("\"../../etc/passwd\"")]
    [InlineData("\"tok en\"")]
    [InlineData("\"\"")]
    public void ChallengeTokensOutsideBase64UrlAreAProtocolError(string token)
    {
        var json = JsonCodec.ParseObject("{\"type\":\"http-01\",\"url\":\"https://ca.test/c\",\"status\":\"pending\",\"token\":" + token + "}");
        Assert.Throws<AcmeProtocolException>(() => AcmeChallenge.FromJson(new AcmeIdentifier("dns", "a.test"), json, "t"));
    }

    [Theory]
    [InlineData("{\"status\":\"valid\",\"identifiers\":[],\"finalize\":\"https://ca.test/f\"}", false)]
    [InlineData("{\"status\":\"exploded\",\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}],\"finalize\":\"https://ca.test/f\"}", true)]
    [InlineData("{\"status\":\"pending\",\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}],\"authorizations\":[],\"finalize\":\"https://ca.test/f\"}", true)]
    [InlineData("{\"status\":\"ready\",\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}]}", true)]
    [InlineData("{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}],\"finalize\":\"https://ca.test/f\"}", true)]
    public void MalformedOrdersAreProtocolErrors(string json, bool throws)
    {
        var account = new AcmeAccount(new AcmeServer(new Uri("https://ca.test/dir")), Crypto.AcmeKey.Generate(Crypto.AcmeKeyAlgorithm.EC256), new Uri("https://ca.test/acct/1"));
        var order = new AcmeOrder(account, new Uri("https://ca.test/order/1"));
        if (throws)
        {
            Assert.Throws<AcmeProtocolException>(() => order.Update(JsonCodec.ParseObject(json)));
        }
        else
        {
            order.Update(JsonCodec.ParseObject(json));
        }
    }

    [Fact]
    public void CsrCarriesDnsNamesAndIpAddressesAsTheirOwnSanTypes()
    {
        using var key = Crypto.AcmeKey.Generate(Crypto.AcmeKeyAlgorithm.EC256);
        var identifiers = IdentifierParser.Parse(new[] { "a.example", "*.b.example" }, new[] { "192.0.2.7", "2001:db8::7" });
        byte[] csr = CsrBuilder.Build(key, identifiers);
        var loaded = System.Security.Cryptography.X509Certificates.CertificateRequest.LoadSigningRequest(csr, System.Security.Cryptography.HashAlgorithmName.SHA256,
            System.Security.Cryptography.X509Certificates.CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        var san = new System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension(
            loaded.CertificateExtensions.Single(e => e.Oid!.Value == "2.5.29.17").RawData);
        Assert.Equal(new[] { "a.example", "*.b.example" }, san.EnumerateDnsNames());
        Assert.Equal(new[] { "192.0.2.7", "2001:db8::7" }, san.EnumerateIPAddresses().Select(a => a.ToString()));
        Assert.Equal("CN=a.example", loaded.SubjectName.Name);
        var read = CsrBuilder.ReadIdentifiers(csr, out byte[] spki);
        Assert.Equal(identifiers.OrderBy(i => i.Value), read.OrderBy(i => i.Value));
        Assert.Equal(key.GetSubjectPublicKeyInfo(), spki);
    }

    [Theory]
    [InlineData(null, "CN=a.example")]
    [InlineData("classic", "CN=a.example")]
    [InlineData("tlsserver", "")]
    [InlineData("shortlived", "")]
    public void CsrHasNoEkuAndNoCnForCnLessProfiles(string? profile, string subject)
    {
        using var key = Crypto.AcmeKey.Generate(Crypto.AcmeKeyAlgorithm.EC256);
        var identifiers = IdentifierParser.Parse(new[] { "a.example" }, new[] { "192.0.2.7" });
        byte[] csr = CsrBuilder.Build(key, identifiers, CsrBuilder.IncludesCommonName(profile));
        var loaded = System.Security.Cryptography.X509Certificates.CertificateRequest.LoadSigningRequest(csr, System.Security.Cryptography.HashAlgorithmName.SHA256,
            System.Security.Cryptography.X509Certificates.CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        Assert.Equal(subject, loaded.SubjectName.Name);
        // Only the SAN: no extendedKeyUsage (2.5.29.37), no keyUsage (2.5.29.15), nothing else.
        Assert.Equal(new[] { "2.5.29.17" }, loaded.CertificateExtensions.Select(e => e.Oid!.Value));
        Assert.Equal(identifiers.OrderBy(i => i.Value), CsrBuilder.ReadIdentifiers(csr, out _).OrderBy(i => i.Value));
    }

    [Fact]
    public void IpIdentifierNeverGoesInTheCsrCn()
    {
        using var key = Crypto.AcmeKey.Generate(Crypto.AcmeKeyAlgorithm.EC256);
        var onlyIps = IdentifierParser.Parse(Array.Empty<string>(), new[] { "192.0.2.7", "2001:db8::7" });
        var loaded = System.Security.Cryptography.X509Certificates.CertificateRequest.LoadSigningRequest(CsrBuilder.Build(key, onlyIps),
            System.Security.Cryptography.HashAlgorithmName.SHA256);
        Assert.Equal("", loaded.SubjectName.Name);
        var ipFirst = new[] { new AcmeIdentifier("ip", "192.0.2.7"), new AcmeIdentifier("dns", "b.example") };
        loaded = System.Security.Cryptography.X509Certificates.CertificateRequest.LoadSigningRequest(CsrBuilder.Build(key, ipFirst),
            System.Security.Cryptography.HashAlgorithmName.SHA256);
        Assert.Equal("CN=b.example", loaded.SubjectName.Name);
    }

    [Fact]
    public void ServerShortcutsResolveAndPlainHttpIsRefused()
    {
        Assert.Equal("https://acme-staging-v02.api.letsencrypt.org/directory", AcmeServer.ResolveDirectoryUrl("letsencryptstaging").AbsoluteUri);
        Assert.Equal("https://ca.example/dir", AcmeServer.ResolveDirectoryUrl("https://ca.example/dir").AbsoluteUri);
        Assert.Equal("AcmeInvalidServer", Assert.Throws<AcmeArgumentException>(() => AcmeServer.ResolveDirectoryUrl("http://ca.example/dir")).ErrorId);
        Assert.Equal("AcmeInvalidServer", Assert.Throws<AcmeArgumentException>(() => AcmeServer.ResolveDirectoryUrl("NoSuchCA")).ErrorId);
    }
}
