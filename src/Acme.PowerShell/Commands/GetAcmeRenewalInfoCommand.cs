using System;
using System.IO;
using System.Management.Automation;
using Acme.PowerShell.Infrastructure;
using Acme.Protocol;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Asks the CA when to renew a certificate (ACME Renewal Information, RFC 9773): the suggested window,
/// a moment picked at random inside it, the explanation URL and when to ask again.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AcmeRenewalInfo", DefaultParameterSetName = CertificateSet)]
[OutputType(typeof(AcmeRenewalInfo))]
public sealed class GetAcmeRenewalInfoCommand : AcmeServerCmdlet
{
    private const string CertificateSet = "Certificate";
    private const string PathSet = "Path";
    private const string IdSet = "CertificateId";

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = CertificateSet)]
    [ValidateNotNull]
    public AcmeCertificate Certificate { get; set; } = null!;

    /// <summary>A PEM (a full chain is fine) or DER certificate file.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string CertificatePath { get; set; } = null!;

    /// <summary>The ARI certificate identifier itself (RFC 9773 section 4.1).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ValidateNotNullOrEmpty]
    public string CertificateId { get; set; } = null!;

    /// <summary>Any account on the CA (only its server is used; renewalInfo requests are not signed).</summary>
    [Parameter]
    public AcmeAccount? Account { get; set; }

    /// <summary>The CA, when neither -Account nor the certificate says which it is.</summary>
    [Parameter]
    [AcmeServerTransformation]
    public override string? Server { get; set; }

    protected override void ProcessRecord()
    {
        AcmeCertificate? certificate = null;
        string id;
        AcmeServer server;
        try
        {
            switch (ParameterSetName)
            {
                case PathSet:
                    certificate = AcmeFiles.ReadCertificate(ResolvePath(CertificatePath));
                    id = AcmeRenewalInfo.GetCertificateId(certificate.Certificate);
                    break;
                case IdSet:
                    id = CertificateId.Trim();
                    break;
                default:
                    certificate = Certificate;
                    id = AcmeRenewalInfo.GetCertificateId(certificate.Certificate);
                    break;
            }

            server = ServerFor(Account, certificate);
        }
        catch (Exception e) when (e is AcmeException || e is IOException)
        {
            WriteAcmeError(e, (object?)CertificatePath ?? (object?)CertificateId ?? Certificate);
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
