using System.Management.Automation;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Reads saved certificates from the state folder: the version in use of each, with its key, chain,
/// and the order and account it came from, so it pipes on into Test-AcmeRenewal, New-AcmeOrder
/// (renewal), Export-AcmeCertificate and Revoke-AcmeCertificate. No request is sent.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AcmeCertificate", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(AcmeCertificate))]
public sealed class GetAcmeCertificateCommand : AcmeSavedCertificateCmdlet
{
    protected override void ProcessRecord() =>
        WriteSaved((query, server, name) => query.Store.ReadCertificate(server, name, query.AccountsOfCertificates(server)), "certificate",
            AcmeErrorId.CertificateNotFound);
}
