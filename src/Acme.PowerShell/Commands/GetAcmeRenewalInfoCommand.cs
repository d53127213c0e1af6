using System;
using System.IO;
using System.Management.Automation;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Asks the CA when to renew a certificate (ACME Renewal Information, RFC 9773): the suggested window,
/// a moment picked at random inside it, the explanation URL and when to ask again.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AcmeRenewalInfo", DefaultParameterSetName = CertificateSet)]
[OutputType(typeof(AcmeRenewalInfo))]
public sealed class GetAcmeRenewalInfoCommand : AcmeCertificateCmdlet
{
    private const string IdSet = "CertificateId";

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = CertificateSet)]
    [PipedObject(typeof(AcmeCertificate), "Get-AcmeRenewalInfo", "Complete-AcmeOrder", Properties = new[] { "CertificatePath", "FullName", "CertificateId" })]
    [ValidateNotNull]
    public override AcmeCertificate Certificate { get; set; } = null!;

    /// <summary>The ARI certificate identifier itself (RFC 9773 section 4.1).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ValidateNotNullOrEmpty]
    public string CertificateId { get; set; } = null!;

    /// <summary>Any account on the CA (only its server is used; renewalInfo requests are not signed).</summary>
    [Parameter]
    public AcmeAccount? Account { get; set; }

    protected override void ProcessRecord()
    {
        AcmeCertificate? certificate;
        string id;
        AcmeServer server;
        try
        {
            certificate = InputCertificate();
            id = certificate is null ? CertificateId.Trim() : AcmeRenewalInfo.GetCertificateId(certificate.Certificate);
            server = ServerFor(Account, certificate);
        }
        catch (Exception e) when (e is AcmeException || e is IOException)
        {
            WriteAcmeError(e, ParameterSetName == IdSet ? CertificateId : InputTarget);
            return;
        }

        try
        {
            AcmeRenewalInfo info = RunAsync(context => new AcmeClient(server, context).GetRenewalInfoAsync(id, StopToken));
            WriteObject(info);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, id);
        }
    }
}
