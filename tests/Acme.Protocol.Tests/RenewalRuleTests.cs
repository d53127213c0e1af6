using System;
using Acme.Protocol.Model;
using Acme.Protocol.Renewal;
using Xunit;

namespace Acme.Protocol.Tests;

public class RenewalRuleTests
{
    private static readonly DateTimeOffset Issued = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(90, 60)]   // 90-day certificate: due with 30 days (a third) left
    [InlineData(45, 30)]   // 45-day certificate: due with 15 days left
    [InlineData(6, 3)]     // 6-day certificate: under 10 days, due at half-life
    public void WithoutAriRenewalIsDueAtTheLifetimeFraction(int lifetimeDays, int dueAfterDays)
    {
        DateTimeOffset notAfter = Issued.AddDays(lifetimeDays);
        DateTimeOffset dueAt = Issued.AddDays(dueAfterDays);
        Assert.Equal(dueAt, RenewalRule.LifetimeRenewAt(Issued, notAfter));

        RenewalDecision before = RenewalRule.Decide(Issued, notAfter, dueAt.AddMinutes(-1));
        Assert.False(before.Due);
        Assert.Equal(RenewalReason.NotDue, before.Reason);
        Assert.Equal(dueAt, before.RenewAt);

        RenewalDecision after = RenewalRule.Decide(Issued, notAfter, dueAt.AddMinutes(1));
        Assert.True(after.Due);
        Assert.Equal(RenewalReason.LifetimeFraction, after.Reason);
    }

    [Fact]
    public void A160HourCertificateIsDueAtHalfLifeAndTwiceADayChecksCatchItWithDaysToSpare()
    {
        // Let's Encrypt's shortlived profile (2026): 160 hours. Under 10 days, so due at half-life, 80 hours.
        DateTimeOffset notAfter = Issued.AddHours(160);
        Assert.Equal(Issued.AddHours(80), RenewalRule.LifetimeRenewAt(Issued, notAfter));
        DateTimeOffset firstDueCheck = Issued;
        while (!RenewalRule.Decide(Issued, notAfter, firstDueCheck).Due)
        {
            firstDueCheck = firstDueCheck.AddHours(12); // Test-AcmeRenewal twice a day, as the runbook example schedules it
        }

        Assert.Equal(RenewalReason.LifetimeFraction, RenewalRule.Decide(Issued, notAfter, firstDueCheck).Reason);
        Assert.True(notAfter - firstDueCheck >= TimeSpan.FromHours(68), $"renewed only {notAfter - firstDueCheck} before expiry");

        // ARI first: a window the CA sets earlier or later than half-life is what counts.
        var window = new RenewalWindow(Issued.AddHours(100), Issued.AddHours(110), Issued.AddHours(105));
        Assert.False(RenewalRule.Decide(Issued, notAfter, Issued.AddHours(90), window).Due);
        Assert.Equal(RenewalReason.Ari, RenewalRule.Decide(Issued, notAfter, Issued.AddHours(106), window).Reason);
    }

    [Theory]
    [InlineData(90)]
    [InlineData(45)]
    [InlineData(6)]
    public void AnAriWindowOverridesTheLifetimeRule(int lifetimeDays)
    {
        DateTimeOffset notAfter = Issued.AddDays(lifetimeDays);
        // A window earlier than the lifetime rule (the CA wants an early renewal, e.g. before a mass revocation).
        var window = new RenewalWindow(Issued.AddHours(12), Issued.AddHours(36), Issued.AddHours(20));
        Assert.False(RenewalRule.Decide(Issued, notAfter, Issued.AddHours(19), window).Due);
        RenewalDecision due = RenewalRule.Decide(Issued, notAfter, Issued.AddHours(21), window);
        Assert.True(due.Due);
        Assert.Equal(RenewalReason.Ari, due.Reason);
        Assert.Equal(Issued.AddHours(20), due.RenewAt);

        // A window later than the lifetime rule wins too: the CA knows best.
        DateTimeOffset lifetimeDue = RenewalRule.LifetimeRenewAt(Issued, notAfter);
        var late = new RenewalWindow(lifetimeDue.AddHours(1), lifetimeDue.AddHours(3), lifetimeDue.AddHours(2));
        Assert.False(RenewalRule.Decide(Issued, notAfter, lifetimeDue.AddMinutes(30), late).Due);
    }

    [Fact]
    public void ExpiredRevokedAndForcedAreDueWhateverTheWindow()
    {
        DateTimeOffset notAfter = Issued.AddDays(90);
        var window = new RenewalWindow(Issued.AddDays(60), Issued.AddDays(62), Issued.AddDays(61));
        Assert.Equal(RenewalReason.Expired, RenewalRule.Decide(Issued, notAfter, notAfter.AddSeconds(1), window).Reason);
        Assert.Equal(RenewalReason.Revoked, RenewalRule.Decide(Issued, notAfter, Issued.AddDays(1), window, revoked: true).Reason);
        Assert.Equal(RenewalReason.Forced, RenewalRule.Decide(Issued, notAfter, Issued.AddDays(1), window, force: true).Reason);
    }

    [Fact]
    public void MomentsArePickedInsideTheWindowAndSpreadAcrossIt()
    {
        DateTimeOffset start = Issued, end = Issued.AddHours(10);
        DateTimeOffset min = end, max = start;
        for (int i = 0; i < 2000; i++)
        {
            DateTimeOffset t = RenewalRule.PickInWindow(start, end);
            Assert.InRange(t, start, end);
            min = t < min ? t : min;
            max = t > max ? t : max;
        }

        // 2000 uniform draws leave less than 1% of the window uncovered at either end (failure odds ~1e-8).
        Assert.True(min < start.AddMinutes(6) && max > end.AddMinutes(-6), $"draws spanned {min:O} to {max:O}");
        Assert.Equal(start, RenewalRule.PickInWindow(start, start));
    }
}

