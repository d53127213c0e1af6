using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Security;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Export;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Writes a certificate where servers read it: PEM files in a folder, a PFX file (AES-256 by default,
/// or the legacy 3DES form), and on Windows a certificate store with its intermediates.
/// </summary>
[Cmdlet(VerbsData.Export, "AcmeCertificate", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(FileInfo))]
public sealed class ExportAcmeCertificateCommand : AcmeCmdlet
{
    private const string DefaultSet = "Default";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public AcmeCertificate Certificate { get; set; } = null!;

    /// <summary>The folder for cert.pem, chain.pem, fullchain.pem and key.pem.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PfxPath { get; set; }

    [Parameter]
    public SecureString? Password { get; set; }

    /// <summary>The PFX in SHA1 with 3DES, for Windows Server 2016 and older, instead of AES-256 under PBKDF2.</summary>
    [Parameter]
    public SwitchParameter LegacyPfxEncryption { get; set; }

    /// <summary>A Windows certificate store, such as Cert:\LocalMachine\My; the issuers go to the same location's intermediate store.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CertStoreLocation { get; set; }

    private ExportTargets _targets = null!;

    protected override void BeginProcessing()
    {
        _targets = new ExportTargets(Path, PfxPath, Password, LegacyPfxEncryption, CertStoreLocation);
        if (_targets.Check(requireOne: true) is ({ } error, var target))
        {
            ThrowAcmeError(error, target);
        }
    }

    protected override void ProcessRecord()
    {
        var written = new List<FileInfo>();
        try
        {
            _targets.WriteFiles(Certificate, SessionState.Path.GetUnresolvedProviderPathFromPSPath, ShouldProcess, file => written.Add(new FileInfo(file)), WriteWarning);
        }
        catch (Exception e) when (e is AcmeException || e is IOException || e is UnauthorizedAccessException)
        {
            WriteAcmeError(e, Certificate);
            return;
        }

        foreach (FileInfo file in written)
        {
            WriteObject(file);
        }

        try
        {
            _targets.ImportToStore(Certificate, ShouldProcess, WriteVerbose);
        }
        catch (Exception e) when (e is AcmeException || e is UnauthorizedAccessException)
        {
            WriteAcmeError(e, Certificate);
        }
    }
}
