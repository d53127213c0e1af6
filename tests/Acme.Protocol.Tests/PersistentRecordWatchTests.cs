using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Issuance;
using Acme.Protocol.Model;
using Acme.Protocol.Renewal;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>The dns-persist-01 watch: the next renewal a record must outlive, and what the name servers serve, judged against it.</summary>
public class PersistentRecordWatchTests
{
    private static readonly Uri Account = new("https://ca.test/acme/acct/1");
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void NextRenewalIsTheLifetimeMomentWithoutAri()
    {
        DateTimeOffset renewAt = Now.AddDays(60);
        Assert.Equal(renewAt, RenewalRule.NextRenewal(renewAt, null, null, Now));
    }

    [Fact]
    public void NextRenewalIsTheEndOfTheAriWindowWhichRenewalMayReach()
    {
        DateTimeOffset selected = Now.AddDays(50);
        Assert.Equal(Now.AddDays(52), RenewalRule.NextRenewal(selected, Now.AddDays(52), null, Now));
    }

    [Fact]
    public void NextRenewalIsTheRetryAfterAFailureWhenLaterAndNeverBeforeNow()
    {
        Assert.Equal(Now.AddHours(4), RenewalRule.NextRenewal(Now.AddDays(-1), null, Now.AddHours(4), Now));
        // A due certificate renews now: the record must be valid now.
        Assert.Equal(Now, RenewalRule.NextRenewal(Now.AddDays(-1), Now.AddHours(-2), null, Now));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(90, null)]
    [InlineData(30, "persistUntil")]
    public async Task APersistUntilBeforeTheNextRenewalIsAProblem(int? untilDays, string? expected)
    {
        DateTimeOffset next = DateTimeOffset.UtcNow.AddDays(60);
        DateTimeOffset? until = untilDays is int days ? DateTimeOffset.UtcNow.AddDays(days) : null;
        using var dns = new FakeDnsServer();
        dns.AddZone("example.test", "localhost");
        dns.AddTxt("_validation-persist.www.example.test", DnsPersistRecord.Format("ca.test", Account, false, until));

        IReadOnlyList<AcmePersistentRecordProblem> problems = await PersistentRecordWatch.CheckAsync(
            new[] { Record("www.example.test", wildcard: false) }, CheckerFor(dns), next);

        if (expected is null)
        {
            Assert.Empty(problems);
            return;
        }

        AcmePersistentRecordProblem problem = Assert.Single(problems);
        Assert.Contains(expected, problem.Problem);
        Assert.Equal("_validation-persist.www.example.test", problem.Name);
        Assert.Equal("ca.test; accounturi=https://ca.test/acme/acct/1", problem.Value);
        Assert.Contains("Set the TXT record _validation-persist.www.example.test to \"ca.test; accounturi=https://ca.test/acme/acct/1\"", problem.ToString());
    }

    [Fact]
    public async Task AMissingRecordAnotherAccountAndANoWildcardPolicyAreProblems()
    {
        using var dns = new FakeDnsServer();
        dns.AddZone("example.test", "localhost");
        dns.AddTxt("_validation-persist.other.example.test", "ca.test; accounturi=https://ca.test/acme/acct/2");
        dns.AddTxt("_validation-persist.wild.example.test", "ca.test; accounturi=https://ca.test/acme/acct/1");
        DateTimeOffset next = DateTimeOffset.UtcNow.AddDays(1);

        IReadOnlyList<AcmePersistentRecordProblem> problems = await PersistentRecordWatch.CheckAsync(
            new[] { Record("gone.example.test", false), Record("other.example.test", false), Record("wild.example.test", true) }, CheckerFor(dns), next);

        Assert.Equal(3, problems.Count);
        Assert.Contains("missing", problems[0].Problem);
        Assert.Contains("names the account https://ca.test/acme/acct/2", problems[1].Problem);
        Assert.Contains("policy=wildcard", problems[2].Problem);
        Assert.Equal("ca.test; accounturi=https://ca.test/acme/acct/1; policy=wildcard", problems[2].Value);
    }

