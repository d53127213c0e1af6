using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Files;
using Acme.Protocol.Errors;
using Acme.Protocol.Export;
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

    private (StoreLocation Location, string StoreName)? _store;

    protected override void BeginProcessing()
    {
        if (Path is null && PfxPath is null && CertStoreLocation is null)
        {
            ThrowAcmeError(new AcmeArgumentException(AcmeErrorId.NoExportTarget, "Give -Path (a folder for PEM files), -PfxPath, -CertStoreLocation, or several."), null);
        }

        if (AcmeFiles.MissingPfxPassword(PfxPath, Password) is { } missing)
        {
            ThrowAcmeError(missing, PfxPath);
        }

        if (CertStoreLocation is not null)
        {
            try
            {
                _store = CertificateExporter.ParseStoreLocation(CertStoreLocation);
            }
            catch (AcmeArgumentException e)
            {
                ThrowAcmeError(e, CertStoreLocation);
            }
        }
    }

    protected override void ProcessRecord()
    {
        var written = new List<FileInfo>();
        try
        {
            if (Path is not null)
            {
                string folder = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
                if (ShouldProcess(folder, $"Write the PEM files for {string.Join(", ", Certificate.Names)}"))
                {
                    foreach (string file in CertificateExporter.WritePemFolder(Certificate, folder))
                    {
                        written.Add(new FileInfo(file));
                    }

                    if (Certificate.Key is null)
                    {
                        WriteWarning("The certificate carries no private key in this session, so key.pem was not written.");
                    }
                }
            }

            if (PfxPath is not null)
            {
                string pfx = SessionState.Path.GetUnresolvedProviderPathFromPSPath(PfxPath);
                if (ShouldProcess(pfx, $"Write a PFX file for {string.Join(", ", Certificate.Names)}"))
                {
                    written.Add(new FileInfo(Secrets.WithChars(Password!, p => CertificateExporter.WritePfx(Certificate, pfx, p, LegacyPfxEncryption))));
                }
            }
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

        if (_store is (StoreLocation location, string storeName) &&
            ShouldProcess($"Cert:\\{location}\\{storeName}", $"Import the certificate for {string.Join(", ", Certificate.Names)} with its key"))
        {
            try
            {
                X509Certificate2 imported = CertificateExporter.ImportToStore(Certificate, location, storeName);
                WriteVerbose($"Imported {imported.Thumbprint} into Cert:\\{location}\\{storeName}, and its issuers into Cert:\\{location}\\CA.");
            }
            catch (Exception e) when (e is AcmeException || e is UnauthorizedAccessException)
            {
                WriteAcmeError(e, Certificate);
            }
        }
    }
}
