using System;
using System.IO;
using System.Linq;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.FileSystem;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Files;

/// <summary>Reads the files users hand to cmdlets (keys, certificates, CSRs), with stable ErrorIds for what is wrong.</summary>
internal static class AcmeFiles
{
    /// <summary>No key, certificate chain or CSR comes near this; a bigger file is the wrong file.</summary>
    private const long MaxFileBytes = 1024 * 1024;

    /// <summary>A private key file: PKCS#8, encrypted PKCS#8, SEC 1 or PKCS#1 PEM, or PKCS#12 (PFX, DER).</summary>
    public static AcmeKey ReadKey(string path, SecureString? password)
    {
        byte[] bytes = ReadBytes(path, AcmeErrorId.KeyFileNotFound, AcmeErrorId.InvalidKey, "key");
        char[]? chars = password is null ? null : Secrets.ToChars(password);
        try
        {
            // DER begins with a SEQUENCE (0x30); PEM with text.
            return bytes.Length > 0 && bytes[0] == 0x30
                ? AcmeKey.ImportPkcs12(bytes, chars)
                : AcmeKey.ImportPem(Encoding.UTF8.GetString(bytes), chars);
        }
        finally
        {
            if (chars is not null)
            {
                Array.Clear(chars, 0, chars.Length);
            }
        }
    }

    /// <summary>
    /// Writes a private key as PKCS#8 PEM, encrypted when a password is given, atomically and
    /// owner-only from the first byte (AtomicFile). An existing file is kept unless <paramref name="force"/>.
    /// </summary>
    public static FileInfo WriteKey(string path, AcmeKey key, SecureString? password, bool force)
    {
        if (!force && File.Exists(path))
        {
            throw new AcmeArgumentException(AcmeErrorId.FileExists, $"'{path}' already exists; an account key file is not replaced without -Force.");
        }

        if (Directory.Exists(path))
        {
            throw new AcmeArgumentException(AcmeErrorId.ExportPathIsFolder, $"'{path}' is a folder; give the path of the key file to write.");
        }

        string pem;
        if (password is null)
        {
            pem = key.ExportPkcs8Pem();
        }
        else
        {
            char[] chars = Secrets.ToChars(password);
            try
            {
                pem = key.ExportEncryptedPkcs8Pem(chars);
            }
            finally
            {
                Array.Clear(chars, 0, chars.Length);
            }
        }

        AtomicFile.WriteAllText(path, pem, ownerOnly: true);
        return new FileInfo(path);
    }

    /// <summary>The error for a PFX file to be written without a password (the key is never stored in the clear), or null.</summary>
    public static AcmeArgumentException? MissingPfxPassword(string? pfxPath, SecureString? password) =>
        pfxPath is not null && (password is null || password.Length == 0)
            ? new AcmeArgumentException(AcmeErrorId.PfxPasswordRequired, "A PFX file needs -Password (a SecureString), so the private key is not stored in the clear.")
            : null;

    /// <summary>A certificate file, PEM (a full chain is fine: the first certificate is the leaf) or DER.</summary>
    public static AcmeCertificate ReadCertificate(string path)
    {
        byte[] bytes = ReadBytes(path, AcmeErrorId.CertificateFileNotFound, AcmeErrorId.InvalidCertificate, "certificate");
        string text = Encoding.ASCII.GetString(bytes);
        try
        {
            if (text.Contains("-----BEGIN"))
            {
                return AcmeCertificate.FromPem(text);
            }

            var certificate = new X509Certificate2(bytes);
            return new AcmeCertificate(certificate, Array.Empty<X509Certificate2>(), Pem.Encode("CERTIFICATE", certificate.RawData));
        }
        catch (Exception e) when (e is AcmeProtocolException || e is System.Security.Cryptography.CryptographicException)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidCertificate, $"'{path}' is not a PEM or DER certificate: {e.Message}", e);
        }
    }

    /// <summary>A PKCS#10 request as PEM text, or the path of a PEM or DER file; returns the DER.</summary>
    public static byte[] ReadCertificateSigningRequest(string pathOrPem, Func<string, string> resolvePath)
    {
        string text = pathOrPem;
        if (!pathOrPem.Contains("-----BEGIN"))
        {
            byte[] bytes = ReadBytes(resolvePath(pathOrPem), AcmeErrorId.CsrFileNotFound, AcmeErrorId.InvalidCsr, "certificate request");
            text = Encoding.ASCII.GetString(bytes);
            if (!text.Contains("-----BEGIN"))
            {
                return bytes;
            }
        }

        try
        {
            return Pem.Decode(text).FirstOrDefault(b => b.Label is "CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST")?.Data
                ?? throw new AcmeArgumentException(AcmeErrorId.InvalidCsr, "No 'CERTIFICATE REQUEST' PEM block was found.");
        }
        catch (FormatException e)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidCsr, "The certificate request is not valid PEM: " + e.Message, e);
        }
    }


    /// <summary>", nor does its folder '/x'": the first folder on the way that is missing, when one is.</summary>
    internal static string MissingFolder(string path)
    {
        string? missing = null;
        for (string? folder = Path.GetDirectoryName(Path.GetFullPath(path)); !string.IsNullOrEmpty(folder) && !Directory.Exists(folder);
            folder = Path.GetDirectoryName(folder))
        {
            missing = folder;
        }

        return missing is null ? string.Empty : $", nor does the folder '{missing}'";
    }

    private static byte[] ReadBytes(string path, AcmeErrorId notFoundId, AcmeErrorId invalidId, string what)
    {
        if (!File.Exists(path))
        {
            throw new AcmeArgumentException(notFoundId, $"The {what} file '{path}' does not exist{MissingFolder(path)}.");
        }

        var info = new FileInfo(path);
        if (info.Length > MaxFileBytes)
        {
            throw new AcmeArgumentException(invalidId, $"The {what} file '{path}' is {info.Length} bytes, far more than any {what} needs.");
        }

        return File.ReadAllBytes(path);
    }
}
