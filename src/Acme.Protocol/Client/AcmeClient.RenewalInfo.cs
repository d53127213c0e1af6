using System;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.Transport;

namespace Acme.Protocol.Client;

/// <summary>ACME Renewal Information (RFC 9773): renewalInfo and newOrder's "replaces".</summary>
public sealed partial class AcmeClient
{
    /// <summary>The renewal information for a certificate the CA issued (RFC 9773 section 4).</summary>
    public Task<AcmeRenewalInfo> GetRenewalInfoAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default) =>
        GetRenewalInfoAsync(AcmeRenewalInfo.GetCertificateId(certificate), cancellationToken);

    /// <summary>
    /// RFC 9773 section 4.1: the client "sends an unauthenticated GET request to a path under the
    /// server's renewalInfo URL", the certificate identifier being the last path segment. A 404 after
    /// a cached directory may mean the CA moved the resource (Posh-ACME#631), so the directory is read
    /// again once and the request repeated when the URL changed.
    /// </summary>
    public async Task<AcmeRenewalInfo> GetRenewalInfoAsync(string certificateId, CancellationToken cancellationToken = default)
    {
        if (!AcmeRenewalInfo.IsCertificateId(certificateId))
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidCertificateId,
                $"'{certificateId}' is not an ARI certificate identifier (two base64url parts joined by a period).");
        }

        Uri url = await RenewalInfoUrlAsync(certificateId, cancellationToken).ConfigureAwait(false);
        AcmeResponse response;
        try
        {
            response = await Connection.GetAsync(url, _log, cancellationToken).ConfigureAwait(false);
        }
        catch (AcmeProblemException e) when (e.Problem.Status == 404)
        {
            Connection.RefreshDirectory();
            Uri again = await RenewalInfoUrlAsync(certificateId, cancellationToken).ConfigureAwait(false);
            if (again == url)
            {
                throw new AcmeArgumentException(AcmeErrorId.RenewalInfoNotFound,
                    $"{Connection.Server} has no renewal information for the certificate {certificateId}; did this CA issue it?", e);
            }

            url = again;
            response = await Connection.GetAsync(url, _log, cancellationToken).ConfigureAwait(false);
        }

        AcmeRenewalInfo info = AcmeRenewalInfo.FromJson(certificateId, url, response.Json, response.RetryAfter, DateTimeOffset.UtcNow);
        _log.Verbose($"{Connection.Server} suggests renewing {certificateId} between {info.SuggestedWindowStart:u} and {info.SuggestedWindowEnd:u}.");
        return info;
    }

    private async Task<Uri> RenewalInfoUrlAsync(string certificateId, CancellationToken cancellationToken)
    {
        AcmeDirectory directory = await GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        Uri baseUrl = directory.RenewalInfo ?? throw new AcmeArgumentException(AcmeErrorId.RenewalInfoUnsupported,
            $"{Connection.Server} does not offer ACME Renewal Information (RFC 9773): its directory has no renewalInfo URL.");
        return new Uri(baseUrl.AbsoluteUri.TrimEnd('/') + "/" + certificateId);
    }

    /// <summary>
    /// RFC 9773 section 5: "replaces (string, optional): A string uniquely identifying a
    /// previously-issued certificate which this order is intended to replace." A CA without
    /// renewalInfo does not implement RFC 9773, so the field is left out for it (and said so) rather
    /// than sent to a server that would ignore or refuse it.
    /// </summary>
    private string? ReplacesFor(AcmeDirectory directory, string replaces)
    {
        if (!AcmeRenewalInfo.IsCertificateId(replaces))
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidCertificateId,
                $"'{replaces}' is not an ARI certificate identifier (two base64url parts joined by a period).");
        }

        if (directory.RenewalInfo is null)
        {
            _log.Verbose($"{Connection.Server} does not implement ACME Renewal Information; the order does not say it replaces {replaces}.");
            return null;
        }

        return replaces;
    }
}
