using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Text;
using Acme.PowerShell.Infrastructure;
using Acme.Protocol;
using Acme.Protocol.Crypto;
using Acme.Protocol.Storage;

namespace Acme.PowerShell.Commands;

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

    protected override void BeginProcessing()
    {
        if (Path is null && PfxPath is null)
        {
            ThrowAcmeError(new AcmeArgumentException("AcmeNoExportTarget", "Give -Path (a folder for PEM files), -PfxPath, or both."), null);
        }

        if (PfxPath is not null && (Password is null || Password.Length == 0))
        {
            ThrowAcmeError(new AcmeArgumentException("AcmePfxPasswordRequired", "A PFX file needs -Password (a SecureString), so the private key is not stored in the clear."), PfxPath);
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
                if (File.Exists(folder))
                {
                    throw new AcmeArgumentException("AcmeExportPathIsFile", $"-Path must be a folder, but '{folder}' is a file.");
                }

                if (ShouldProcess(folder, $"Write the PEM files for {string.Join(", ", Certificate.Names)}"))
                {
                    string leaf = Pem.Encode("CERTIFICATE", Certificate.Certificate.RawData);
                    string chain = string.Concat(Certificate.Chain.Select(c => Pem.Encode("CERTIFICATE", c.RawData)));
                    written.Add(Write(folder, "cert.pem", leaf, ownerOnly: false));
                    written.Add(Write(folder, "chain.pem", chain, ownerOnly: false));
                    written.Add(Write(folder, "fullchain.pem", leaf + chain, ownerOnly: false));
                    if (Certificate.Key is not null)
                    {
                        written.Add(Write(folder, "key.pem", Certificate.Key.ExportPkcs8Pem(), ownerOnly: true));
                    }
                    else
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
                    char[] password = Secrets.ToChars(Password!);
                    try
                    {
                        AtomicFile.WriteAllBytes(pfx, PfxBuilder.Build(Certificate, password), ownerOnly: true);
                    }
                    finally
                    {
                        Array.Clear(password, 0, password.Length);
                    }

                    written.Add(new FileInfo(pfx));
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
    }

    private static FileInfo Write(string folder, string name, string content, bool ownerOnly)
    {
        string path = System.IO.Path.Combine(folder, name);
        AtomicFile.WriteAllText(path, content, ownerOnly);
        return new FileInfo(path);
    }
}
