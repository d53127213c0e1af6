using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Acme.PowerShell.Binding;
using System.Runtime.InteropServices;
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
    [PipedObject(typeof(AcmeCertificate), "Export-AcmeCertificate", "Complete-AcmeOrder")]
    [ValidateNotNull]
    public AcmeCertificate Certificate { get; set; } = null!;

    /// <summary>
    /// The folder for cert.pem, chain.pem, fullchain.pem and key.pem. Bound by property name, so a script
    /// block is evaluated for each certificate: -Path { "./certs/$($_.Name)" }.
    /// </summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>The PFX file; bound by property name, so a script block is evaluated for each certificate.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
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

    /// <summary>
    /// Each certificate in its own folder named after it (its Name in the state folder): -Path ./certs
    /// writes ./certs/&lt;Name&gt;/cert.pem ..., -PfxPath ./certs/site.pfx writes ./certs/&lt;Name&gt;/site.pfx.
    /// </summary>
    [Parameter]
    public SwitchParameter PerCertificateFolder { get; set; }

    // The files this pipeline has written (or, with -WhatIf, would have), and for which certificate: a
    // second certificate aimed at one of them is refused, never silently written over the first.
    private Dictionary<string, AcmeCertificate> _claimed = null!;

    protected override void BeginProcessing()
    {
        _claimed = new Dictionary<string, AcmeCertificate>(
            RuntimeInformation.IsOSPlatform(OSPlatform.Windows) || RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
    }

    protected override void ProcessRecord()
    {
        // -Path and -PfxPath may be script blocks evaluated per certificate, so the targets are per record.
        var targets = new ExportTargets(Path, PfxPath, Password, LegacyPfxEncryption, CertStoreLocation) { PerCertificateFolder = PerCertificateFolder };
        if (targets.Check(requireOne: true) is ({ } error, var target))
        {
            ThrowAcmeError(error, target);
        }

        Func<string, string> resolve = SessionState.Path.GetUnresolvedProviderPathFromPSPath;
        IReadOnlyList<string> planned;
        try
        {
            planned = targets.PlannedFiles(Certificate, resolve);
        }
        catch (Exception e) when (e is AcmeException || e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is ItemNotFoundException)
        {
            WriteAcmeError(e, Certificate);
            return;
        }

        if (planned.FirstOrDefault(f => _claimed.TryGetValue(f, out AcmeCertificate? other) && !SameCertificate(other, Certificate)) is { } taken)
        {
            AcmeCertificate first = _claimed[taken];
            WriteAcmeError(new AcmeArgumentException(AcmeErrorId.ExportCollision,
                $"'{taken}' was written for {Describe(first)} earlier in this pipeline, and {Describe(Certificate)} would overwrite it; " +
                $"nothing was written for {Describe(Certificate)}."), Certificate);
            return;
        }

        foreach (string file in planned)
        {
            _claimed[file] = Certificate;
        }

        var written = new List<string>();
        try
        {
            targets.WriteFiles(Certificate, resolve, ShouldProcess, written.Add, WriteWarning);
        }
        catch (Exception e) when (e is AcmeException || e is IOException || e is UnauthorizedAccessException)
        {
            WriteAcmeError(e, Certificate);
            return;
        }

        foreach (string file in written)
        {
            // What Get-Item gives: the FileInfo with its provider path, so the FileSystem view shows Mode,
            // Length and a Directory: header.
            WriteObject(InvokeProvider.Item.Get(new[] { file }, force: true, literalPath: true), enumerateCollection: true);
        }

        try
        {
            targets.ImportToStore(Certificate, ShouldProcess, WriteVerbose);
        }
        catch (Exception e) when (e is AcmeException || e is UnauthorizedAccessException)
        {
            WriteAcmeError(e, Certificate);
        }
    }

    private static bool SameCertificate(AcmeCertificate a, AcmeCertificate b) =>
        string.Equals(a.Thumbprint, b.Thumbprint, StringComparison.OrdinalIgnoreCase);

    private static string Describe(AcmeCertificate certificate) =>
        (certificate.Name is { } name ? $"'{name}' " : string.Empty) + $"({string.Join(", ", certificate.Names)}, {certificate.Thumbprint})";
}
