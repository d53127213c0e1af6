using System;
using System.IO;
using System.Management.Automation;
using Acme.Protocol;
using Acme.Protocol.Crypto;

namespace Acme.PowerShell.Infrastructure;

/// <summary>
/// Lets a key parameter take an AcmeKey (such as an earlier certificate's Key), the path of an
/// unencrypted PEM key file, or PEM text, so `-CertificateKey ./key.pem` reuses a key.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class AcmeKeyTransformationAttribute : AcmeTransformationAttribute
{
    protected override object Convert(EngineIntrinsics engineIntrinsics, object value) => value switch
    {
        AcmeKey key => key,
        FileInfo file => AcmeFiles.ReadKey(file.FullName, null),
        string text when text.Contains("PRIVATE KEY-----") => AcmeKey.ImportPem(text),
        string path => AcmeFiles.ReadKey(engineIntrinsics.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path), null),
        _ => throw new ArgumentTransformationMetadataException("Give an AcmeKey, or the path of an unencrypted PEM private key file."),
    };

    protected override string Describe(AcmeArgumentException e) => e.ErrorId == "AcmeKeyPasswordRequired"
        ? "The key file is encrypted; decrypt it first (openssl pkcs8 -in key.pem -out plain.pem) or pass the AcmeKey object."
        : e.Message;
}
