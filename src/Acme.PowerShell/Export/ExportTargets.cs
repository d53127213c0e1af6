using System;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using Acme.PowerShell.Files;
using Acme.Protocol.Errors;
using Acme.Protocol.Export;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Export;

/// <summary>
/// Where a cmdlet writes a certificate (Export-AcmeCertificate, and New-AcmeCertificate once it has issued
/// one): -Path (a folder for cert.pem, chain.pem, fullchain.pem and key.pem), -PfxPath with -Password,
/// -LegacyPfxEncryption and -CertStoreLocation. The checks before the first record, the ShouldProcess
/// texts and the writing are here once.
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
        string names = string.Join(", ", certificate.Names);
        if (_path is not null)
        {
            string folder = resolvePath(_path);
            if (confirm is null || confirm(folder, $"Write the PEM files for {names}"))
            {
                foreach (string file in CertificateExporter.WritePemFolder(certificate, folder))
                {
                    wrote(file);
                }

                if (certificate.Key is null)
                {
                    warn?.Invoke("The certificate carries no private key in this session, so key.pem was not written.");
                }
            }
        }

        if (_pfxPath is not null)
        {
            string pfx = resolvePath(_pfxPath);
            if (confirm is null || confirm(pfx, $"Write a PFX file for {names}"))
            {
                wrote(Secrets.WithChars(_password!, p => CertificateExporter.WritePfx(certificate, pfx, p, _legacyPfx)));
            }
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
