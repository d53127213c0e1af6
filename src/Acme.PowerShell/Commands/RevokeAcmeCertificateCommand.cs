using System;
using System.IO;
using System.Management.Automation;
using System.Security;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Files;
using Acme.Protocol.Client;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Revokes a certificate (RFC 8555 section 7.6), signed by the account (by default the one that
/// ordered it) or, with -UseCertificateKey or -CertificateKey, by the certificate's own key.
/// </summary>
[Cmdlet(VerbsSecurity.Revoke, "AcmeCertificate", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = CertificateSet)]
[OutputType(typeof(AcmeCertificate))]
public sealed class RevokeAcmeCertificateCommand : AcmeCertificateCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = CertificateSet)]
    [PipedObject(typeof(AcmeCertificate), "Revoke-AcmeCertificate", "Complete-AcmeOrder", Properties = new[] { "CertificatePath", "FullName" })]
    [ValidateNotNull]
    public override AcmeCertificate Certificate { get; set; } = null!;

    /// <summary>The RFC 5280 reason; without it the CA records "unspecified".</summary>
    [Parameter]
    public AcmeRevocationReason? Reason { get; set; }

    /// <summary>The account that signs the request; by default the one that ordered the certificate.</summary>
    [Parameter]
    public AcmeAccount? Account { get; set; }

    /// <summary>Signs with the certificate's own key (the Key an AcmeCertificate carries).</summary>
    [Parameter]
    public SwitchParameter UseCertificateKey { get; set; }

    /// <summary>Signs with this key, the certificate's own (an AcmeKey, or an unencrypted PEM key file).</summary>
    [Parameter]
    [AcmeKeyTransformation]
    public AcmeKey? CertificateKey { get; set; }

    /// <summary>Signs with the certificate's own key, read from this file: PEM, encrypted PEM or PKCS#12 (PFX).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CertificateKeyPath { get; set; }

    /// <summary>The password of an encrypted -CertificateKeyPath file.</summary>
    [Parameter]
    public SecureString? CertificateKeyPassword { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>The -CertificateKeyPath key, read (and decrypted) once for all the certificates piped in.</summary>
    private AcmeKey? _keyFromFile;

    protected override void ProcessRecord()
    {
        AcmeCertificate certificate;
        AcmeServer server;
        AcmeKey? signingKey;
        AcmeAccount? account;
        try
        {
            certificate = InputCertificate()!;
            if (CertificateKeyPath is not null && (CertificateKey is not null || UseCertificateKey))
            {
                throw new AcmeArgumentException(AcmeErrorId.ConflictingParameters, "Give one of -CertificateKey, -CertificateKeyPath and -UseCertificateKey.");
            }

            if (CertificateKeyPath is not null)
            {
                _keyFromFile ??= AcmeFiles.ReadKey(SessionState.Path.GetUnresolvedProviderPathFromPSPath(CertificateKeyPath), CertificateKeyPassword);
            }

            signingKey = _keyFromFile ?? CertificateKey ?? (UseCertificateKey ? certificate.Key ?? throw new AcmeArgumentException(AcmeErrorId.CertificateKeyUnavailable,
                "The certificate carries no private key in this session; give it with -CertificateKey.") : null);
            account = signingKey is null ? Account ?? certificate.Order?.Account : Account;
            if (signingKey is null && account is null)
            {
                throw new AcmeArgumentException(AcmeErrorId.NoAccount,
                    "Nothing can sign the revocation: give -Account, or -UseCertificateKey or -CertificateKey to sign with the certificate's key.");
            }

            server = ServerFor(account, certificate);
        }
        catch (Exception e) when (e is AcmeException || e is IOException)
        {
            WriteAcmeError(e, InputTarget);
            return;
        }

        string what = $"{string.Join(", ", certificate.Names)} (serial {certificate.SerialNumber})";
        if (!ShouldProcess(what, $"Revoke the certificate{(Reason is null ? string.Empty : $" ({Reason})")}" +
                (signingKey is null ? string.Empty : ", signed by the certificate's key")))
        {
            return;
        }

        try
        {
            RunAsync(async context =>
            {
                var client = new AcmeClient(server, context);
                await (signingKey is not null
                    ? client.RevokeCertificateAsync(signingKey, certificate.Certificate, Reason, StopToken)
                    : client.RevokeCertificateAsync(account!, certificate.Certificate, Reason, StopToken)).ConfigureAwait(false);
                await CertificateSteps.RecordRevocationAsync(certificate, Reason, context, StopToken).ConfigureAwait(false);
            });
            if (PassThru)
            {
                WriteObject(certificate);
            }
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, certificate);
        }
    }
}
