using System;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509.Extension;

namespace Acme.Protocol.Model;

/// <summary>
/// ACME Renewal Information for one certificate (RFC 9773 section 4.2): the window in which the CA
/// suggests renewing, a moment picked inside it, and when to ask again.
/// </summary>
public sealed class AcmeRenewalInfo
{
    /// <summary>Without a Retry-After the next check is six hours away, inside the 1 minute to 1 day limits below.</summary>
    public static readonly TimeSpan DefaultCheckInterval = TimeSpan.FromHours(6);

    private static readonly TimeSpan s_minCheckInterval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan s_maxCheckInterval = TimeSpan.FromDays(1);

    private AcmeRenewalInfo(string certificateId, Uri url)
    {
        CertificateId = certificateId;
        Url = url;
    }

    /// <summary>The certificate's ARI identifier (RFC 9773 section 4.1), also what newOrder's "replaces" takes.</summary>
    public string CertificateId { get; }

    /// <summary>The renewalInfo URL that was asked.</summary>
    public Uri Url { get; }

    public DateTimeOffset SuggestedWindowStart { get; private set; }

    public DateTimeOffset SuggestedWindowEnd { get; private set; }

    /// <summary>A moment picked uniformly at random inside the suggested window (RFC 9773 section 4.2).</summary>
    public DateTimeOffset SelectedRenewalTime { get; private set; }

    /// <summary>"A URL pointing to a page which may explain why the suggested renewal window is what it is" (RFC 9773 section 4.2).</summary>
    public Uri? ExplanationUrl { get; private set; }

    /// <summary>The Retry-After the CA sent with the answer, as it sent it.</summary>
    public TimeSpan? RetryAfter { get; private set; }

    public DateTimeOffset RetrievedAt { get; private set; }

    /// <summary>
    /// When to ask again: Retry-After, or six hours without one, held between one minute and one day
    /// (RFC 9773 section 4.3: "Clients SHOULD set reasonable limits on their checking interval. For
    /// example, values under one minute could be treated as if they were one minute, and values over
    /// one day could be treated as if they were one day.").
    /// </summary>
    public DateTimeOffset NextCheck => RetrievedAt + Clamp(RetryAfter ?? DefaultCheckInterval);

    /// <summary>"If the selected time is in the past, attempt renewal immediately" (RFC 9773 section 4.2).</summary>
    public bool ShouldRenewNow => SelectedRenewalTime <= DateTimeOffset.UtcNow;

    /// <summary>
    /// RFC 9773 section 4.1: the identifier is "the base64url-encoding of the keyIdentifier field of
    /// the certificate's Authority Key Identifier (AKI) extension, a literal period, and the
    /// base64url-encoding of the bytes of the DER encoding of the certificate's Serial Number (without
    /// the tag and length bytes)", with the trailing "=" stripped from both parts.
    /// </summary>
    public static string GetCertificateId(X509Certificate2 certificate)
    {
        if (certificate is null)
        {
            throw new ArgumentNullException(nameof(certificate));
        }

#if NET
        // The platform reads the AKI and the serial's DER content (no BouncyCastle in a fresh PowerShell 7 process).
        byte[]? keyIdentifier = (certificate.Extensions["2.5.29.35"] is { } aki
            ? new X509AuthorityKeyIdentifierExtension(aki.RawData, aki.Critical).KeyIdentifier?.ToArray() : null);
        if (keyIdentifier is null || keyIdentifier.Length == 0)
        {
            throw new AcmeArgumentException(AcmeErrorId.CertificateIdUnavailable,
                $"The certificate {certificate.Thumbprint} has no Authority Key Identifier with a key identifier, so it has no ARI certificate id.");
        }

        return FormatCertificateId(keyIdentifier, certificate.SerialNumberBytes.ToArray());
#else
        var parsed = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(certificate.RawData);
        byte[]? keyIdentifier = null;
        var extension = parsed.GetExtensionValue(X509Extensions.AuthorityKeyIdentifier);
        if (extension is not null)
        {
            keyIdentifier = AuthorityKeyIdentifier.GetInstance(X509ExtensionUtilities.FromExtensionValue(extension)).KeyIdentifier?.GetOctets();
        }

        if (keyIdentifier is null || keyIdentifier.Length == 0)
        {
            throw new AcmeArgumentException(AcmeErrorId.CertificateIdUnavailable,
                $"The certificate {certificate.Thumbprint} has no Authority Key Identifier with a key identifier, so it has no ARI certificate id.");
        }

        // BigInteger.ToByteArray is the two's complement big-endian form DER uses: a serial whose top
        // bit is set keeps its leading zero byte, as the RFC's example (00:87:65:43:21) shows.
        return FormatCertificateId(keyIdentifier, parsed.SerialNumber.ToByteArray());
#endif
    }

