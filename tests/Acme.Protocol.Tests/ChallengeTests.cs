using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Challenges.TlsAlpn01;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;
using Acme.Protocol.Model;
using Xunit;

namespace Acme.Protocol.Tests;

public class ChallengeTests
{
    // The token of RFC 8555 section 8.3's example and RFC 7638 section 3.1's thumbprint; the digest and
    // its base64url form were computed by hand (sha256sum, then base64 with the URL alphabet and no padding).
    private const string Token = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
    private const string Thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    private const string KeyAuthorization = Token + "." + Thumbprint;
    private const string DigestHex = "653471D42925D7EB4CD39A39CDA8B34D3034C94CB90067AB78C8123560BA2E5F";
    private const string TxtValue = "ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8";

    private static AcmeChallenge Challenge(string type, string name, string identifierType = AcmeIdentifier.DnsType) =>
        new(new AcmeIdentifier(identifierType, name), type, new Uri("https://ca.test/chall/1"), Token, Thumbprint);

    [Fact]
    public void KeyAuthorizationAndItsDigestMatchHandComputedValues()
    {
        AcmeChallenge challenge = Challenge(AcmeChallenge.Dns01, "example.org");
        Assert.Equal(KeyAuthorization, challenge.KeyAuthorization);
        Assert.Equal(DigestHex, Convert.ToHexString(AcmeChallenge.KeyAuthorizationDigest(KeyAuthorization)));
    }

    [Theory]
    [InlineData("example.org", "_acme-challenge.example.org")]
    [InlineData("*.example.org", "_acme-challenge.example.org")]
    public void Dns01RecordNameAndValueFollowRfc8555Section84(string name, string recordName)
    {
        AcmeChallenge challenge = Challenge(AcmeChallenge.Dns01, name);
        Assert.Equal(recordName, challenge.DnsRecordName);
        Assert.Equal(TxtValue, challenge.DnsRecordValue);
        Assert.Null(challenge.HttpPath);
    }

    [Fact]
    public void Http01PathIsTheWellKnownTokenPath()
    {
        AcmeChallenge challenge = Challenge(AcmeChallenge.Http01, "example.org");
        Assert.Equal("/.well-known/acme-challenge/" + Token, challenge.HttpPath);
        Assert.Null(challenge.DnsRecordValue);
    }

    [Fact]
    public void AcmeIdentifierExtensionValueIsAnOctetStringOfTheDigest()
    {
        // RFC 8737 section 3: a DER OCTET STRING (04, length 32 = 0x20) holding SHA-256(key authorization).
        Assert.Equal("0420" + DigestHex, Convert.ToHexString(TlsAlpnCertificate.AcmeIdentifierExtensionValue(KeyAuthorization)));
    }

    [Fact]
    public void TlsAlpnCertificateCarriesTheCriticalExtensionAndOnlyTheNameValidated()
    {
        var key = TlsAlpnCertificate.GenerateKey();
        Org.BouncyCastle.X509.X509Certificate built = TlsAlpnCertificate.Build(new AcmeIdentifier("dns", "www.example.org"), KeyAuthorization, key);
        byte[] der = built.GetEncoded();

        // The whole Extension, by hand: SEQUENCE { OID 1.3.6.1.5.5.7.1.31, BOOLEAN TRUE, OCTET STRING { OCTET STRING digest } }.
        string extension = "3031" + "06082B0601050507011F" + "0101FF" + "0422" + "0420" + DigestHex;
        Assert.Contains(extension, Convert.ToHexString(der));

        using var certificate = X509CertificateLoader.LoadCertificate(der);
        X509Extension acme = certificate.Extensions["1.3.6.1.5.5.7.1.31"]!;
        Assert.True(acme.Critical);
        var san = new X509SubjectAlternativeNameExtension(certificate.Extensions["2.5.29.17"]!.RawData);
        Assert.Equal(new[] { "www.example.org" }, san.EnumerateDnsNames().ToArray());
        Assert.Empty(san.EnumerateIPAddresses());
        built.Verify(key.Public);
        Assert.Equal(certificate.Subject, certificate.Issuer);
    }

