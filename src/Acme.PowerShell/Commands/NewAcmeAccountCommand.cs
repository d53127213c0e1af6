using System;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using Acme.PowerShell.Infrastructure;
using Acme.Protocol;
using Acme.Protocol.Crypto;

namespace Acme.PowerShell.Commands;

[Cmdlet(VerbsCommon.New, "AcmeAccount", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeAccount))]
public sealed class NewAcmeAccountCommand : AcmeCmdlet
{
    private const string DefaultSet = "Default";

    /// <summary>A shortcut (LetsEncrypt, LetsEncryptStaging, ZeroSSL, GoogleTrust, GoogleTrustStaging) or an https directory URL.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("DirectoryUrl")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public string Server { get; set; } = Environment.GetEnvironmentVariable("ACME_SERVER") is { Length: > 0 } env ? env : "LetsEncrypt";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string[] Contact { get; set; } = Array.Empty<string>();

    [Parameter]
    public SwitchParameter AcceptTermsOfService { get; set; }

    [Parameter]
    public AcmeKeyAlgorithm KeyAlgorithm { get; set; } = AcmeKeyAlgorithm.EC256;

    [Parameter]
    [CertificateTransformation]
    public X509Certificate2? TrustedRootCertificate { get; set; }

    [Parameter]
    public SwitchParameter InsecureSkipCertificateCheck { get; set; }

    protected override void ProcessRecord()
    {
        AcmeServer server;
        string[] contact;
        try
        {
            server = new AcmeServer(AcmeServer.ResolveDirectoryUrl(Server), TrustedRootCertificate, InsecureSkipCertificateCheck);
            contact = Contact.Select(NormalizeContact).ToArray();
        }
        catch (AcmeException e)
        {
            ThrowAcmeError(e, Server);
            return;
        }

        if (InsecureSkipCertificateCheck)
        {
            WriteWarning($"-InsecureSkipCertificateCheck: the TLS certificate of {server.DirectoryUrl} is not checked. Use this only against a throwaway test CA.");
        }

        if (!ShouldProcess(server.DirectoryUrl.AbsoluteUri, $"Create an ACME account{(contact.Length > 0 ? " for " + string.Join(", ", contact) : string.Empty)}"))
        {
            return;
        }

        try
        {
            AcmeAccount account = RunAsync(async context =>
            {
                var client = new AcmeClient(server, context);
                AcmeDirectory directory = await client.GetDirectoryAsync(StopToken).ConfigureAwait(false);
                if (directory.TermsOfService is not null && !AcceptTermsOfService)
                {
                    throw new AcmeArgumentException("AcmeTermsOfServiceNotAccepted",
                        $"{server.Name} requires agreeing to its terms of service ({directory.TermsOfService}). Read them, then pass -AcceptTermsOfService.");
                }

                AcmeKey key = AcmeKey.Generate(KeyAlgorithm);
                return await client.NewAccountAsync(key, contact, AcceptTermsOfService, null, false, StopToken).ConfigureAwait(false);
            });
            WriteObject(account);
        }
        catch (AcmeException e)
        {
            ThrowAcmeError(e, server.DirectoryUrl);
        }
    }

    /// <summary>RFC 8555 section 7.3: contacts are URLs; a bare e-mail address gets "mailto:".</summary>
    internal static string NormalizeContact(string contact)
    {
        string value = (contact ?? string.Empty).Trim();
        if (value.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase))
        {
            value = "mailto:" + value.Substring(7);
        }
        else if (value.IndexOf(':') < 0)
        {
            value = "mailto:" + value;
        }

        string address = value.StartsWith("mailto:", StringComparison.Ordinal) ? value.Substring(7) : string.Empty;
        int at = address.IndexOf('@');
        bool valid = value.StartsWith("mailto:", StringComparison.Ordinal)
            ? at > 0 && at < address.Length - 1 && address.IndexOf('@', at + 1) < 0 && address.IndexOfAny(new[] { ' ', ',', '<', '>', '?' }) < 0
              && address.Substring(at + 1).Contains('.')
            : Uri.IsWellFormedUriString(value, UriKind.Absolute);
        if (!valid)
        {
            throw new AcmeArgumentException("AcmeInvalidContact", $"'{contact}' is not a valid contact: give an e-mail address or a mailto: URL.");
        }

        return value;
    }
}
