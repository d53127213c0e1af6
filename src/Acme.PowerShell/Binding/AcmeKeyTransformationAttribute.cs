using System;
using System.IO;
using System.Management.Automation;
using Acme.PowerShell.Files;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;

namespace Acme.PowerShell.Binding;

/// <summary>
/// Lets a key parameter take an AcmeKey (such as an earlier certificate's Key), the path of an
/// unencrypted key file (PEM, or a PFX without a password), or PEM text, so `-CertificateKey ./key.pem`
/// reuses a key. A file with a password goes through -CertificateKeyPath and -CertificateKeyPassword.
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
        _ => throw new ArgumentTransformationMetadataException("Give an AcmeKey, or the path of an unencrypted private key file (PEM or PFX)."),
    };

    protected override string Describe(AcmeArgumentException e) => e.Id == AcmeErrorId.KeyPasswordRequired
        ? "The key file is protected by a password; give it with -CertificateKeyPath and -CertificateKeyPassword."
        : e.Message;
}
