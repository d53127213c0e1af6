using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Files;
using Acme.PowerShell.Stores;
using Acme.Protocol.Client;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

[Cmdlet(VerbsCommon.New, "AcmeAccount", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeAccount))]
public sealed class NewAcmeAccountCommand : AcmeAccountCreatingCmdlet
{
    private const string DefaultSet = "Default";
    private const string KeyPathSet = "KeyPath";

    /// <summary>A shortcut (LetsEncrypt, LetsEncryptStaging, ZeroSSL, GoogleTrust, GoogleTrustStaging) or an https directory URL.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("DirectoryUrl")]
    [AcmeServerTransformation]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public override string? Server { get; set; } = DefaultServerName;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string[] Contact { get; set; } = Array.Empty<string>();

    [Parameter]
    public SwitchParameter AcceptTermsOfService { get; set; }

    [Parameter(ParameterSetName = DefaultSet)]
    public AcmeKeyAlgorithm KeyAlgorithm { get; set; } = AcmeKeyAlgorithm.EC256;

    /// <summary>An existing account key (PEM): the account is created with it, or found when it already has one.</summary>
    [Parameter(Mandatory = true, ParameterSetName = KeyPathSet)]
    [ValidateNotNullOrEmpty]
    public string KeyPath { get; set; } = null!;

    [Parameter(ParameterSetName = KeyPathSet)]
    public SecureString? KeyPassword { get; set; }

    /// <summary>
    /// The account's name in the state folder; without it "default", or the next free "default-2", "default-3"...
    /// Without -Name (and -Force) an account saved for the server with the same key (-KeyPath) or the same contacts is returned instead.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(AccountNameCompleter))]
    public string? Name { get; set; }

    /// <summary>Creates another account even when one saved for the server has the same key (-KeyPath) or the same contacts.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>The state folder; by default $env:ACME_STATE_PATH, else the per-user data folder.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    /// <summary>Encrypts the saved account key (PKCS#8, AES-256); by default $env:ACME_KEY_PASSPHRASE, else the key file is owner-only but not encrypted.</summary>
    [Parameter]
    public SecureString? KeyPassphrase { get; set; }

    protected override void ProcessRecord()
    {
        AcmeServer server;
        AcmeStateStore store;
        string[] contact;
        ExternalAccountBinding? binding;
        AcmeKey? existingKey = null;
        try
        {
            if (Name is not null)
            {
                AcmeStateStore.CheckName(Name, "an account");
            }

            store = StateQuery.Open(StatePath, KeyPassphrase, SessionState.Path);
            server = ResolveServer(Server!);
            contact = Contact.Select(NormalizeContact).ToArray();
            binding = ReadBinding();
            if (ParameterSetName == KeyPathSet)
            {
                existingKey = AcmeFiles.ReadKey(ResolvePath(KeyPath), KeyPassword);
            }
        }
        catch (AcmeException e)
        {
            ThrowAcmeError(e, Server);
            return;
        }
        catch (IOException e)
        {
            ThrowAcmeError(e, KeyPath ?? ExternalAccountKeyPath);
            return;
        }

        // A rerun (the QuickStart again, a scheduled script) gets the account it made the first time: one
        // saved for the server with the same key, or without -KeyPath the same contacts (and key type when
        // -KeyAlgorithm is given). -Name or -Force
        // asks for another.
        if (Name is null && !Force && SavedAccounts.FindSame(store, server, existingKey, contact,
                MyInvocation.BoundParameters.ContainsKey(nameof(KeyAlgorithm)) ? KeyAlgorithm.ToString() : null) is { } same)
        {
            string message = $"The account '{same.Name}' ({same.Location}) saved for {server.Name} in {store.Root} has the same " +
                (existingKey is not null ? "key" : "contacts") +
                "; returning it instead of creating another (-Force or -Name creates another).";
            WriteVerbose(message);
            WriteInformation(new InformationRecord(message, MyInvocation.MyCommand.Name));
            WriteObject(same);
            return;
        }

        if (!ShouldProcess(server.DirectoryUrl.AbsoluteUri, $"Create an ACME account{(contact.Length > 0 ? " for " + string.Join(", ", contact) : string.Empty)}" +
                $" and save it in {store.Root}"))
        {
            return;
        }

        try
        {
            AcmeAccount account = RunAsync(context => AccountSteps.NewAccountAsync(new AcmeClient(server, context), store, Name, existingKey, KeyAlgorithm,
                contact, AcceptTermsOfService, binding, StopToken));
            WriteObject(account);
        }
        catch (Exception e) when (e is AcmeException || e is IOException || e is UnauthorizedAccessException)
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
            throw new AcmeArgumentException(AcmeErrorId.InvalidContact, $"'{contact}' is not a valid contact: give an e-mail address or a mailto: URL.");
        }

        return value;
    }
}
