using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using Acme.PowerShell.Files;
using Acme.Protocol.Errors;
using Acme.Protocol.Export;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Export;

/// <summary>
/// Where a cmdlet writes a certificate (Export-AcmeCertificate, and New-AcmeCertificate once it has issued
/// one): -Path (a folder for cert.pem, chain.pem, fullchain.pem and key.pem), -PfxPath with -Password,
/// -LegacyPfxEncryption and -CertStoreLocation. The checks before the first record, the ShouldProcess
/// texts and the writing are here once. Each export is recorded on the certificate (CertFile, KeyFile, ...
/// PfxFile) and in its state folder.
/// </summary>
internal sealed class ExportTargets
{
    private readonly string? _path;
    private readonly string? _pfxPath;
    private readonly SecureString? _password;
    private readonly bool _legacyPfx;
    private readonly string? _certStoreLocation;
    private (StoreLocation Location, string StoreName)? _store;

    public ExportTargets(string? path, string? pfxPath, SecureString? password, bool legacyPfx = false, string? certStoreLocation = null)
    {
        _path = path;
        _pfxPath = pfxPath;
        _password = password;
        _legacyPfx = legacyPfx;
        _certStoreLocation = certStoreLocation;
    }

    /// <summary>
    /// With it, -Path and -PfxPath name a parent: the files go to a folder named after the certificate
    /// (its Name in the state folder) below it, &lt;Path&gt;/&lt;Name&gt;/cert.pem and &lt;PfxPath's folder&gt;/&lt;Name&gt;/&lt;PfxPath's file name&gt;.
    /// </summary>
    public bool PerCertificateFolder { get; set; }

    /// <summary>The last export <see cref="WriteFiles"/> made (the files it wrote, and when), or null.</summary>
    public CertificateExport? LastExport { get; private set; }

    /// <summary>The PEM folder for the certificate, resolved; null without -Path.</summary>
    public string? PemFolder(AcmeCertificate certificate, Func<string, string> resolvePath) =>
        _path is null ? null : PerCertificateFolder ? Path.Combine(resolvePath(_path), FolderName(certificate)) : resolvePath(_path);

    /// <summary>The PFX file for the certificate, resolved; null without -PfxPath.</summary>
    public string? PfxFile(AcmeCertificate certificate, Func<string, string> resolvePath)
    {
        if (_pfxPath is null)
        {
            return null;
        }

        string pfx = resolvePath(_pfxPath);
        return PerCertificateFolder
            ? Path.Combine(Path.GetDirectoryName(pfx) ?? string.Empty, FolderName(certificate), Path.GetFileName(pfx))
            : pfx;
    }

    /// <summary>Every file <see cref="WriteFiles"/> would write for the certificate, resolved.</summary>
    public IReadOnlyList<string> PlannedFiles(AcmeCertificate certificate, Func<string, string> resolvePath)
    {
        var files = new List<string>();
        if (PemFolder(certificate, resolvePath) is { } folder)
        {
            files.AddRange(CertificateExporter.PemFileNames(certificate).Select(n => Path.Combine(folder, n)));
        }

        if (PfxFile(certificate, resolvePath) is { } pfx)
        {
            files.Add(pfx);
        }

        return files;
    }

    /// <summary>The certificate's folder under -PerCertificateFolder: its saved Name, else its first name (a wildcard's * as _).</summary>
    private static string FolderName(AcmeCertificate certificate) =>
        certificate.Name ?? (certificate.Names.Length > 0 ? certificate.Names[0].Replace('*', '_') : certificate.Thumbprint);

    /// <summary>
    /// The first thing wrong with the targets, with what the error is about, or null: none given (when
    /// <paramref name="requireOne"/>), a PFX file without a password, a store location that is not one.
    /// </summary>
    public (AcmeArgumentException Error, object? Target)? Check(bool requireOne)
    {
        if (requireOne && _path is null && _pfxPath is null && _certStoreLocation is null)
        {
            return (new AcmeArgumentException(AcmeErrorId.NoExportTarget, "Give -Path (a folder for PEM files), -PfxPath, -CertStoreLocation, or several."), null);
        }

        if (AcmeFiles.MissingPfxPassword(_pfxPath, _password) is { } missing)
        {
            return (missing, _pfxPath);
        }

        if (_certStoreLocation is not null)
        {
            try
            {
                _store = CertificateExporter.ParseStoreLocation(_certStoreLocation);
            }
            catch (AcmeArgumentException e)
            {
                return (e, _certStoreLocation);
            }
        }

        return null;
    }

