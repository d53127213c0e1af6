using System;
using System.IO;
using System.Management.Automation;
using System.Text;
using Acme.PowerShell.Files;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;

namespace Acme.PowerShell.Cmdlets;

/// <summary>
/// The base of cmdlets that may create an account (New-AcmeAccount, and New-AcmeCertificate when the
/// state folder has none): the external account binding parameters (RFC 8555 section 7.3.4) live here
/// once, for CAs such as ZeroSSL and Google Trust Services that create accounts only with one.
/// </summary>
public abstract class AcmeAccountCreatingCmdlet : AcmeServerCmdlet
{
    /// <summary>RFC 8555 section 7.3.4: the key id (user name) and base64url HMAC key (password) the CA issued.</summary>
    [Parameter]
    [Credential]
    public PSCredential? ExternalAccountBinding { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ExternalAccountKeyId { get; set; }

    /// <summary>A file holding the CA's base64url HMAC key, so the key never appears on a command line.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ExternalAccountKeyPath { get; set; }

    [Parameter]
    [ValidateSet("HS256", "HS384", "HS512")]
    public string ExternalAccountAlgorithm { get; set; } = "HS256";

    /// <summary>
    /// The binding from -ExternalAccountBinding, or from -ExternalAccountKeyId with -ExternalAccountKeyPath;
    /// null when neither is given. The HMAC key goes from the SecureString or file into a byte array and nowhere else.
    /// </summary>
    protected ExternalAccountBinding? ReadBinding()
    {
        bool fromFile = ExternalAccountKeyId is not null || ExternalAccountKeyPath is not null;
        if (ExternalAccountBinding is not null && fromFile)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidBinding,
                "Give either -ExternalAccountBinding or -ExternalAccountKeyId with -ExternalAccountKeyPath, not both.");
        }

        if (ExternalAccountBinding is not null)
        {
            return CreateBinding(ExternalAccountBinding.UserName, Secrets.ToChars(ExternalAccountBinding.Password));
        }

        if (!fromFile)
        {
            return null;
        }

        if (ExternalAccountKeyId is null || ExternalAccountKeyPath is null)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidBinding, "-ExternalAccountKeyId and -ExternalAccountKeyPath go together: give both.");
        }

        string path = ResolvePath(ExternalAccountKeyPath);
        if (!File.Exists(path))
        {
            throw new AcmeArgumentException(AcmeErrorId.KeyFileNotFound, $"The HMAC key file '{path}' does not exist.");
        }

        byte[] raw = File.ReadAllBytes(path);
        try
        {
            return CreateBinding(ExternalAccountKeyId, Encoding.UTF8.GetChars(raw));
        }
        finally
        {
            Array.Clear(raw, 0, raw.Length);
        }
    }

    private ExternalAccountBinding CreateBinding(string keyId, char[] hmacText)
    {
        byte[]? hmacKey = null;
        try
        {
            hmacKey = Secrets.DecodeBase64Url(hmacText);
            return new ExternalAccountBinding(keyId?.Trim() ?? string.Empty, hmacKey, ExternalAccountAlgorithm);
        }
        finally
        {
            Array.Clear(hmacText, 0, hmacText.Length);
            if (hmacKey is not null)
            {
                Array.Clear(hmacKey, 0, hmacKey.Length);
            }
        }
    }
}
