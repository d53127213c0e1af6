using System.Management.Automation;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Removes a certificate from the state folder: every saved version with its key, and its order, so
/// renewal no longer sees it. Nothing is sent to the CA; revoke first (Revoke-AcmeCertificate) if the
/// certificate must stop being trusted.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "AcmeCertificate", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeCertificate))]
public sealed class RemoveAcmeCertificateCommand : AcmeCmdlet
{
    private const string DefaultSet = "Default";

    /// <summary>A saved certificate, as Get-AcmeCertificate writes it.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public AcmeCertificate Certificate { get; set; } = null!;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess($"{Certificate.Name ?? string.Join(", ", Certificate.Names)} in {Certificate.StatePath ?? "no state folder"}",
                "Remove the saved certificate with every version and private key"))
        {
            return;
        }

        try
        {
            RunAsync(context => RemovalSteps.RemoveCertificateAsync(Certificate, context, StopToken));
            if (PassThru)
            {
                WriteObject(Certificate);
            }
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, Certificate);
        }
    }
}