    internal static string FormatCertificateId(byte[] keyIdentifier, byte[] serialDerContent) =>
        Base64Url.Encode(keyIdentifier) + "." + Base64Url.Encode(serialDerContent);

    /// <summary>Two non-empty base64url parts joined by one period; anything else is refused before it goes into a URL.</summary>
    public static bool IsCertificateId(string? value)
    {
        if (string.IsNullOrEmpty(value) || value!.Length > 512)
        {
            return false;
        }

        int dot = value.IndexOf('.');
        if (dot <= 0 || dot == value.Length - 1 || value.IndexOf('.', dot + 1) >= 0)
        {
            return false;
        }

        return AcmeChallenge.IsValidToken(value.Substring(0, dot)) && AcmeChallenge.IsValidToken(value.Substring(dot + 1));
    }

    internal static AcmeRenewalInfo FromJson(string certificateId, Uri url, JsonObject json, TimeSpan? retryAfter, DateTimeOffset now)
    {
        // "suggestedWindow (object, required): A JSON object with two keys, 'start' and 'end', whose
        // values are timestamps ... which bound the window of time in which the CA recommends renewing
        // the certificate." A window whose "'end' timestamp ... is equal to or precedes the 'start'
        // timestamp" is malformed (section 4.2).
        JsonObject window = json.GetObject("suggestedWindow")
            ?? throw new AcmeProtocolException($"The renewal information at {url} has no suggestedWindow.");
        DateTimeOffset start = window.GetTimestamp("start")
            ?? throw new AcmeProtocolException($"The renewal information at {url} has no valid suggestedWindow start.");
        DateTimeOffset end = window.GetTimestamp("end")
            ?? throw new AcmeProtocolException($"The renewal information at {url} has no valid suggestedWindow end.");
        if (end <= start)
        {
            throw new AcmeProtocolException($"The renewal information at {url} has a suggested window that ends ({end:u}) before it starts ({start:u}).");
        }

        return new AcmeRenewalInfo(certificateId, url)
        {
            SuggestedWindowStart = start,
            SuggestedWindowEnd = end,
            SelectedRenewalTime = PickTime(start, end),
            ExplanationUrl = json.GetUri("explanationURL"),
            RetryAfter = retryAfter,
            RetrievedAt = now,
        };
    }

    /// <summary>
    /// RFC 9773 section 4.2's recommended algorithm starts with "Select a uniform random time within
    /// the suggested window." The randomness spreads renewals out; it is drawn from the system RNG so
    /// that processes started in the same millisecond do not pick the same moment.
    /// </summary>
    internal static DateTimeOffset PickTime(DateTimeOffset start, DateTimeOffset end)
    {
        byte[] bytes = new byte[8];
        using (var rng = RandomNumberGenerator.Create())
        {
            rng.GetBytes(bytes);
        }

        // 53 random bits give a double in [0, 1) with every value equally likely.
        double fraction = (BitConverter.ToUInt64(bytes, 0) >> 11) * (1.0 / (1UL << 53));
        return start + TimeSpan.FromTicks((long)((end - start).Ticks * fraction));
    }

    private static TimeSpan Clamp(TimeSpan interval) =>
        interval < s_minCheckInterval ? s_minCheckInterval : interval > s_maxCheckInterval ? s_maxCheckInterval : interval;

    public override string ToString() => $"{CertificateId}: renew between {SuggestedWindowStart:u} and {SuggestedWindowEnd:u}";
}
