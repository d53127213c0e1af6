using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
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

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public AcmeOrder Order { get; set; } = null!;

    [Parameter]
    public AcmeKeyAlgorithm KeyAlgorithm { get; set; } = AcmeKeyAlgorithm.EC256;

    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSec { get; set; } = 300;

    protected override void ProcessRecord()
    {
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
                // A retry (after a failed download, say) reuses the key the first attempt made and the CA may have certified.
                AcmeKey? key = Order.CertificateKey
                    ?? (Order.Status is AcmeOrderStatus.Ready or AcmeOrderStatus.Pending ? AcmeKey.Generate(KeyAlgorithm) : null);
                Order.CertificateKey = key;
                IReadOnlyList<AcmeCertificate> chains = await OrderFlow.FinalizeAsync(client, Order, key, null, PolicyFor(TimeoutSec), context, StopToken)
                    .ConfigureAwait(false);
                AcmeCertificate issued = chains[0];
                if (key is not null)
                {
                    if (!issued.Certificate.GetPublicKey().SequenceEqual(PublicKeyOf(key)))
                    {
                        throw new AcmeProtocolException("The CA issued a certificate for a different public key than the one in the request.");
                    }

                    issued.Key = key;
                }

                context.Verbose($"Issued {issued.Thumbprint} for {string.Join(", ", issued.Names)}, valid until {issued.NotAfter:u}.");
                return issued;
            });
            WriteObject(certificate);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, Order);
        }
    }

    private static byte[] PublicKeyOf(AcmeKey key)
    {
        var info = Org.BouncyCastle.Asn1.X509.SubjectPublicKeyInfo.GetInstance(key.GetSubjectPublicKeyInfo());
        return info.PublicKey.GetBytes();
    }
}
