using System.Management.Automation;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Files;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Cmdlets;

/// <summary>
/// The base of cmdlets about one issued certificate, taken from the pipeline (an AcmeCertificate) or
/// from a file (-CertificatePath, bound by FullName too). The server comes from an account when there
/// is one, so -Server is an optional fallback here.
/// </summary>
public abstract class AcmeCertificateCmdlet : AcmeServerCmdlet
{
    protected const string CertificateSet = "Certificate";
    protected const string PathSet = "Path";

    /// <summary>
    /// The certificate piped in (CertificateSet). Each cmdlet declares it, so the sentence for a wrong
    /// object piped names that cmdlet (PipedObjectAttribute, letting through what -CertificatePath binds by).
    /// </summary>
    public abstract AcmeCertificate Certificate { get; set; }

    /// <summary>A PEM (a full chain is fine: the first certificate counts) or DER certificate file.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string CertificatePath { get; set; } = null!;

    /// <summary>The CA, when neither an account nor the certificate says which it is.</summary>
    [Parameter]
    [AcmeServerTransformation]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public override string? Server { get; set; }

    /// <summary>The certificate this record is about; null in a parameter set that names none.</summary>
    protected AcmeCertificate? InputCertificate() => ParameterSetName switch
    {
        PathSet => AcmeFiles.ReadCertificate(ResolvePath(CertificatePath)),
        CertificateSet => Certificate,
        _ => null,
    };

    /// <summary>What an error is about: the file path or the certificate.</summary>
    protected object InputTarget => ParameterSetName == PathSet ? CertificatePath : Certificate;
}
