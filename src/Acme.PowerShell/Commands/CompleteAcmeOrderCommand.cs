using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using Acme.PowerShell.Infrastructure;
using Acme.Protocol;
using Acme.Protocol.Crypto;
using Acme.Protocol.Flow;

namespace Acme.PowerShell.Commands;

[Cmdlet(VerbsLifecycle.Complete, "AcmeOrder", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeCertificate))]
public sealed class CompleteAcmeOrderCommand : AcmeCmdlet
{
    private const string DefaultSet = "Default";
    private const string KeySet = "CertificateKey";
    private const string CsrSet = "CertificateSigningRequest";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public AcmeOrder Order { get; set; } = null!;

    [Parameter(ParameterSetName = DefaultSet)]
    public AcmeKeyAlgorithm KeyAlgorithm { get; set; } = AcmeKeyAlgorithm.EC256;

    /// <summary>Reuses a key for the certificate: an AcmeKey (an earlier certificate's Key) or an unencrypted PEM key file.</summary>
    [Parameter(Mandatory = true, ParameterSetName = KeySet)]
    [AcmeKeyTransformation]
    [ValidateNotNull]
    public AcmeKey? CertificateKey { get; set; }

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

    protected override void ProcessRecord()
    {
        byte[]? csr = null;
        byte[]? csrKeyBits = null;
        try
        {
            if (ParameterSetName == CsrSet)
            {
                csr = AcmeFiles.ReadCertificateSigningRequest(CertificateSigningRequest, SessionState.Path.GetUnresolvedProviderPathFromPSPath);
                csrKeyBits = AcmeKey.PublicKeyBits(CsrBuilder.EnsureMatchesOrder(csr, Order.Identifiers));
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
            AcmeCertificate certificate = RunAsync(async context =>
            {
                var client = new AcmeClient(Order.Account.Server, context);
                bool finalizes = Order.Status is AcmeOrderStatus.Ready or AcmeOrderStatus.Pending;
                // With a CSR of your own the private key stays yours: the certificate carries none.
                AcmeKey? key = CertificateKey ?? (csr is null && finalizes ? AcmeKey.Generate(KeyAlgorithm) : null);
                IReadOnlyList<AcmeCertificate> chains = await OrderFlow.FinalizeAsync(client, Order, key, csr, PolicyFor(TimeoutSec), context, StopToken)
                    .ConfigureAwait(false);
                X509Certificate2 leaf = chains[0].Certificate;
                if (key is not null && !key.MatchesCertificate(leaf))
                {
                    throw finalizes
                        ? new AcmeProtocolException("The CA issued a certificate for a different public key than the one in the request.")
                        : new AcmeArgumentException("AcmeCertificateKeyMismatch", $"The order's certificate was not issued for the key {key}.");
                }

                if (csrKeyBits is not null && finalizes && !leaf.GetPublicKey().SequenceEqual(csrKeyBits))
                {
                    throw new AcmeProtocolException("The CA issued a certificate for a different public key than the one in the CSR.");
                }

                foreach (AcmeCertificate chain in chains)
                {
                    chain.Key = key;
                }

                AcmeCertificate issued = ChainSelector.Choose(chains, PreferredChain, context);
                context.Verbose($"Issued {issued.Thumbprint} for {string.Join(", ", issued.Names)}, valid until {issued.NotAfter:u}" +
                    (chains.Count > 1 ? $"; {chains.Count - 1} alternate chain(s) in AlternateChains." : "."));
                return issued;
            });
            WriteObject(certificate);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, Order);
        }
    }
}