    [Fact]
    public void TlsAlpnCertificateForAnIpAddressCarriesItAsAnIpAddressName()
    {
        var key = TlsAlpnCertificate.GenerateKey();
        byte[] der = TlsAlpnCertificate.Build(new AcmeIdentifier("ip", "192.0.2.1"), KeyAuthorization, key).GetEncoded();
        using var certificate = X509CertificateLoader.LoadCertificate(der);
        var san = new X509SubjectAlternativeNameExtension(certificate.Extensions["2.5.29.17"]!.RawData);
        Assert.Equal(new[] { IPAddress.Parse("192.0.2.1") }, san.EnumerateIPAddresses().ToArray());
        Assert.Empty(san.EnumerateDnsNames());
    }

    [Theory]
    [InlineData("dns", "WWW.Example.org", "www.example.org")]
    [InlineData("ip", "192.0.2.1", "1.2.0.192.in-addr.arpa")]
    [InlineData("ip", "2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")]
    public void TlsAlpnServerNameIsTheNameOrTheReverseMappingOfAnAddress(string type, string value, string expected)
    {
        // RFC 8738 section 6: for an IP identifier the SNI holds its reverse DNS name.
        Assert.Equal(expected, TlsAlpnServer.ServerNameFor(new AcmeIdentifier(type, value)));
    }

    [Fact]
    public void DnsQueryIsEncodedAsRfc1035Section4Says()
    {
        byte[] query = DnsMessage.BuildQuery(0x1234, "_acme-challenge.Example.org.", DnsRecordType.TXT, recursionDesired: true);
        string expected = "1234" + "0100" + "0001" + "0000" + "0000" + "0000" +
            "0F5F61636D652D6368616C6C656E6765" + "076578616D706C65" + "036F7267" + "00" + "0010" + "0001";
        Assert.Equal(expected, Convert.ToHexString(query));
    }

    [Fact]
    public void DnsResponseWithCompressedNamesAndSplitTxtStringsIsDecoded()
    {
        // A response to "TXT _acme-challenge.example.org": two TXT records whose owner is a pointer to
        // the question name (offset 12), the second split into two character-strings, then an SOA.
        string hex = "ABCD" + "8180" + "0001" + "0002" + "0001" + "0000" +
            "0F5F61636D652D6368616C6C656E6765" + "076578616D706C65" + "036F7267" + "00" + "0010" + "0001" +
            "C00C" + "0010" + "0001" + "0000003C" + "0004" + "03616263" +
            "C00C" + "0010" + "0001" + "0000003C" + "0006" + "026465026667" +
            "C01C" + "0006" + "0001" + "0000003C" + "0006" + "036E7331" + "C01C";
        DnsResponse response = DnsMessage.Parse(Convert.FromHexString(hex));
        Assert.Equal(0, response.ResponseCode);
        Assert.Equal(new[] { "abc", "defg" }, response.Answers.Select(a => a.Data).ToArray());
        Assert.All(response.Answers, a => Assert.Equal("_acme-challenge.example.org", a.Name));
        DnsRecord soa = Assert.Single(response.Authority);
        Assert.Equal(DnsRecordType.SOA, soa.Type);
        Assert.Equal("example.org", soa.Name);
        Assert.Equal("ns1.example.org", soa.Data);
    }

    [Theory]
    [InlineData("ABCD8180000100010000000003616263000010000103C00C")]
    [InlineData("ABCD81800001000100000000036162630000100001C00C0010000100000000000A")]
    [InlineData("ABCD8180000000010000000000")]
    [InlineData("ABCD0100000000000000")]
    public void MalformedDnsResponsesAreRefused(string hex)
    {
        Assert.Throws<FormatException>(() => DnsMessage.Parse(Convert.FromHexString(hex)));
    }

    [Fact]
    public void DnsCompressionLoopIsRefused()
    {
        // The answer's owner name points at itself.
        string hex = "ABCD8180" + "0000" + "0001" + "0000" + "0000" + "C00C" + "0010" + "0001" + "00000000" + "0000";
        Assert.Throws<FormatException>(() => DnsMessage.Parse(Convert.FromHexString(hex)));
    }

