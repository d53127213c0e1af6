using System;
using Acme.Protocol.Json;
using Acme.Protocol.Model;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>dns-account-01's label and dns-persist-01's record (draft-ietf-acme-dns-account-label, draft-ietf-acme-dns-persist).</summary>
public class DnsPersistRecordTests
{
    private static readonly Uri Account = new("https://example.com/acme/acct/ExampleAccount");

    [Fact]
    public void AccountLabelIsBase32OfTheFirstTenBytesOfTheUrlsSha256InLowerCase()
    {
        // Computed apart from this code: python3 base64.b32encode(hashlib.sha256(url).digest()[:10]).lower().
        Assert.Equal("ujmmovf2vn55tgye", DnsPersistRecord.AccountLabel(Account));
    }

    [Fact]
    public void ChallengesNameTheirRecords()
    {
        AcmeChallenge account = Challenge("*.example.org", """{"type":"dns-account-01","url":"https://ca/c/1","status":"pending","token":"abc"}""");
        account.Account = null;
        Assert.Null(account.DnsRecordName); // no account URL yet: no name

        AcmeChallenge persist = Challenge("*.example.org",
            """{"type":"dns-persist-01","url":"https://ca/c/2","status":"pending","accounturi":"https://example.com/acme/acct/ExampleAccount","issuer-domain-names":["Pebble.LetsEncrypt.org","other.example"]}""");
        Assert.Equal("_validation-persist.example.org", persist.DnsRecordName);
        Assert.Equal("pebble.letsencrypt.org; accounturi=https://example.com/acme/acct/ExampleAccount; policy=wildcard", persist.DnsRecordValue);
        Assert.Equal(new[] { "Pebble.LetsEncrypt.org", "other.example" }, persist.IssuerDomainNames);
        Assert.Null(persist.Token);
    }

    [Fact]
    public void FormatsPersistUntilAsUnixSeconds()
    {
        string value = DnsPersistRecord.Format("ca.example.", Account, false, DateTimeOffset.FromUnixTimeSeconds(1767225600));
        Assert.Equal("ca.example; accounturi=https://example.com/acme/acct/ExampleAccount; persistUntil=1767225600", value);
    }

    [Theory]
    [InlineData("ca.example; accounturi=https://example.com/acme/acct/ExampleAccount", null)]
    [InlineData(" ca.example ;AccountURI=https://example.com/acme/acct/ExampleAccount ; policy=WILDCARD", null)]
    [InlineData("ca.example; accounturi=https://example.com/acme/acct/Other", "names the account https://example.com/acme/acct/Other")]
    [InlineData("other.example; accounturi=https://example.com/acme/acct/ExampleAccount", "names the issuer other.example")]
    [InlineData("ca.example; policy=wildcard", "no accounturi")]
    [InlineData("ca.example; accounturi=https://example.com/acme/acct/ExampleAccount; persistUntil=1000", "persistUntil (1970-01-01 00:16:40Z)")]
    public void ChecksARecordForTheAccountAndTime(string text, string? problem)
    {
        DnsPersistRecord record = DnsPersistRecord.Parse(text)!;
        string? why = record.Problem(new[] { "ca.example" }, Account, false, DateTimeOffset.FromUnixTimeSeconds(2000));
        if (problem is null)
        {
            Assert.Null(why);
        }
        else
        {
            Assert.Contains(problem, why);
        }
    }

    [Fact]
    public void AWildcardNeedsPolicyWildcard()
    {
        DnsPersistRecord record = DnsPersistRecord.Parse("ca.example; accounturi=https://example.com/acme/acct/ExampleAccount; policy=other")!;
        Assert.Null(record.Policy); // any other value counts as absent
        Assert.Contains("policy=wildcard", record.Problem(new[] { "ca.example" }, Account, true, DateTimeOffset.UtcNow));
    }

    [Theory]
    [InlineData("")]
    [InlineData("; accounturi=x")]
    [InlineData("ca.example; accounturi")]
    [InlineData("ca.example; accounturi=a; accounturi=b")]
    [InlineData("ca.example; accounturi=a; persistUntil=soon")]
    public void RefusesMalformedValues(string text) => Assert.Null(DnsPersistRecord.Parse(text));

    private static AcmeChallenge Challenge(string name, string json) =>
        AcmeChallenge.FromJson(new AcmeIdentifier("dns", name), JsonCodec.ParseObject(json), "thumbprint");
}
