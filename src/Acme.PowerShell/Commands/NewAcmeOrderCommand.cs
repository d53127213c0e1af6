using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Threading;
using System.Threading.Tasks;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Stores;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Locking;
using Acme.Protocol.Model;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Places an order (RFC 8555 section 7.4) for names (Default), or the order that renews a certificate
/// (Renewal: its account, identifiers and profile, and "replaces" when the CA offers ARI). With a
/// saved account the order is saved too, under -Name.
/// </summary>
[Cmdlet(VerbsCommon.New, "AcmeOrder", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeOrder))]
public sealed class NewAcmeOrderCommand : AcmeServerCmdlet
{
    private const string DefaultSet = "Default";
    private const string RenewalSet = "Renewal";

    /// <summary>
    /// Default: the account that orders; without it, the state folder's single (or "default") account for
    /// -Server. Renewal: another account than the one that ordered the certificate.
    /// </summary>
    [Parameter(ValueFromPipeline = true, ParameterSetName = DefaultSet)]
    [Parameter(ParameterSetName = RenewalSet)]
    [PipedObject(typeof(AcmeAccount), "New-AcmeOrder", "New-AcmeAccount", Others = new[] { typeof(AcmeCertificate) }, Properties = new[] { "Certificate" }, PropertyTypes = new[] { typeof(AcmeCertificate) })]
    [ValidateNotNull]
    public AcmeAccount? Account { get; set; }

    /// <summary>Without -Account: the server whose saved account orders; by default $env:ACME_SERVER, else Let's Encrypt.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    [Alias("DirectoryUrl")]
    [AcmeServerTransformation]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public override string? Server { get; set; } = DefaultServerName;

    /// <summary>Without -Account: the state folder to take the account from; by default $env:ACME_STATE_PATH, else the per-user data folder.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    /// <summary>Without -Account: opens the saved account's key when it is encrypted; by default $env:ACME_KEY_PASSPHRASE.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    public SecureString? KeyPassphrase { get; set; }

    [Parameter(Position = 0, ParameterSetName = DefaultSet)]
    [Alias("Domain")]
    public string[] DnsName { get; set; } = Array.Empty<string>();

    [Parameter(ParameterSetName = DefaultSet)]
    public string[] IPAddress { get; set; } = Array.Empty<string>();

    /// <summary>The certificate to renew: an AcmeCertificate, or the Certificate property of what Test-AcmeRenewal writes.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = RenewalSet)]
    [PipedObject(typeof(AcmeCertificate), "New-AcmeOrder", "Complete-AcmeOrder", Quiet = true)]
    [ValidateNotNull]
    public AcmeCertificate Certificate { get; set; } = null!;

    /// <summary>The order's name in the state folder (the certificate's); by default the first identifier, or the renewed certificate's name.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(CertificateNameCompleter))]
    public string? Name { get; set; }

    /// <summary>RFC 8555 section 7.4: the validity the certificate should start at (the CA may ignore or refuse it).</summary>
    [Parameter]
    public DateTime? NotBefore { get; set; }

    [Parameter]
    public DateTime? NotAfter { get; set; }

    /// <summary>A profile the CA offers in its directory (Get-AcmeDirectory lists them); others are refused before any order.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Profile { get; set; }

    /// <summary>RFC 9773 section 5: the certificate this order renews, as an AcmeCertificate or its ARI certificate identifier.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    [CertificateIdTransformation]
    [ValidateNotNullOrEmpty]
    public string? Replaces { get; set; }

    /// <summary>
    /// A challenge store (redis:// connection string or shared folder) holding a lock per certificate
    /// name: the order is placed only while this process holds the lock on its first name.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LockStore { get; set; }

    /// <summary>How long to wait for a lock another host holds; 0 (the default) fails at once with AcmeCertificateLocked.</summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public int LockTimeoutSec { get; set; }

    private IChallengeStore? _lockStore;