    [Theory]
    [InlineData("10.0.0.53", "10.0.0.53", 53)]
    [InlineData("127.0.0.1:8053", "127.0.0.1", 8053)]
    [InlineData("ns1.example.org", "ns1.example.org", 53)]
    [InlineData("ns1.example.org:5353", "ns1.example.org", 5353)]
    [InlineData("[::1]:8053", "::1", 8053)]
    [InlineData("2001:db8::53", "2001:db8::53", 53)]
    public void DnsServerAddressesParse(string text, string host, int port)
    {
        DnsServerAddress address = DnsServerAddress.Parse(text);
        Assert.Equal(host, address.Host);
        Assert.Equal(port, address.Port);
    }

    [Theory]
    [InlineData("")]
    [InlineData("host:0")]
    [InlineData("host:port")]
    [InlineData("[::1")]
    [InlineData("[::1]x")]
    public void BadDnsServerAddressesAreRefused(string text)
    {
        var e = Assert.Throws<AcmeArgumentException>(() => DnsServerAddress.Parse(text));
        Assert.Equal("AcmeInvalidDnsServer", e.ErrorId);
    }

    private static DnsPropagationChecker CheckerFor(FakeDnsServer dns) =>
        new(null, null, new[] { dns.EndPoint })
        {
            AuthoritativePort = dns.EndPoint.Port,
            QueryTimeout = TimeSpan.FromSeconds(1),
            Policy = new RetryPolicy(TimeSpan.FromMilliseconds(50), 1.5, TimeSpan.FromMilliseconds(200)),
        };

    private static DnsTxtRecord Record(string name, string value) => new(name, value, new AcmeIdentifier("dns", name.Replace("_acme-challenge.", string.Empty)));

    [Fact]
    public async Task PropagationCheckFindsTheZoneFromTheSoaOfANegativeAnswerAndAsksItsNameServers_FakeDns()
    {
        using var dns = new FakeDnsServer();
        dns.AddZone("example.test", "localhost");
        dns.AddTxt("_acme-challenge.www.example.test", "value-1");
        DnsPropagationChecker checker = CheckerFor(dns);

        IReadOnlyList<DnsNameServer> servers = await checker.GetServersAsync("_acme-challenge.www.example.test");
        Assert.Equal("localhost", Assert.Single(servers).Name);

        await checker.WaitAsync(new[] { Record("_acme-challenge.www.example.test", "value-1") }, TimeSpan.FromSeconds(5));
        var queries = dns.Queries.ToArray();

        // NS for the record name (negative, SOA example.test), then NS for the zone itself, then TXT.
        Assert.Equal(("_acme-challenge.www.example.test", DnsRecordType.NS), queries[0]);
        Assert.Equal(("example.test", DnsRecordType.NS), queries[1]);
        Assert.Contains(("_acme-challenge.www.example.test", DnsRecordType.TXT), queries);
        Assert.DoesNotContain(("www.example.test", DnsRecordType.NS), queries);
    }

    [Fact]
    public async Task PropagationCheckWaitsUntilEveryValueOfASharedNameIsVisible_FakeDns()
    {
        using var dns = new FakeDnsServer();
        dns.AddZone("example.test", "localhost");
        dns.AddTxt("_acme-challenge.example.test", "apex-value");
        DnsPropagationChecker checker = CheckerFor(dns);
        var records = new[] { Record("_acme-challenge.example.test", "apex-value"), Record("_acme-challenge.example.test", "wildcard-value") };

        Task wait = checker.WaitAsync(records, TimeSpan.FromSeconds(10));
        await Task.Delay(300);
        Assert.False(wait.IsCompleted, "one of the two values is not published yet");
        dns.AddTxt("_acme-challenge.example.test", "wildcard-value");
        await wait;
        Assert.True(dns.Queries.Count(q => q.Type == DnsRecordType.TXT) >= 2);
    }

