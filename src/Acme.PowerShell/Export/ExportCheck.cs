using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Acme.PowerShell.Files;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Export;

/// <summary>
/// Whether the files a run would export already hold the certificate (New-AcmeCertificate re-exports
/// when they do not): the files at the paths given now are read, so nothing recorded by an earlier
/// export is needed. cert.pem, chain.pem and fullchain.pem must hold exactly what the export writes,
/// key.pem the certificate's key; a PFX must open with the password and hold the certificate with a key.
/// </summary>
internal static class ExportCheck
{
    /// <summary>Why each stale or missing file has to be written again; empty when every file holds the certificate.</summary>
    public static IReadOnlyList<string> Stale(AcmeCertificate certificate, string? folder, string? pfxPath, SecureString? password)
    {
        var reasons = new List<string>();
        if (folder is not null)
        {
            string leaf = Pem.Encode("CERTIFICATE", certificate.Certificate.RawData);
            string chain = string.Concat(certificate.Chain.Select(c => Pem.Encode("CERTIFICATE", c.RawData)));
            foreach ((string file, string expected) in new[] { ("cert.pem", leaf), ("chain.pem", chain), ("fullchain.pem", leaf + chain) })
            {
                string path = Path.Combine(folder, file);
                if (ReadText(path, reasons) is { } text && Normalize(text) != Normalize(expected))
                {
                    reasons.Add($"{path} does not hold the certificate {certificate.Thumbprint} and its chain.");
                }
            }

            if (certificate.Key is not null)
            {
                string path = Path.Combine(folder, "key.pem");
                if (!File.Exists(path))
                {
                    reasons.Add($"{path} is missing.");
                }
                else if (KeyThumbprint(path) != certificate.Key.Thumbprint)
                {
                    reasons.Add($"{path} does not hold the key of the certificate {certificate.Thumbprint}.");
                }
            }
        }

        if (pfxPath is not null)
        {
            if (!File.Exists(pfxPath))
            {
                reasons.Add($"{pfxPath} is missing.");
            }
            else if (PfxThumbprint(pfxPath, password) is not { } thumbprint || thumbprint != certificate.Thumbprint)
            {
                reasons.Add($"{pfxPath} does not hold the certificate {certificate.Thumbprint} with its key (or does not open with -Password).");
            }
        }

        return reasons;
    }

    private static string? ReadText(string path, List<string> reasons)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            reasons.Add($"{path} is missing.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reasons.Add($"{path} cannot be read ({e.Message}).");
        }

        return null;
    }

    private static string Normalize(string pem) => pem.Replace("\r\n", "\n").Trim();

    /// <summary>The public key thumbprint of key.pem (an unencrypted PEM key, as the export writes it), or null when it is not one.</summary>
    private static string? KeyThumbprint(string path)
    {
        try
        {
            return AcmeFiles.ReadKey(path, null).Thumbprint;
        }
        catch (Exception e) when (e is AcmeException or IOException or UnauthorizedAccessException or CryptographicException)
        {
            return null;
        }
    }

    /// <summary>The thumbprint of the PFX's certificate with a key, or null when it does not open or holds none.</summary>
    private static string? PfxThumbprint(string path, SecureString? password)
    {
        try
        {
            // Read without leaving the key in a key store: EphemeralKeySet (32, not in netstandard2.0) is Windows-only.
            X509KeyStorageFlags flags = Environment.OSVersion.Platform == PlatformID.Win32NT ? (X509KeyStorageFlags)32 : X509KeyStorageFlags.DefaultKeySet;
            // The PFX's certificate with a key (.NET picks that one of the file's certificates).
            using var pfx = new X509Certificate2(path, password, flags);
            return pfx.HasPrivateKey ? pfx.Thumbprint : null;
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
