using System;
using System.Threading.Tasks;
using Acme.Protocol.Crypto;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.Renewal;
using Acme.Protocol.State;
using Xunit;

namespace Acme.Protocol.Tests;

/// <summary>
/// The backoff after a failed renewal (<see cref="RenewalBackoff"/>), with the clock given to every
/// call: nothing sleeps.
/// </summary>
public class RenewalBackoffTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly DateTimeOffset FarAway = T0.AddDays(60);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(4, 8)]
    [InlineData(5, 16)]
    [InlineData(6, 24)]   // 32 h is held at a day
    [InlineData(40, 24)]
    public void TheWaitDoublesFromAnHourUpToADay(int failures, int hours) =>
        Assert.Equal(TimeSpan.FromHours(hours), RenewalBackoff.Delay(failures, T0, FarAway));

    [Fact]
    public void TheNextTryAlwaysComesBeforeTheCertificateExpires()
    {
        // 10 hours left: a 16-hour wait would pass expiry; half of what is left (5 h) is taken instead.
        Assert.Equal(TimeSpan.FromHours(5), RenewalBackoff.Delay(5, T0, T0.AddHours(10)));
        // Close to expiry, tries come closer together, never under a minute.
        Assert.Equal(TimeSpan.FromMinutes(15), RenewalBackoff.Delay(3, T0, T0.AddMinutes(30)));
        Assert.Equal(RenewalBackoff.Shortest, RenewalBackoff.Delay(3, T0, T0.AddSeconds(30)));
        // Already expired: the plain schedule (there is no expiry left to beat).
        Assert.Equal(TimeSpan.FromHours(4), RenewalBackoff.Delay(3, T0, T0.AddDays(-1)));
    }

    [Fact]
    public void FailuresInARowGrowTheScheduleAndTheCasRetryAfterWins()
    {
        RenewalFailure first = RenewalBackoff.After(null, "validation failed", "urn:ietf:params:acme:error:connection", T0, FarAway);
        Assert.Equal(1, first.Failures);
        Assert.Equal(T0.AddHours(1), first.NextAttempt);

        RenewalFailure second = RenewalBackoff.After(first, "again", null, T0.AddHours(1), FarAway);
        Assert.Equal(2, second.Failures);
        Assert.Equal(T0.AddHours(3), second.NextAttempt);

        // A rate limit whose Retry-After is later than the schedule's moment: the CA's moment.
        RenewalFailure limited = RenewalBackoff.After(second, "rate limited", null, T0.AddHours(3), FarAway, T0.AddHours(20));
        Assert.Equal(T0.AddHours(20), limited.NextAttempt);
    }

    [Fact]
    public void ADueDecisionWaitsForTheBackoffUnlessForced()
    {
        var due = new RenewalDecision(true, RenewalReason.LifetimeFraction, T0.AddDays(-1));
        RenewalFailure failure = RenewalBackoff.After(null, "boom", null, T0, FarAway);

        RenewalDecision held = RenewalBackoff.Apply(due, failure, T0.AddMinutes(59));
        Assert.False(held.Due);
        Assert.Equal(RenewalReason.Backoff, held.Reason);
        Assert.Equal(T0.AddHours(1), held.RenewAt);

        Assert.Same(due, RenewalBackoff.Apply(due, failure, T0.AddHours(1)));
        var forced = new RenewalDecision(true, RenewalReason.Forced, T0);
        Assert.Same(forced, RenewalBackoff.Apply(forced, failure, T0.AddMinutes(1)));
        var notDue = new RenewalDecision(false, RenewalReason.NotDue, FarAway);
        Assert.Same(notDue, RenewalBackoff.Apply(notDue, failure, T0.AddMinutes(1)));
    }

    private sealed class QuietLog : IAcmeLog
    {
        public bool IsDebugEnabled => false;

        public void Verbose(string message) { }

        public void Debug(string message) { }
    }

    [Fact]
    public async Task AFailureSavedWithTheCertificateHoldsTheCheckBackUntilNextAttempt()
    {
        using var temp = new TempState();
        AcmeStateStore store = temp.Open();
        var server = new AcmeServer(new Uri("https://ca.test/dir"));
        AcmeAccount account = TempState.SaveAccount(store, server, "default");
        DateTimeOffset now = DateTimeOffset.UtcNow;
        // Issued 80 days ago for 90: due by the lifetime rule.
        AcmeCertificate saved = TempState.SaveCertificate(store, TempState.Order(account, "valid", "backoff.test"),
            TempState.Issue(AcmeKey.Generate(AcmeKeyAlgorithm.EC256), now.AddDays(-80), TimeSpan.FromDays(90), "backoff.test"));
        var log = new QuietLog();

        AcmeRenewalCheck before = await CertificateSteps.CheckRenewalAsync(null, saved, false, now, log);
        Assert.True(before.Due);
        Assert.Null(before.LastError);
        Assert.Null(before.NextAttempt);
        Assert.Equal(0, before.Failures);

        var refused = new AcmeTimeoutException("The authorization for backoff.test stayed pending.");
        RenewalFailure? first = await RenewalFailureSteps.RecordAsync(saved, refused, now, log);
        Assert.NotNull(first);
        Assert.Equal(now.AddHours(1), first!.NextAttempt);

        AcmeCertificate reread = store.ReadCertificate(server, "backoff.test", n => store.ReadAccount(server, n))!;
        AcmeRenewalCheck held = await CertificateSteps.CheckRenewalAsync(null, reread, false, now.AddMinutes(30), log);
        Assert.False(held.Due);
        Assert.Equal(RenewalReason.Backoff, held.Reason);
        Assert.Equal(refused.Message, held.LastError);
        Assert.Equal("AcmeTimeout", held.LastErrorId);
        Assert.Equal(now, held.LastAttempt);
        Assert.Equal(now.AddHours(1), held.NextAttempt);
        Assert.Equal(1, held.Failures);

        Assert.True((await CertificateSteps.CheckRenewalAsync(null, reread, true, now.AddMinutes(30), log)).Due);
        AcmeRenewalCheck after = await CertificateSteps.CheckRenewalAsync(null, reread, false, now.AddHours(1), log);
        Assert.True(after.Due);
        Assert.Equal(RenewalReason.LifetimeFraction, after.Reason);
        Assert.Equal(refused.Message, after.LastError);

        // The second failure in a row waits two hours.
        RenewalFailure? second = await RenewalFailureSteps.RecordAsync(reread, refused, now.AddHours(1), log);
        Assert.Equal(2, second!.Failures);
        Assert.Equal(now.AddHours(3), second.NextAttempt);

        // Bad input is no renewal failure: nothing is recorded for it.
        Assert.Null(await RenewalFailureSteps.RecordAsync(reread, new AcmeArgumentException(AcmeErrorId.InvalidIdentifier, "bad"), now, log));

        // Cleared: the check no longer holds back.
        store.WriteRenewalFailure(reread, null);
        AcmeRenewalCheck cleared = await CertificateSteps.CheckRenewalAsync(null, reread, false, now.AddMinutes(1), log);
        Assert.True(cleared.Due);
        Assert.Null(cleared.LastError);
    }
}
