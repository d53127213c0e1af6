using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.FileSystem;
using Acme.Protocol.Model;

namespace Acme.Protocol.Export;

/// <summary>
/// Writes an issued certificate where servers read it: PEM files in a folder, a PFX file, or (on
/// Windows) a certificate store. Every file is written atomically; the private key owner-only.
/// Export-AcmeCertificate and New-AcmeCertificate both export through here.
/// </summary>
public static class CertificateExporter
{
    /// <summary>
    /// cert.pem (the certificate), chain.pem (the issuers), fullchain.pem (both, what most servers
    /// want) and key.pem (owner-only, when the certificate carries its key). Returns the files written.
    /// </summary>
    public static IReadOnlyList<string> WritePemFolder(AcmeCertificate certificate, string folder)
    {
        if (File.Exists(folder))
        {
            throw new AcmeArgumentException(AcmeErrorId.ExportPathIsFile, $"The export folder '{folder}' is a file.");
        }

        string leaf = Pem.Encode("CERTIFICATE", certificate.Certificate.RawData);
        string chain = string.Concat(certificate.Chain.Select(c => Pem.Encode("CERTIFICATE", c.RawData)));
        var written = new List<string>
        {
            Write(folder, "cert.pem", leaf, ownerOnly: false),
            Write(folder, "chain.pem", chain, ownerOnly: false),
            Write(folder, "fullchain.pem", leaf + chain, ownerOnly: false),
        };
        if (certificate.Key is not null)
        {
            written.Add(Write(folder, "key.pem", certificate.Key.ExportPkcs8Pem(), ownerOnly: true));
        }

        return written;
    }

    /// <summary>The file names <see cref="WritePemFolder"/> writes for the certificate (key.pem only when it carries its key).</summary>
    public static IReadOnlyList<string> PemFileNames(AcmeCertificate certificate) =>
        certificate.Key is null ? new[] { "cert.pem", "chain.pem", "fullchain.pem" } : new[] { "cert.pem", "chain.pem", "fullchain.pem", "key.pem" };

    /// <summary>
    /// A PFX with the key, the certificate and its chain: AES-256 under PBKDF2 by default (OpenSSL 3
    /// reads it), or SHA1 with 3DES with <paramref name="legacy"/> (Windows Server 2016 and older).
    /// </summary>
    public static string WritePfx(AcmeCertificate certificate, string path, char[] password, bool legacy)
    {
        AtomicFile.WriteAllBytes(path, PfxBuilder.Build(certificate, password, legacy), ownerOnly: true);
        return path;
    }

    /// <summary>
    /// Parses a certificate store path such as Cert:\LocalMachine\My (the "Cert:\" part is optional).
    /// Throws AcmeInvalidCertStoreLocation for anything else.
    /// </summary>
    public static (StoreLocation Location, string StoreName) ParseStoreLocation(string path)
    {
        string text = (path ?? string.Empty).Trim().Replace('/', '\\');
        if (text.StartsWith("Cert:", StringComparison.OrdinalIgnoreCase))
        {
            text = text.Substring(5);
        }

        string[] parts = text.Trim('\\').Split(new[] { '\\' }, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 2 && Enum.TryParse(parts[0], ignoreCase: true, out StoreLocation location) && Enum.IsDefined(typeof(StoreLocation), location))
        {
            return (location, parts[1]);
        }

        throw new AcmeArgumentException(AcmeErrorId.InvalidCertStoreLocation,
            $"'{path}' is not a certificate store path; give one like Cert:\\LocalMachine\\My or Cert:\\CurrentUser\\My.");
    }

    /// <summary>
    /// Imports the certificate with its key (persisted, not exportable) into the store, and its
    /// issuers into the same location's intermediate store ("CA"). Windows only: elsewhere there is no
    /// certificate store to import into, and AcmeCertificateStoreUnavailable says so.
    /// </summary>
    public static X509Certificate2 ImportToStore(AcmeCertificate certificate, StoreLocation location, string storeName)
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            throw new AcmeLocalException(AcmeErrorId.CertificateStoreUnavailable,
                $"Cert:\\{location}\\{storeName} is a Windows certificate store; there is none on this system, so the certificate was not imported there.");
        }

        // The key travels to Windows' key storage through a PFX in memory, with a password used once;
        // 3DES because every Windows version imports it.
        char[] password = Guid.NewGuid().ToString("N").ToCharArray();
        X509KeyStorageFlags flags = X509KeyStorageFlags.PersistKeySet |
            (location == StoreLocation.LocalMachine ? X509KeyStorageFlags.MachineKeySet : X509KeyStorageFlags.UserKeySet);
        X509Certificate2 imported;
        try
        {
            imported = new X509Certificate2(PfxBuilder.Build(certificate, password, legacy: true), new string(password), flags);
            using (var store = new X509Store(storeName, location))
            {
                store.Open(OpenFlags.ReadWrite);
                store.Add(imported);
            }

            using var intermediates = new X509Store(StoreName.CertificateAuthority, location);
            intermediates.Open(OpenFlags.ReadWrite);
            foreach (X509Certificate2 issuer in certificate.Chain.Where(c => c.Subject != c.Issuer))
            {
                intermediates.Add(issuer);
            }
        }
        catch (CryptographicException e)
        {
            throw new AcmeLocalException(AcmeErrorId.CertificateStoreFailed,
                $"Could not import the certificate into Cert:\\{location}\\{storeName}: {e.Message} (LocalMachine stores need an elevated session).", e);
        }
        finally
        {
            Array.Clear(password, 0, password.Length);
        }

        return imported;
    }

    private static string Write(string folder, string name, string content, bool ownerOnly)
    {
        string path = Path.Combine(folder, name);
        AtomicFile.WriteAllText(path, content, ownerOnly);
        return path;
    }
}