    protected override void BeginProcessing()
    {
        // -DnsName $null binds null, not an empty array.
        DnsName ??= Array.Empty<string>();
        IPAddress ??= Array.Empty<string>();

        if (NotBefore is DateTime from && NotAfter is DateTime until && until <= from)
        {
            ThrowAcmeError(new AcmeArgumentException(AcmeErrorId.InvalidValidity, $"-NotAfter ({until:u}) must come after -NotBefore ({from:u})."), NotAfter);
        }

        if (Name is not null && !AcmeStateStore.IsValidName(Name))
        {
            ThrowAcmeError(new AcmeArgumentException(AcmeErrorId.InvalidName,
                $"'{Name}' cannot name an order: use letters, digits and . _ @ + - (not first: . or -), at most 100 characters."), Name);
        }

        if (LockStore is not null)
        {
            try
            {
                _lockStore = StoreBinding.Open(LockStore, SessionState.Path.GetUnresolvedProviderPathFromPSPath);
            }
            catch (AcmeException e)
            {
                ThrowAcmeError(e, StoreBinding.Redact(LockStore));
            }
        }
    }

    protected override void ProcessRecord()
    {
        DateTimeOffset? notBefore = NotBefore is DateTime nb ? new DateTimeOffset(nb) : null;
        DateTimeOffset? notAfter = NotAfter is DateTime na ? new DateTimeOffset(na) : null;
        if (ParameterSetName == RenewalSet)
        {
            Renew(notBefore, notAfter);
            return;
        }

        if (DnsName.Length == 0 && IPAddress.Length == 0)
        {
            ThrowAcmeError(new AcmeArgumentException(AcmeErrorId.NoIdentifier, "Name at least one identifier with -DnsName or -IPAddress."), null);
        }

        IReadOnlyList<AcmeIdentifier> identifiers;
        try
        {
            identifiers = IdentifierParser.Parse(DnsName, IPAddress);
        }
        catch (AcmeArgumentException e)
        {
            ThrowAcmeError(e, string.Join(",", DnsName.Concat(IPAddress)));
            return;
        }

        AcmeAccount account = Account ?? SavedAccount(StatePath, KeyPassphrase);
        string names = string.Join(", ", identifiers.Select(i => i.Value));
        if (!ShouldProcess(account.Server.DirectoryUrl.AbsoluteUri, $"Order a certificate for {names}" +
                (Profile is null ? string.Empty : $" with the profile {Profile}") + (Replaces is null ? string.Empty : $" replacing {Replaces}")))
        {
            return;
        }

        try
        {
            IChallengeStore? leases = LeaseStore(account.SavedIn);
            AcmeOrder order = RunAsync(context => PlaceAsync(context, leases, Name ?? AcmeStateStore.NameFor(identifiers),
                async () => await OrderSteps.NewOrderAsync(new AcmeClient(account.Server, context), account, identifiers, Name,
                    notBefore, notAfter, Profile, Replaces, null, StopToken, resumeUnfinished: ResumesUnder(leases)).ConfigureAwait(false)))!;
            WriteObject(order);
        }
        catch (Exception e) when (e is AcmeException || e is System.IO.IOException || e is UnauthorizedAccessException)
        {
            WriteAcmeError(e, names);
        }
    }

