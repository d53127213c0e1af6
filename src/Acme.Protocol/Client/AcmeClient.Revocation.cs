using System;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;
using Acme.Protocol.Model;

namespace Acme.Protocol.Client;

/// <summary>revokeCert (RFC 8555 section 7.6), signed by the account or by the certificate's own key.</summary>
public sealed partial class AcmeClient
{
    /// <summary>
    /// Revokes a certificate with a request signed by an account that holds authorizations for all
    /// its identifiers (usually the account that ordered it), named by "kid" like any other account
    /// request (RFC 8555 sections 6.2 and 7.6).
    /// </summary>
    public Task RevokeCertificateAsync(AcmeAccount account, X509Certificate2 certificate, AcmeRevocationReason? reason,
        CancellationToken cancellationToken = default)
    {
        if (account is null)
        {
            throw new ArgumentNullException(nameof(account));
        }

        return RevokeAsync(account.Key, account.Location, certificate, reason, cancellationToken);
    }

    /// <summary>
    /// Revokes a certificate with a request signed by the certificate's own private key: RFC 8555
    /// section 7.6 lets the holder of "the key pair in the certificate" revoke it, with the public key
    /// in a "jwk" header instead of an account "kid". No account is needed, which is what a key
    /// compromise report from someone who lost the account looks like.
    /// </summary>
    public Task RevokeCertificateAsync(AcmeKey certificateKey, X509Certificate2 certificate, AcmeRevocationReason? reason,
        CancellationToken cancellationToken = default)
    {
        if (certificateKey is null)
        {
            throw new ArgumentNullException(nameof(certificateKey));
        }

        if (certificate is not null && !certificateKey.MatchesCertificate(certificate))
        {
            throw new AcmeArgumentException(AcmeErrorId.CertificateKeyMismatch,
                $"The key {certificateKey} is not the key of the certificate {certificate.Thumbprint}; the CA would refuse the request.");
        }

        return RevokeAsync(certificateKey, null, certificate!, reason, cancellationToken);
    }

    private async Task RevokeAsync(AcmeKey key, Uri? kid, X509Certificate2 certificate, AcmeRevocationReason? reason,
        CancellationToken cancellationToken)
    {
        if (certificate is null)
        {
            throw new ArgumentNullException(nameof(certificate));
        }

        if (reason is AcmeRevocationReason r && !Enum.IsDefined(typeof(AcmeRevocationReason), r))
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidRevocationReason, $"{(int)r} is not an RFC 5280 revocation reason code.");
        }

        AcmeDirectory directory = await GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        Uri revokeCert = directory.RevokeCert ?? throw new AcmeArgumentException(AcmeErrorId.RevocationUnsupported,
            $"{Connection.Server} does not offer revocation (its directory has no revokeCert URL).");

        // "certificate (required, string): The certificate to be revoked, in the base64url-encoded
        // version of the DER format." ... "If this field is not set, the server SHOULD use the
        // unspecified (0) reasonCode value", so an absent reason is left out rather than sent as 0.
        var payload = new JsonObject { ["certificate"] = Base64Url.Encode(certificate.RawData) };
        if (reason is AcmeRevocationReason code)
        {
            payload["reason"] = (int)code;
        }

        await Connection.PostAsync(revokeCert, payload, key, kid, _log, cancellationToken).ConfigureAwait(false);
        _log.Verbose($"Revoked the certificate {certificate.Thumbprint} (serial {certificate.SerialNumber})" +
            (reason is null ? "." : $", reason {reason} ({(int)reason.Value}).") +
            (kid is null ? " The request was signed by the certificate's key." : string.Empty));
    }
}