    [Fact]
    public async Task PropagationCheckGivesUpNamingTheRecordValueAndServer_FakeDns()
    {
        using var dns = new FakeDnsServer();
        dns.AddZone("example.test", "localhost");
        dns.AddTxt("_acme-challenge.late.example.test", "some-other-value");
        DnsPropagationChecker checker = CheckerFor(dns);

        var e = await Assert.ThrowsAsync<AcmeLocalException>(() =>
            checker.WaitAsync(new[] { Record("_acme-challenge.late.example.test", "expected-value") }, TimeSpan.FromMilliseconds(600)));
        Assert.Equal("AcmeDnsPropagationTimeout", e.ErrorId);
        Assert.Contains("_acme-challenge.late.example.test", e.Message);
        Assert.Contains("expected-value", e.Message);
        Assert.Contains("localhost", e.Message);
        Assert.Contains("1 other TXT value", e.Message);
    }

    [Fact]
    public async Task PropagationCheckWithoutAnyZoneSaysToUseDnsServer_FakeDns()
    {
        using var dns = new FakeDnsServer();
        DnsPropagationChecker checker = CheckerFor(dns);
        var e = await Assert.ThrowsAsync<AcmeLocalException>(() => checker.GetServersAsync("_acme-challenge.nowhere.test"));
        Assert.Equal("AcmeDnsZoneNotFound", e.ErrorId);
        // The core says what happened; the error record adds "Name the servers to ask with -DnsServer."
        // from the catalogue (tests/Pester/Errors.Tests.ps1 checks that text).
        Assert.Contains("No zone with NS records was found above _acme-challenge.nowhere.test", e.Message);
        Assert.DoesNotContain("-DnsServer", e.Message);
    }

    [Fact]
    public async Task PropagationCheckCanBeCancelled_FakeDns()
    {
        using var dns = new FakeDnsServer();
        dns.AddZone("example.test", "localhost");
        DnsPropagationChecker checker = CheckerFor(dns);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            checker.WaitAsync(new[] { Record("_acme-challenge.example.test", "never") }, TimeSpan.FromMinutes(5), null, cancel.Token));
    }

    private sealed class RecordingPublisher : IDnsRecordPublisher
    {
        public List<string> Calls { get; } = new();

        public bool FailAdd { get; set; }

        public Task AddAsync(IReadOnlyList<DnsTxtRecord> records, CancellationToken cancellationToken)
        {
            Calls.AddRange(records.Select(r => "add " + r.Name));
            return FailAdd ? Task.FromException(new AcmeLocalException(AcmeErrorId.DnsRecordAddFailed, "the API said no")) : Task.CompletedTask;
        }

        public Task RemoveAsync(IReadOnlyList<DnsTxtRecord> records, CancellationToken cancellationToken)
        {
            Calls.AddRange(records.Select(r => "remove " + r.Name));
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Dns01SolverPublishesAtTheAliasOfTheBaseNameAndWithdrawsAfterAFailedAdd()
    {
        var publisher = new RecordingPublisher { FailAdd = true };
        var solver = new Dns01Solver(publisher, null, TimeSpan.FromSeconds(1),
            new Dictionary<string, string> { ["Example.org."] = "example-org.acme.example.net." });
        var challenges = new[] { Challenge(AcmeChallenge.Dns01, "*.example.org"), Challenge(AcmeChallenge.Dns01, "other.org") };

        await Assert.ThrowsAsync<AcmeLocalException>(() => solver.PresentAsync(challenges, CancellationToken.None));
        await solver.CleanupAsync(challenges, CancellationToken.None);

        Assert.Equal(new[] { "add example-org.acme.example.net", "add _acme-challenge.other.org", "remove example-org.acme.example.net", "remove _acme-challenge.other.org" },
            publisher.Calls);
    }

    [Theory]
    [InlineData("example.org", "not a name")]
    [InlineData("example.org", "single-label")]
    [InlineData("", "x.example.net")]
    public void Dns01SolverRefusesABadAlias(string key, string alias)
    {
        var e = Assert.Throws<AcmeArgumentException>(() => Dns01Solver.ParseAliases(new Dictionary<string, string> { [key] = alias }));
        Assert.Equal("AcmeInvalidDnsAlias", e.ErrorId);
    }
}