public class RenewalStateTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static AcmeRenewalInfo Answer(string id, DateTimeOffset start, DateTimeOffset end, TimeSpan? retryAfter, DateTimeOffset now)
    {
        var json = new Json.JsonObject
        {
            ["suggestedWindow"] = new Json.JsonObject { ["start"] = start.ToString("o"), ["end"] = end.ToString("o") },
        };
        return AcmeRenewalInfo.FromJson(id, new Uri("https://ca.test/ari/" + id), json, retryAfter, now);
    }

    [Fact]
    public void TheMomentChosenInAWindowIsKeptWhileTheCaSuggestsTheSameWindow()
    {
        RenewalState first = RenewalState.FromAnswer(Answer("a.b", Start, Start.AddDays(2), null, Start), null);
        Assert.InRange(first.Window.Selected, Start, Start.AddDays(2));
        for (int i = 0; i < 20; i++)
        {
            // Each fresh answer draws its own moment; the state keeps the first one.
            RenewalState again = RenewalState.FromAnswer(Answer("a.b", Start, Start.AddDays(2), null, Start.AddHours(i)), first);
            Assert.Equal(first.Window.Selected, again.Window.Selected);
        }

        RenewalState moved = RenewalState.FromAnswer(Answer("a.b", Start.AddDays(-1), Start, null, Start), first);
        Assert.InRange(moved.Window.Selected, Start.AddDays(-1), Start);
        RenewalState otherCertificate = RenewalState.FromAnswer(Answer("c.d", Start, Start.AddDays(2), null, Start), first);
        Assert.Equal("c.d", otherCertificate.CertificateId);
    }

    [Theory]
    [InlineData(3600, 3600)]
    [InlineData(10, 60)]         // under a minute counts as a minute
    [InlineData(200000, 86400)]  // over a day counts as a day
    public void RetryAfterIsKeptAsTheNextCheck(int retryAfterSeconds, int keptSeconds)
    {
        RenewalState state = RenewalState.FromAnswer(Answer("a.b", Start, Start.AddDays(2), TimeSpan.FromSeconds(retryAfterSeconds), Start), null);
        Assert.Equal(Start.AddSeconds(keptSeconds), state.NextCheck);
        Assert.False(state.NeedsCheck(Start.AddSeconds(keptSeconds - 1)));
        Assert.True(state.NeedsCheck(Start.AddSeconds(keptSeconds)));
    }
}
