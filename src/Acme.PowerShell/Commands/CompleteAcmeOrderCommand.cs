using System;
using System.IO;
using System.Management.Automation;
using System.Security;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Files;
using Acme.PowerShell.Stores;
using Acme.Protocol.Client;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

[Cmdlet(VerbsLifecycle.Complete, "AcmeOrder", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeCertificate))]
public sealed class CompleteAcmeOrderCommand : AcmeCmdlet
{
    private const string DefaultSet = "Default";
    private const string KeySet = "CertificateKey";
    private const string KeyPathSet = "CertificateKeyPath";
    private const string CsrSet = "CertificateSigningRequest";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [PipedObject(typeof(AcmeOrder), "Complete-AcmeOrder", "New-AcmeOrder")]
    [ValidateNotNull]
    public AcmeOrder Order { get; set; } = null!;

    [Parameter(ParameterSetName = DefaultSet)]
    public AcmeKeyAlgorithm KeyAlgorithm { get; set; } = AcmeKeyAlgorithm.EC256;

    /// <summary>Reuses a key for the certificate: an AcmeKey (an earlier certificate's Key) or an unencrypted PEM key file.</summary>
    [Parameter(Mandatory = true, ParameterSetName = KeySet)]
    [AcmeKeyTransformation]
    [ValidateNotNull]
    public AcmeKey? CertificateKey { get; set; }

    /// <summary>Reuses the key in a file: PEM (PKCS#8, encrypted PKCS#8, SEC 1, PKCS#1) or PKCS#12 (PFX).</summary>
    [Parameter(Mandatory = true, ParameterSetName = KeyPathSet)]
    [ValidateNotNullOrEmpty]
    public string CertificateKeyPath { get; set; } = null!;

    /// <summary>The password of an encrypted -CertificateKeyPath file.</summary>
    [Parameter(ParameterSetName = KeyPathSet)]
    public SecureString? CertificateKeyPassword { get; set; }

    /// <summary>A CSR of your own: PEM text, or the path of a PEM or DER file. It must name exactly the order's identifiers.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CsrSet)]
    [Alias("Csr")]
    [ValidateNotNullOrEmpty]
    public string CertificateSigningRequest { get; set; } = null!;

    /// <summary>The issuer common name (or distinguished name) of the chain's topmost certificate; the default chain is kept when none matches.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PreferredChain { get; set; }

    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSec { get; set; } = 300;

    /// <summary>How many versions of the certificate the state folder keeps, the new one among them; older ones are removed with their keys.</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int KeepVersions { get; set; } = AcmeStateStore.DefaultKeepVersions;

    /// <summary>The -CertificateKeyPath key, read (and decrypted) once for all the orders piped in.</summary>
    private AcmeKey? _keyFromFile;

    protected override void ProcessRecord()
    {
        byte[]? csr = null;
        AcmeKey? key = CertificateKey;
        try
        {
            if (ParameterSetName == KeyPathSet)
            {
                key = _keyFromFile ??= AcmeFiles.ReadKey(SessionState.Path.GetUnresolvedProviderPathFromPSPath(CertificateKeyPath), CertificateKeyPassword);
            }

            if (ParameterSetName == CsrSet)
            {
                csr = AcmeFiles.ReadCertificateSigningRequest(CertificateSigningRequest, SessionState.Path.GetUnresolvedProviderPathFromPSPath);
                CsrBuilder.EnsureMatchesOrder(csr, Order.Identifiers);
            }
        }
        catch (Exception e) when (e is AcmeException || e is IOException)
        {
            WriteAcmeError(e, Order);
            return;
        }

        string names = string.Join(", ", Order.Names);
        if (!ShouldProcess(names, "Finalize the order and download the certificate"))
        {
            return;
        }

        try
        {
            // -KeyAlgorithm counts only when given: otherwise a renewal keeps the key type of the certificate it replaces.
            AcmeKeyAlgorithm? algorithm = MyInvocation.BoundParameters.ContainsKey(nameof(KeyAlgorithm)) ? KeyAlgorithm : null;
            AcmeCertificate certificate = RunAsync(context => OrderSteps.CompleteOrderAsync(new AcmeClient(Order.Account.Server, context), Order,
                key, algorithm, csr, PreferredChain, PolicyFor(TimeoutSec), context, StopToken, KeepVersions));
            WriteObject(certificate);
            StoreBinding.ReleaseLock(Order, WriteVerbose);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, Order);
        }
    }
}