    /// <summary>
    /// Writes the PEM folder, then the PFX file, reporting each file to <paramref name="wrote"/> as it is
    /// written. <paramref name="confirm"/> (ShouldProcess) is asked for each target; null when the caller
    /// has asked already. <paramref name="warn"/>, when given, hears that key.pem was left out for a
    /// certificate without its key. Paths are resolved by <paramref name="resolvePath"/> against the
    /// current location. Throws AcmeException, IOException or UnauthorizedAccessException.
    /// </summary>
    public void WriteFiles(AcmeCertificate certificate, Func<string, string> resolvePath, Func<string, string, bool>? confirm,
        Action<string> wrote, Action<string>? warn = null)
    {
        LastExport = null;
        string names = string.Join(", ", certificate.Names);
        IReadOnlyList<string>? pemFiles = null;
        string? pfxWritten = null;
        if (PemFolder(certificate, resolvePath) is { } folder)
        {
            if (confirm is null || confirm(folder, $"Write the PEM files for {names}"))
            {
                pemFiles = CertificateExporter.WritePemFolder(certificate, folder);
                foreach (string file in pemFiles)
                {
                    wrote(file);
                }

                if (certificate.Key is null)
                {
                    warn?.Invoke("The certificate carries no private key in this session, so key.pem was not written.");
                }
            }
        }

        if (PfxFile(certificate, resolvePath) is { } pfx)
        {
            if (confirm is null || confirm(pfx, $"Write a PFX file for {names}"))
            {
                if (Path.GetDirectoryName(pfx) is { Length: > 0 } parent && PerCertificateFolder)
                {
                    Directory.CreateDirectory(parent);
                }

                pfxWritten = Secrets.WithChars(_password!, p => CertificateExporter.WritePfx(certificate, pfx, p, _legacyPfx));
                wrote(pfxWritten);
            }
        }

        if (pemFiles is not null || pfxWritten is not null)
        {
            string? Pem(string name) => pemFiles?.FirstOrDefault(f => string.Equals(Path.GetFileName(f), name, StringComparison.Ordinal));
            LastExport = new CertificateExport(DateTimeOffset.UtcNow, Pem("cert.pem"), Pem("chain.pem"), Pem("fullchain.pem"), Pem("key.pem"), pfxWritten);
            Record(certificate, LastExport, warn);
        }
    }

    /// <summary>
    /// Records the export on the certificate and in its state folder (under the certificate's lock). The
    /// files are written by then, so a state folder that cannot take the record is a warning, not a failure.
    /// </summary>
    private static void Record(AcmeCertificate certificate, CertificateExport export, Action<string>? warn)
    {
        try
        {
            CertificateSteps.RecordExportAsync(certificate, export, NullAcmeLog.Instance).ConfigureAwait(false).GetAwaiter().GetResult();
        }
        catch (AcmeException e)
        {
            warn?.Invoke($"The files were written, but the state folder could not record the export: {e.Message}");
        }
    }

    /// <summary>
    /// Imports the certificate with its key into -CertStoreLocation, and its issuers into the same
    /// location's intermediate store, when <see cref="Check"/> read one and <paramref name="confirm"/>
    /// agrees. Throws AcmeException or UnauthorizedAccessException.
    /// </summary>
    public void ImportToStore(AcmeCertificate certificate, Func<string, string, bool> confirm, Action<string> verbose)
    {
        if (_store is (StoreLocation location, string storeName) &&
            confirm($"Cert:\\{location}\\{storeName}", $"Import the certificate for {string.Join(", ", certificate.Names)} with its key"))
        {
            X509Certificate2 imported = CertificateExporter.ImportToStore(certificate, location, storeName);
            verbose($"Imported {imported.Thumbprint} into Cert:\\{location}\\{storeName}, and its issuers into Cert:\\{location}\\CA.");
        }
    }
}