    /// <summary>
    /// Places an order under the -LockStore lock on the certificate's name, when there is one: whoever
    /// holds the name orders it, another host waits (-LockTimeoutSec) or fails. The lock travels on the
    /// order until Complete-AcmeOrder issues the certificate or a cmdlet fails on the order. Without
    /// -LockStore, a state in PostgreSQL leases the name in that database (<see cref="LeaseStore"/>).
    /// </summary>
    private async Task<AcmeOrder?> PlaceAsync(CmdletContext context, IChallengeStore? lockStore, string lockName, Func<Task<AcmeOrder?>> place)
    {
        AcmeCertificateLock? held = lockStore is null ? null : await CertificateLocks.AcquireAsync(lockStore, lockName,
            CertificateLocks.DefaultLease, TimeSpan.FromSeconds(LockTimeoutSec), context, StopToken).ConfigureAwait(false);
        try
        {
            AcmeOrder? placed = await place().ConfigureAwait(false);
            if (held is not null)
            {
                if (placed is null)
                {
                    // Nothing to order (see Renew): the lease goes back at once.
                    await held.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
                    return null;
                }
                CertificateLocks.Attach(placed, held);
            }
            return placed;
        }
        catch when (held is not null)
        {
            await held.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<AcmeOrder?> NullableOrder(Task<AcmeOrder> placing) => await placing.ConfigureAwait(false);

    /// <summary>-LockStore, else the leases of the state the order is saved in when it is a database (null for a folder).</summary>
    private IChallengeStore? LeaseStore(IStateLocation? savedIn) => _lockStore ?? (savedIn as AcmeStateStore)?.Leases;

    /// <summary>
    /// Under the state database's own lease, an unfinished order saved under the name (another host's
    /// that died mid-order, or this host's earlier run) is resumed rather than a second one placed.
    /// </summary>
    private bool ResumesUnder(IChallengeStore? leases) => leases is not null && _lockStore is null;

    private void Renew(DateTimeOffset? notBefore, DateTimeOffset? notAfter)
    {
        AcmeCertificate certificate = Certificate;
        AcmeAccount? account = MyInvocation.BoundParameters.ContainsKey(nameof(Account)) ? Account : certificate.Order?.Account;
        string names = string.Join(", ", certificate.Names);
        if (account is null)
        {
            WriteAcmeError(new AcmeArgumentException(AcmeErrorId.NoAccount,
                $"The certificate for {names} does not say which account ordered it: give -Account."), certificate);
            return;
        }

        if (!ShouldProcess(account.Server.DirectoryUrl.AbsoluteUri, $"Order the renewal of the certificate for {names} ({certificate.Thumbprint})"))
        {
            return;
        }

        try
        {
            IChallengeStore? leases = LeaseStore(account.SavedIn ?? certificate.SavedIn);
            // Under the state database's lease, a version another host put in place since this one was read
            // means the renewal is done: ordering again would renew the name twice in one pass.
            AcmeStateStore? shared = ResumesUnder(leases) ? (certificate.SavedIn ?? account.SavedIn) as AcmeStateStore : null;
            string? savedName = Name ?? certificate.Name;
            string? renewedTo = null;
            AcmeOrder? order = RunAsync(context => PlaceAsync(context, leases, Name ?? certificate.Name ?? AcmeStateStore.NameFor(
                    certificate.Order?.Identifiers ?? certificate.Names.Select(IdentifierParser.Parse).ToArray()),
                () =>
                {
                    if (shared is not null && savedName is not null && shared.ReadCurrentThumbprint(account.Server, savedName) is { Length: > 0 } now
                        && !string.Equals(now, certificate.Thumbprint, StringComparison.OrdinalIgnoreCase))
                    {
                        renewedTo = now;
                        return Task.FromResult<AcmeOrder?>(null);
                    }
                    return NullableOrder(OrderSteps.NewReplacementOrderAsync(new AcmeClient(account.Server, context), certificate, account, Name,
                        notBefore, notAfter, Profile, StopToken, resumeUnfinished: ResumesUnder(leases)));
                }));
            if (order is null)
            {
                WriteVerbose($"The certificate {savedName} was renewed by another host since {certificate.Thumbprint} was read (its current version is {renewedTo}): nothing was ordered.");
                return;
            }
            WriteObject(order);
        }
        catch (Exception e) when (e is AcmeException || e is System.IO.IOException || e is UnauthorizedAccessException)
        {
            WriteAcmeError(e, certificate);
        }
    }
}
