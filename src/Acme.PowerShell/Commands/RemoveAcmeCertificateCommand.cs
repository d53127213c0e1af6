using System.Management.Automation;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Removes a certificate from the state folder: every saved version with its private key, and its
/// order, so renewal no longer sees it. Nothing is sent to the CA; revoke first (Revoke-AcmeCertificate)
/// if the certificate must stop being trusted. Each removal asks for confirmation unless -Force.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "AcmeCertificate", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(AcmeCertificate))]
public sealed class RemoveAcmeCertificateCommand : AcmeRemovingCmdlet
{
    /// <summary>The saved certificates' names; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByNameSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(CertificateNameCompleter))]
    public string[] Name { get; set; } = null!;

    /// <summary>A saved certificate, as Get-AcmeCertificate writes it.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByObjectSet)]
    [PipedObject(typeof(AcmeCertificate), "Remove-AcmeCertificate", "Complete-AcmeOrder")]
    [ValidateNotNull]
    public AcmeCertificate Certificate { get; set; } = null!;

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ByNameSet)
        {
            RemoveByName(Name, (store, server) => store.GetCertificateNames(server),
                (query, server, name) => query.Store.ReadCertificate(server, name, query.AccountsOfCertificates(server)),
                "certificate", AcmeErrorId.CertificateNotFound, Remove);
            return;
        }

        Remove(Certificate);
    }

    private void Remove(AcmeCertificate certificate) => RemoveConfirmed(certificate, $"{certificate.Name ?? string.Join(", ", certificate.Names)} in {certificate.StatePath ?? "no state folder"}",
        "Remove the saved certificate with every version and private key", context => RemovalSteps.RemoveCertificateAsync(certificate, context, StopToken));
}
