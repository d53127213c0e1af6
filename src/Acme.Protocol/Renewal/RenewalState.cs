using System;
using Acme.Protocol.Model;

namespace Acme.Protocol.Renewal;

/// <summary>
/// What a certificate's last ARI answer said, kept with the certificate in its state folder: the
/// window, the moment chosen in it, and when the CA may be asked again.
/// </summary>
public sealed class RenewalState
{
    public RenewalState(string certificateId, RenewalWindow window, Uri? explanationUrl, DateTimeOffset checkedAt, DateTimeOffset nextCheck)
    {
        CertificateId = certificateId ?? throw new ArgumentNullException(nameof(certificateId));
        Window = window ?? throw new ArgumentNullException(nameof(window));
        ExplanationUrl = explanationUrl;
        CheckedAt = checkedAt;
        NextCheck = nextCheck;
    }

    public string CertificateId { get; }

    public RenewalWindow Window { get; }

    public Uri? ExplanationUrl { get; }

    public DateTimeOffset CheckedAt { get; }

    /// <summary>Retry-After (held between one minute and one day): the CA is not asked again before it.</summary>
    public DateTimeOffset NextCheck { get; }

    /// <summary>
    /// RFC 9773 section 4.3: "Clients SHOULD fetch a certificate's RenewalInfo immediately after
    /// issuance", and after that once the time its Retry-After gave has passed; until then the stored
    /// answer stands.
    /// </summary>
    public bool NeedsCheck(DateTimeOffset now) => now >= NextCheck;

    /// <summary>
    /// The state after a fresh answer. While the CA suggests the same window, the moment chosen in it
    /// the first time is kept, so every run (and every host sharing the state folder) renews at the
    /// same moment instead of drawing a new one each time; a changed window gets the new answer's moment.
    /// Timestamps compare to the second, the precision the state files keep.
    /// </summary>
    public static RenewalState FromAnswer(AcmeRenewalInfo answer, RenewalState? previous)
    {
        if (answer is null)
        {
            throw new ArgumentNullException(nameof(answer));
        }

        bool sameWindow = previous is not null && previous.CertificateId == answer.CertificateId
            && Seconds(previous.Window.Start) == Seconds(answer.SuggestedWindowStart)
            && Seconds(previous.Window.End) == Seconds(answer.SuggestedWindowEnd);
        DateTimeOffset selected = sameWindow ? previous!.Window.Selected : answer.SelectedRenewalTime;
        return new RenewalState(answer.CertificateId, new RenewalWindow(answer.SuggestedWindowStart, answer.SuggestedWindowEnd, selected),
            answer.ExplanationUrl, answer.RetrievedAt, answer.NextCheck);
    }

    private static long Seconds(DateTimeOffset value) => value.ToUnixTimeSeconds();
}