    [Fact]
    public async Task AServerThatDoesNotAnswerIsNotReportedAsMissing()
    {
        using var silent = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        int port = ((System.Net.IPEndPoint)silent.Client.LocalEndPoint!).Port;
        var checker = new DnsPropagationChecker(new[] { DnsServerAddress.Parse("127.0.0.1:" + port) }) { QueryTimeout = TimeSpan.FromMilliseconds(300) };

        AcmePersistentRecordProblem problem = Assert.Single(await PersistentRecordWatch.CheckAsync(
            new[] { Record("www.example.test", false) }, checker, DateTimeOffset.UtcNow.AddDays(1)));
        Assert.StartsWith("it could not be read", problem.Problem);
        Assert.True(silent.Available > 0, "the watch asked the server given");
    }

    [Fact]
    public void OnlyValidDnsPersistChallengesOfValidAuthorizationsAreRecordedOneRecordPerNameAndTheyRoundTrip()
    {
        const string persist = """{"type":"dns-persist-01","url":"https://ca.test/c/STATUS","status":"STATUS","accounturi":"https://ca.test/acme/acct/1","issuer-domain-names":["ca.test"]}""";
        string Authz(string name, bool wildcard, string challenge) =>
            $$"""{"identifier":{"type":"dns","value":"{{name}}"},"status":"valid","wildcard":{{(wildcard ? "true" : "false")}},"challenges":[{{challenge}}]}""";
        AcmeAuthorization[] authorizations =
        {
            AcmeAuthorization.FromJson(new Uri("https://ca.test/a/1"), Json.JsonCodec.ParseObject(Authz("example.org", false, persist.Replace("STATUS", "valid"))), "t"),
            AcmeAuthorization.FromJson(new Uri("https://ca.test/a/2"), Json.JsonCodec.ParseObject(Authz("example.org", true, persist.Replace("STATUS", "valid"))), "t"),
            AcmeAuthorization.FromJson(new Uri("https://ca.test/a/3"), Json.JsonCodec.ParseObject(Authz("other.org", false, persist.Replace("STATUS", "pending") +
                """,{"type":"http-01","url":"https://ca.test/c/h","status":"valid","token":"abc"}""")), "t"),
        };

        AcmePersistentRecord record = Assert.Single(AcmePersistentRecord.FromAuthorizations(authorizations, new Uri("https://ca.test/acme/acct/9")));
        Assert.Equal("_validation-persist.example.org", record.Name);
        Assert.Equal("example.org, *.example.org", record.Identifier);
        Assert.True(record.Wildcard);
        Assert.Equal(Account, record.AccountUri);
        Assert.Equal("ca.test; accounturi=https://ca.test/acme/acct/1; policy=wildcard", record.Value);

        AcmePersistentRecord back = AcmePersistentRecord.FromJson(Json.JsonCodec.ParseObject(Json.JsonCodec.Serialize(record.ToJson())))!;
        Assert.Equal((record.Name, record.Identifier, record.Wildcard, record.AccountUri, record.Value), (back.Name, back.Identifier, back.Wildcard, back.AccountUri, back.Value));
        Assert.Null(AcmePersistentRecord.FromJson(Json.JsonCodec.ParseObject("""{"name":"_validation-persist.x.test"}""")));
    }

    private static AcmePersistentRecord Record(string name, bool wildcard) =>
        new(wildcard ? "*." + name : name, "_validation-persist." + name, new[] { "ca.test" }, Account, wildcard);

    private static DnsPropagationChecker CheckerFor(FakeDnsServer dns) =>
        new(null, null, new[] { dns.EndPoint })
        {
            AuthoritativePort = dns.EndPoint.Port,
            QueryTimeout = TimeSpan.FromSeconds(1),
            Policy = new RetryPolicy(TimeSpan.FromMilliseconds(50), 1.5, TimeSpan.FromMilliseconds(200)),
        };
}
