using System;
using System.Threading;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Challenges;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Export;
using Acme.PowerShell.Stores;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Client;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;
using Acme.Protocol.Locking;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

/// <summary>
/// The common case in one command: the saved account (created when missing), an order, the challenges
/// answered one way (an http-01 listener, a web root, dns-01 record scripts (script blocks, or a script
/// file defining them) or a tls-alpn-01 listener),
/// finalize, download, save and export. When the state folder already has a certificate for the same
/// names that is valid and not due, it orders nothing (unless -Force) and only writes again the -Path and
/// -PfxPath files that are missing or do not hold it, so it can run on a schedule and converge on its
/// files. The certificate's Result says which (Issued, Renewed, Reexported, Unchanged), RenewAt when it
/// renews; an information record says both. The steps are the pipeline's own (CertificateSteps over AccountSteps and OrderSteps), not a copy.
/// </summary>
[Cmdlet(VerbsCommon.New, "AcmeCertificate", SupportsShouldProcess = true, DefaultParameterSetName = HttpSet)]
[OutputType(typeof(AcmeCertificate))]
public sealed class NewAcmeCertificateCommand : AcmeAccountCreatingCmdlet
{
    private const string HttpSet = "Http";
    private const string WebRootSet = "WebRoot";
    private const string DnsSet = "Dns";
    private const string DnsScriptSet = "DnsScript";
    private const string DnsProviderSet = "DnsProvider";
    private const string TlsAlpnSet = "TlsAlpn";

    private IReadOnlyList<DnsServerAddress>? _dnsServers;
    private Func<CmdletContext, IDnsRecordPublisher>? _dnsRecords;
    private ExportTargets _targets = null!;
    private DnsProviderInfo? _provider;

    /// <summary>The names (and IP addresses) the certificate is for.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("Domain")]
    [ValidateNotNullOrEmpty]
    public string[] DnsName { get; set; } = null!;

    /// <summary>The certificate's name in the state folder; by default the first name ("_." for a wildcard's "*.").</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(CertificateNameCompleter))]
    public string? Name { get; set; }

    /// <summary>A shortcut (LetsEncrypt, LetsEncryptStaging, ZeroSSL, GoogleTrust, GoogleTrustStaging) or an https directory URL.</summary>
    [Parameter]
    [Alias("DirectoryUrl")]
    [AcmeServerTransformation]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public override string? Server { get; set; } = DefaultServerName;

    /// <summary>For a new account: its contacts.</summary>
    [Parameter]
    public string[] Contact { get; set; } = Array.Empty<string>();

    /// <summary>For a new account: agreement to the CA's terms of service.</summary>
    [Parameter]
    public SwitchParameter AcceptTermsOfService { get; set; }

    /// <summary>The saved account to order with; created when missing.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(AccountNameCompleter))]
    public string AccountName { get; set; } = AcmeStateStore.DefaultAccountName;

    /// <summary>The certificate key's type; by default the type of the certificate it renews, else EC256.</summary>
    [Parameter]
    public AcmeKeyAlgorithm KeyAlgorithm { get; set; } = AcmeKeyAlgorithm.EC256;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Profile { get; set; }

    /// <summary>http-01 from a listener of its own on this port.</summary>
    [Parameter(ParameterSetName = HttpSet)]
    [ValidateRange(1, 65535)]
    public int HttpPort { get; set; } = 80;

    /// <summary>http-01 with files in the web root of a server that already serves the names.</summary>
    [Parameter(Mandatory = true, ParameterSetName = WebRootSet)]
    [ValidateNotNullOrEmpty]
    public string WebRoot { get; set; } = null!;

    /// <summary>dns-01: publishes a TXT record; called with the record name, the value and the identifier, as Start-AcmeDnsChallenge calls it.</summary>
    [Parameter(Mandatory = true, ParameterSetName = DnsSet)]
    [ValidateNotNull]
    public ScriptBlock AddRecord { get; set; } = null!;

    /// <summary>dns-01: removes what -AddRecord published.</summary>
    [Parameter(Mandatory = true, ParameterSetName = DnsSet)]
    [ValidateNotNull]
    public ScriptBlock RemoveRecord { get; set; } = null!;

