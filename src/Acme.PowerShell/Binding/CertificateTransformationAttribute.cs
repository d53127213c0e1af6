using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using Acme.Protocol.Crypto;

namespace Acme.PowerShell.Binding;

/// <summary>
/// Lets a certificate parameter take an X509Certificate2, a path to a PEM or DER file, or PEM text,
/// so `-TrustedRootCertificate ./root.pem` works as users expect.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class CertificateTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object value = inputData is PSObject ps ? ps.BaseObject : inputData;
        switch (value)
        {
            case X509Certificate2 certificate:
                return certificate;
            case FileInfo file:
                return Load(file.FullName);
            case string text when text.Contains("-----BEGIN"):
                return FromPem(text, "the PEM text");
            case string path:
                string resolved = engineIntrinsics.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
                return Load(resolved);
            default:
                throw new ArgumentTransformationMetadataException(
                    "Give an X509Certificate2, or the path of a PEM or DER certificate file.");
        }
    }

    private static X509Certificate2 Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new ArgumentTransformationMetadataException($"The certificate file '{path}' does not exist.");
        }

        byte[] bytes = File.ReadAllBytes(path);
        string text = System.Text.Encoding.ASCII.GetString(bytes);
        if (text.Contains("-----BEGIN"))
        {
            return FromPem(text, path);
        }

        try
        {
            // An empty array gives a certificate object with no certificate in it, not an exception.
            var certificate = new X509Certificate2(bytes.Length > 0 ? bytes : throw new System.Security.Cryptography.CryptographicException("The file is empty."));
            _ = certificate.Thumbprint;
            return certificate;
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new ArgumentTransformationMetadataException($"'{path}' is not a PEM or DER certificate: {e.Message}", e);
        }
    }

    private static X509Certificate2 FromPem(string text, string source)
    {
        try
        {
            PemBlock? block = Pem.Decode(text).FirstOrDefault(b => b.Label == "CERTIFICATE");
            if (block is null)
            {
                throw new ArgumentTransformationMetadataException($"No certificate was found in {source}.");
            }

            return new X509Certificate2(block.Data);
        }
        catch (Exception e) when (e is FormatException || e is System.Security.Cryptography.CryptographicException)
        {
            throw new ArgumentTransformationMetadataException($"The certificate in {source} cannot be read: {e.Message}", e);
        }
    }
}