    /// <summary>
    /// dns-01 from a script file that defines the functions Add-AcmeDnsRecord and Remove-AcmeDnsRecord
    /// (called as -AddRecord and -RemoveRecord are), for callers that cannot pass a script block (DSC).
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = DnsScriptSet)]
    [ValidateNotNullOrEmpty]
    public string DnsScriptPath { get; set; } = null!;

    /// <summary>dns-01 through a DNS provider (Get-AcmeDnsProvider lists them), saved with the certificate for its renewals.</summary>
    [Parameter(Mandatory = true, ParameterSetName = DnsProviderSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DnsProviderCompleter))]
    public string DnsProvider { get; set; } = null!;

    /// <summary>The provider's parameters, as Start-AcmeDnsChallenge -ProviderParameter takes them ('env:VAR' and 'secret:Name' read at run time).</summary>
    [Parameter(ParameterSetName = DnsProviderSet)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(DnsProviderParameterCompleter))]
    public IDictionary? DnsProviderParameter { get; set; }

    /// <summary>dns-01: the name servers to wait for (host or host:port); by default the zones' authoritative servers.</summary>
    [Parameter(ParameterSetName = DnsSet)]
    [Parameter(ParameterSetName = DnsScriptSet)]
    [Parameter(ParameterSetName = DnsProviderSet)]
    [ValidateNotNullOrEmpty]
    public string[]? DnsServer { get; set; }

    /// <summary>
    /// The DNS challenge the records answer: dns-01 (the default; _acme-challenge.&lt;name&gt;, removed afterwards),
    /// dns-account-01 (_&lt;account label&gt;._acme-challenge.&lt;name&gt;, removed afterwards) or dns-persist-01
    /// (_validation-persist.&lt;name&gt;, kept: a renewal that finds it valid makes no DNS change); saved with -DnsProvider.
    /// </summary>
    [Parameter(ParameterSetName = DnsSet)]
    [Parameter(ParameterSetName = DnsScriptSet)]
    [Parameter(ParameterSetName = DnsProviderSet)]
    [ValidateSet(AcmeChallenge.Dns01, AcmeChallenge.DnsAccount01, AcmeChallenge.DnsPersist01)]
    public string DnsChallengeType { get; set; } = AcmeChallenge.Dns01;

    /// <summary>tls-alpn-01 from a TLS listener of its own on this port (usually 443).</summary>
    [Parameter(Mandatory = true, ParameterSetName = TlsAlpnSet)]
    [ValidateRange(1, 65535)]
    public int TlsAlpnPort { get; set; }

    /// <summary>A folder for cert.pem, chain.pem, fullchain.pem and key.pem, written when a certificate is issued or a file there is missing or stale.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>A PFX file (AES-256, needs -Password), written when a certificate is issued or the file is missing, stale or does not open with -Password.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PfxPath { get; set; }

    [Parameter]
    public SecureString? Password { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    /// <summary>Encrypts the keys saved in the state folder and opens those already there; by default $env:ACME_KEY_PASSPHRASE.</summary>
    [Parameter]
    public SecureString? KeyPassphrase { get; set; }

    /// <summary>Orders a new certificate even when the saved one is valid and not due.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSec { get; set; } = 300;

    /// <summary>How many versions of the certificate the state folder keeps when it is renewed, the new one among them; older ones are removed with their keys.</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int KeepVersions { get; set; } = AcmeStateStore.DefaultKeepVersions;

    /// <summary>
    /// How long to wait while another process holds -HttpPort or -TlsAlpnPort (another renewal on this machine), retrying
    /// until it is free; by default -TimeoutSec; 0 fails at once with AcmeListenerPortInUse.
    /// </summary>
    [Parameter(ParameterSetName = HttpSet)]
    [Parameter(ParameterSetName = TlsAlpnSet)]
    [ValidateRange(0, 86400)]
    public int PortWaitSec { get; set; }

    protected override void BeginProcessing()
    {
        _targets = new ExportTargets(Path, PfxPath, Password);
        if (_targets.Check(requireOne: false) is ({ } error, var target))
        {
            ThrowAcmeError(error, target);
        }

        try
        {
            _dnsServers = SolverFactory.ParseDnsServers(DnsServer);
        }
        catch (AcmeArgumentException e)
        {
            ThrowAcmeError(e, DnsServer);
        }

        if (ParameterSetName == DnsScriptSet)
        {
            try
            {
                _dnsRecords = SolverFactory.ScriptFileRecords(ResolvePath(DnsScriptPath));
            }
            catch (AcmeArgumentException e)
            {
                ThrowAcmeError(e, DnsScriptPath);
            }
        }
        else if (ParameterSetName == DnsSet)
        {
            _dnsRecords = SolverFactory.ScriptBlockRecords(AddRecord, RemoveRecord);
        }
        else if (ParameterSetName == DnsProviderSet)
        {
            try
            {
                _provider = Dns.PoshAcmePublisher.Handles(DnsProvider) ? null : Dns.DnsProviders.Get(DnsProvider);
                _dnsRecords = SolverFactory.ProviderRecords(DnsProvider, DnsProviderParameter, Dns.ProviderParameters.SecretReader(this));
            }
            catch (Exception e) when (e is AcmeLocalException || e is AcmeArgumentException)
            {
                ThrowAcmeError(e, DnsProvider);
            }
        }
    }

    protected override void ProcessRecord()
    {
        IReadOnlyList<AcmeIdentifier> identifiers;
        AcmeStateStore store;
        AcmeServer server;
        string name;
        string[] contact;
        ExternalAccountBinding? binding;
        try
        {
            identifiers = IdentifierParser.Parse(DnsName);
            name = AcmeStateStore.CheckName(Name ?? AcmeStateStore.NameFor(identifiers), "a certificate");
            AcmeStateStore.CheckName(AccountName, "an account");
            contact = Contact.Select(NewAcmeAccountCommand.NormalizeContact).ToArray();
            store = StateQuery.Open(StatePath, KeyPassphrase, SessionState.Path);
            server = ResolveServer(Server!);
            binding = ReadBinding();
        }
        catch (AcmeException e)
        {
            ThrowAcmeError(e, string.Join(",", DnsName));
            return;
        }
        catch (IOException e)
        {
            ThrowAcmeError(e, ExternalAccountKeyPath);
            return;
        }

        string names = string.Join(", ", identifiers.Select(i => i.Value));
        if (!ShouldProcess(names, $"Get a certificate from {server.Name} (unless '{name}' in {store.Root} is valid and not due) and save it"))
        {
            return;
        }

        SolverFactory solvers = Solvers();
        AcmeKeyAlgorithm? algorithm = MyInvocation.BoundParameters.ContainsKey(nameof(KeyAlgorithm)) ? KeyAlgorithm : null;
        AcmeCertificate certificate;
        bool issued;
        try
        {
            (certificate, issued) = RunAsync(async context =>
            {
                var client = new AcmeClient(server, context);
                // A state in PostgreSQL leases the name for the run, as New-AcmeOrder does: one host orders it at a time.
                AcmeCertificateLock? lease = store.Leases is { } leases
                    ? await CertificateLocks.AcquireAsync(leases, name, CertificateLocks.DefaultLease, TimeSpan.Zero, context, StopToken).ConfigureAwait(false)
                    : null;
                try
                {
                    IChallengeSolver solver = await solvers.CreateAsync(context, StopToken).ConfigureAwait(false);
                    return await CertificateSteps.IssueAsync(client, store, name, identifiers, AccountName, contact, AcceptTermsOfService, binding, algorithm, Profile,
                        solver, PolicyFor(TimeoutSec), Force, context, StopToken, KeepVersions).ConfigureAwait(false);
                }
                finally
                {
                    if (lease is not null)
                    {
                        await lease.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                }
            });
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, names);
            return;
        }

        if (_provider is not null)
        {
            SaveProvider(store, server, name);
        }

        if (issued)
        {
            Export(certificate);
        }
        else if (Path is not null || PfxPath is not null)
        {
            // A one-shot run on a schedule converges on its files: what is missing or stale at the paths
            // given now (another -Path, a deleted folder, another certificate's files) is written again
            // from the saved certificate, without ordering.
            IReadOnlyList<string> stale = ExportCheck.Stale(certificate, Path is null ? null : ResolvePath(Path),
                PfxPath is null ? null : ResolvePath(PfxPath), Password);
            if (stale.Count > 0)
            {
                foreach (string reason in stale)
                {
                    WriteVerbose(reason);
                }

                Export(certificate);
                certificate.Result = AcmeIssueResult.Reexported;
            }
        }

        if (certificate.Result == AcmeIssueResult.Unchanged)
        {
            WriteVerbose("-Force orders a new certificate now.");
        }

        WriteInformation(new InformationRecord($"{certificate.Name}: {certificate.Result}" +
            (certificate.Result == AcmeIssueResult.Unchanged ? " (valid and not due; its files hold it)" : string.Empty) +
            $"; renews at {certificate.RenewAt:u} ({certificate.Thumbprint}, valid until {certificate.NotAfter.ToUniversalTime():u}).", MyInvocation.MyCommand.Name));
        WriteObject(certificate);
    }

    /// <summary>The solver for the parameter set; a web root is resolved here, on the pipeline thread.</summary>
    private SolverFactory Solvers() => ParameterSetName switch
    {
        WebRootSet => SolverFactory.HttpWebRoot(ResolvePath(WebRoot)),
        DnsSet or DnsScriptSet or DnsProviderSet => SolverFactory.Dns(_dnsRecords!, _dnsServers, checkPropagation: true, TimeSpan.FromSeconds(TimeoutSec), aliases: null,
            DnsChallengeType),
        TlsAlpnSet => SolverFactory.TlsAlpnListener(TlsAlpnPort, null, PortWaitFor(PortWaitSec, TimeoutSec)),
        _ => SolverFactory.HttpListener(HttpPort, null, selfCheck: true, PortWaitFor(PortWaitSec, TimeoutSec)),
    };

    /// <summary>The provider and its parameters saved with the certificate, so that its renewals publish through them again.</summary>
    private void SaveProvider(AcmeStateStore store, AcmeServer server, string name)
    {
        try
        {
            SolverFactory.SaveProvider(store, server, name,
                Dns.ProviderParameters.ToSaved(_provider!, DnsProviderParameter, challengeType: DnsChallengeType), WriteWarning, WriteVerbose);
        }
        catch (Exception e) when (e is AcmeException || e is IOException || e is UnauthorizedAccessException)
        {
            WriteAcmeError(e, name);
        }
    }

    private void Export(AcmeCertificate certificate)
    {
        try
        {
            _targets.WriteFiles(certificate, ResolvePath, confirm: null, file => WriteVerbose($"Wrote {file}."));
        }
        catch (Exception e) when (e is AcmeException || e is IOException || e is UnauthorizedAccessException)
        {
            // The certificate is issued and saved; only its copy failed, so it is still written out.
            WriteAcmeError(e, certificate);
        }
    }
}
