using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Threading;
using System.Threading.Tasks;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Challenges;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Dns;
using Acme.PowerShell.Errors;
using Acme.PowerShell.Export;
using Acme.PowerShell.Stores;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;
using Acme.Protocol.Locking;
using Acme.Protocol.Model;
using Acme.Protocol.Renewal;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

/// <summary>
/// A long-running renewal worker, one per host of a fleet or alone: every -Interval it checks each
/// certificate of the state (Test-AcmeRenewal's rule: ARI, the lifetime, backoff after a failure),
/// issues the ones -Certificate names that are missing, and renews the due ones, each under the
/// certificate's lease (the state database's, or -LockStore's) so that N workers on one state share
/// the work and no certificate is ordered twice at once. Under the lease the certificate is read
/// again: one another worker renewed meanwhile is left alone, and an order a dead worker left unfinished
/// is resumed. A certificate whose lease another worker holds is tried again until the pass ends. Writes
/// one result per certificate issued, renewed, skipped or failed (and not due, with -IncludeNotDue).
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "AcmeRenewalWorker", SupportsShouldProcess = true, DefaultParameterSetName = HttpSet)]
[OutputType(typeof(AcmeRenewalResult))]
public sealed class StartAcmeRenewalWorkerCommand : AcmeServerCmdlet
{
    private const string HttpSet = "Http";
    private const string WebRootSet = "WebRoot";
    private const string StoreSet = "Store";
    private const string TlsAlpnSet = "TlsAlpn";
    private const string DnsSet = "Dns";

    /// <summary>The reason of a result -WhatIf left undone (written even without -IncludeNotDue).</summary>
    private const string WhatIfReason = "WhatIf";

    /// <summary>How often a locked certificate is tried again within a pass.</summary>
    private static readonly TimeSpan LockedRetry = TimeSpan.FromSeconds(1);

    /// <summary>The state folder or postgres:// database; without it, $env:ACME_STATE_PATH, else the per-user folder.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    /// <summary>Opens the keys of the state and encrypts the new ones; by default $env:ACME_KEY_PASSPHRASE.</summary>
    [Parameter]
    public SecureString? KeyPassphrase { get; set; }

    /// <summary>The saved certificates to look after (wildcards allowed); by default all of them.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(CertificateNameCompleter))]
    public string[] Name { get; set; } = { "*" };

    /// <summary>Certificates to have, each as its names separated by commas ('example.com,www.example.com'): issued when the state has none.</summary>
    [Parameter]
    [ValidateNotNull]
    public string[] Certificate { get; set; } = Array.Empty<string>();

    /// <summary>
    /// The CA for the certificates -Certificate names (a shortcut or a directory URL); by default
    /// $env:ACME_SERVER, else Let's Encrypt. Given, it also limits the saved certificates to that CA's.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public override string? Server { get; set; } = DefaultServerName;

    /// <summary>The saved account that orders the -Certificate certificates (renewals use the account that ordered each).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(AccountNameCompleter))]
    public string AccountName { get; set; } = AcmeStateStore.DefaultAccountName;

    /// <summary>Contacts for the account, when it must be created for a -Certificate certificate.</summary>
    [Parameter]
    [ValidateNotNull]
    public string[] Contact { get; set; } = Array.Empty<string>();

    /// <summary>Agrees to the CA's terms, when the account must be created.</summary>
    [Parameter]
    public SwitchParameter AcceptTermsOfService { get; set; }

    /// <summary>The time from the start of one pass to the start of the next.</summary>
    [Parameter]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>One pass, then return (a scheduled task, or a test).</summary>
    [Parameter]
    public SwitchParameter Once { get; set; }

    /// <summary>
    /// Renews every certificate issued before this moment, due or not: after a CA incident, a mass
    /// revocation or a compromised key. A version issued at or after it is judged by the usual rule.
    /// </summary>
    [Parameter]
    public DateTimeOffset? IssuedBefore { get; set; }

    /// <summary>Also writes a result for each certificate that was not due.</summary>
    [Parameter]
    public SwitchParameter IncludeNotDue { get; set; }

    /// <summary>http-01 from a listener of the module's own on this port (the default way, port 80).</summary>
    [Parameter(ParameterSetName = HttpSet)]
    [ValidateRange(1, 65535)]
    public int HttpPort { get; set; } = 80;

    /// <summary>http-01 with files in the web root of a server that already serves the names.</summary>
    [Parameter(Mandatory = true, ParameterSetName = WebRootSet)]
    [ValidateNotNullOrEmpty]
    public string WebRoot { get; set; } = null!;

    /// <summary>http-01 answers published to a shared challenge store (a folder, redis://, postgres://) that responders serve.</summary>
    [Parameter(Mandatory = true, ParameterSetName = StoreSet)]
    [ValidateNotNullOrEmpty]
    public string Store { get; set; } = null!;

    /// <summary>tls-alpn-01 from a TLS listener of the module's own on this port.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TlsAlpnSet)]
    [ValidateRange(1, 65535)]
    public int TlsAlpnPort { get; set; }

    /// <summary>dns-01: the script block that creates a TXT record (param($RecordName, $Value)).</summary>
    [Parameter(Mandatory = true, ParameterSetName = DnsSet)]
    [ValidateNotNull]
    public ScriptBlock AddRecord { get; set; } = null!;

    /// <summary>dns-01: the script block that removes it (param($RecordName, $Value)).</summary>
    [Parameter(Mandatory = true, ParameterSetName = DnsSet)]
    [ValidateNotNull]
    public ScriptBlock RemoveRecord { get; set; } = null!;

    /// <summary>The name servers dns-01 records are awaited on (host or host:port); by default the zone's authoritative servers.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? DnsServer { get; set; }

    /// <summary>
    /// Where the certificates' leases are kept when the state is a folder (a shared folder, redis://,
    /// postgres://); a postgres:// state keeps them in its own database without it.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LockStore { get; set; }

    /// <summary>Writes the PEM files of each certificate issued or renewed to &lt;ExportPath&gt;/&lt;name&gt;/.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ExportPath { get; set; }

    /// <summary>How long one certificate's validation and finalize may take.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSec { get; set; } = 300;

    /// <summary>How many old versions of each certificate are kept (the current one aside).</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int KeepVersions { get; set; } = AcmeStateStore.DefaultKeepVersions;

    private AcmeStateStore _store = null!;
    private IChallengeStore? _leases;
    private IChallengeStore? _answerStore;
    private IReadOnlyList<DnsServerAddress>? _dnsServers;
    private ExportTargets? _export;

    protected override void BeginProcessing()
    {
        try
        {
            if (Interval < TimeSpan.FromSeconds(1) || Interval > TimeSpan.FromDays(7))
            {
                throw new AcmeArgumentException(AcmeErrorId.InvalidInterval,
                    $"-Interval {Interval} is out of range: give a time between one second and seven days (00:00:01 to 7.00:00:00).");
            }

            _store = StateQuery.Open(StatePath, KeyPassphrase, SessionState.Path);
            _dnsServers = SolverFactory.ParseDnsServers(DnsServer);
            foreach (string contact in Contact)
            {
                _ = NewAcmeAccountCommand.NormalizeContact(contact);
            }

            foreach (string names in Certificate)
            {
                _ = Target.Requested(names);
            }

            AcmeStateStore.CheckName(AccountName, "an account");
            if (LockStore is not null)
            {
                _leases = StoreBinding.Open(LockStore, SessionState.Path.GetUnresolvedProviderPathFromPSPath);
            }

            _leases ??= _store.Leases;
            if (ParameterSetName == StoreSet)
            {
                _answerStore = StoreBinding.Open(Store, SessionState.Path.GetUnresolvedProviderPathFromPSPath);
            }
        }
        catch (AcmeException e)
        {
            ThrowAcmeError(e, StoreBinding.Redact(LockStore ?? (ParameterSetName == StoreSet ? Store : StatePath)));
        }

        if (ExportPath is not null)
        {
            _export = new ExportTargets(ExportPath, null, null) { PerCertificateFolder = true };
        }

        if (_leases is null)
        {
            WriteVerbose($"No lease store: the certificates of {_store.Root} are locked in the state itself while each is renewed; " +
                "workers on other hosts need the same state folder (or -LockStore) to share the work.");
        }
    }

    protected override void ProcessRecord()
    {
        AcmeServer? onlyServer = null;
        AcmeServer? newServer = null;
        try
        {
            if (Certificate.Length > 0 || MyInvocation.BoundParameters.ContainsKey(nameof(Server)))
            {
                newServer = ResolveServer(Server!);
            }

            if (MyInvocation.BoundParameters.ContainsKey(nameof(Server)))
            {
                onlyServer = newServer;
            }
        }
        catch (AcmeException e)
        {
            ThrowAcmeError(e, Server);
            return;
        }

        bool once = Once || MyInvocation.BoundParameters.ContainsKey("WhatIf");
        for (int pass = 1; ; pass++)
        {
            DateTimeOffset started = DateTimeOffset.UtcNow;
            RunPass(pass, onlyServer, newServer, started + Interval);
            if (once)
            {
                return;
            }

            WaitUntil(started + Interval, pass);
        }
    }

    /// <summary>One pass over the certificates; those another worker holds are tried again until <paramref name="end"/>.</summary>
    private void RunPass(int pass, AcmeServer? onlyServer, AcmeServer? newServer, DateTimeOffset end)
    {
        List<Target> targets;
        try
        {
            targets = Targets(onlyServer, newServer);
        }
        catch (Exception e) when (e is AcmeException || e is IOException || e is UnauthorizedAccessException)
        {
            // The state cannot be listed (the database is away): this pass is lost, the next one tries again.
            WriteAcmeError(e, _store.Root);
            return;
        }

        WriteVerbose($"Pass {pass}: {targets.Count} certificate(s) in {_store.Root}.");
        int issued = 0, renewed = 0, failed = 0, notDue = 0;
        var locked = new List<Target>();
        for (int round = 0; targets.Count > 0; round++)
        {
            for (int i = 0; i < targets.Count; i++)
            {
                Target target = targets[i];
                WriteProgress(new ProgressRecord(1, $"Renewal pass {pass}", $"{target.Name} ({i + 1} of {targets.Count})")
                {
                    PercentComplete = (int)(100.0 * i / targets.Count),
                });
                AcmeRenewalResult? result = Handle(pass, target);
                if (result is null)
                {
                    locked.Add(target);
                    continue;
                }

                switch (result.Action)
                {
                    case AcmeRenewalAction.Issued: issued++; break;
                    case AcmeRenewalAction.Renewed: renewed++; break;
                    case AcmeRenewalAction.Failed: failed++; break;
                    default: notDue++; break;
                }

                if (result.Action != AcmeRenewalAction.NotDue || IncludeNotDue || result.Reason == WhatIfReason)
                {
                    WriteObject(result);
                }
            }

            if (locked.Count == 0 || DateTimeOffset.UtcNow + LockedRetry >= end)
            {
                break;
            }

            WriteVerbose($"{locked.Count} certificate(s) held by other workers ({string.Join(", ", locked.Select(t => t.Name))}); trying again.");
            Sleep(LockedRetry);
            targets = locked;
            locked = new List<Target>();
        }

        foreach (Target target in locked)
        {
            WriteObject(new AcmeRenewalResult(pass, target.Name, AcmeRenewalAction.Skipped, "Locked", null,
                error: "Another worker held its lease for the whole pass; the next pass tries again."));
        }

        WriteProgress(new ProgressRecord(1, $"Renewal pass {pass}", "Done") { RecordType = ProgressRecordType.Completed });
        WriteInformation(new InformationRecord($"Pass {pass}: {issued} issued, {renewed} renewed, {failed} failed, {notDue} not due, {locked.Count} skipped (held by other workers).",
            MyInvocation.MyCommand.Name));
    }

    /// <summary>The certificate's result in this pass, or null when another worker holds its lease.</summary>
    private AcmeRenewalResult? Handle(int pass, Target target)
    {
        AcmeCertificate? existing;
        try
        {
            existing = _store.ReadCertificate(target.Server, target.Name, n => _store.ReadAccount(target.Server, n));
        }
        catch (Exception e) when (e is AcmeException || e is IOException || e is UnauthorizedAccessException)
        {
            return Failure(pass, target.Name, null, e);
        }

        if (existing is null && target.Identifiers is null)
        {
            // Removed since the list was read.
            return new AcmeRenewalResult(pass, target.Name, AcmeRenewalAction.NotDue, "Removed", null);
        }

        AcmeRenewalCheck? check = null;
        if (existing is not null && (target.Identifiers is null || existing.HasIdentifiers(target.Identifiers)))
        {
            try
            {
                check = RunAsync(context => CertificateSteps.CheckRenewalAsync(new AcmeClient(target.Server, context), existing,
                    false, DateTimeOffset.UtcNow, context, StopToken));
            }
            catch (AcmeException e)
            {
                return Failure(pass, target.Name, existing, e);
            }

            // -IssuedBefore makes it due, but a failed renewal still backs off (it is not -Force): a mass
            // replacement does not ask the CA every pass for a name that keeps failing.
            bool backingOff = check.NextAttempt is DateTimeOffset next && next > DateTimeOffset.UtcNow;
            if (!check.Due && !(ReplacedByDate(existing) && !backingOff))
            {
                string why = backingOff && ReplacedByDate(existing) ? nameof(RenewalReason.Backoff) : check.Reason.ToString();
                return new AcmeRenewalResult(pass, target.Name, AcmeRenewalAction.NotDue, why, existing,
                    backingOff && ReplacedByDate(existing) ? check.NextAttempt : check.RenewAt, check.LastError, check.LastErrorId);
            }
        }

        string reason = check is not null ? (ReplacedByDate(existing!) && !check.Due ? "IssuedBefore" : check.Reason.ToString())
            : existing is null ? "New" : "NamesChanged";
        string action = existing is null ? "Issue a first certificate" : $"Renew the certificate ({reason}, {existing.Thumbprint})";
        if (!ShouldProcess(string.Join(", ", target.Identifiers?.Select(i => i.Value) ?? existing!.Names), $"{action} from {target.Server.Name} and save it in {_store.Root}"))
        {
            return new AcmeRenewalResult(pass, target.Name, AcmeRenewalAction.NotDue, WhatIfReason, existing);
        }

        SolverFactory solvers;
        try
        {
            solvers = SolversFor(existing, target);
        }
        catch (Exception e) when (e is AcmeLocalException || e is AcmeArgumentException)
        {
            return Failure(pass, target.Name, existing, e);
        }

        IReadOnlyList<AcmeIdentifier> identifiers = target.Identifiers
            ?? existing!.Order?.Identifiers ?? existing!.Names.Select(IdentifierParser.Parse).ToArray();
        string accountName = existing?.Order?.Account.Name ?? AccountName;
        string[] contact = Contact.Select(NewAcmeAccountCommand.NormalizeContact).ToArray();
        AcmeCertificate certificate;
        bool ordered;
        try
        {
            (AcmeCertificate, bool)? done = RunAsync<(AcmeCertificate, bool)?>(async context =>
            {
                AcmeCertificateLock? lease = null;
                if (_leases is not null)
                {
                    try
                    {
                        lease = await CertificateLocks.AcquireAsync(_leases, target.Name, CertificateLocks.DefaultLease, TimeSpan.Zero, context, StopToken)
                            .ConfigureAwait(false);
                    }
                    catch (AcmeLocalException e) when (e.Id == AcmeErrorId.CertificateLocked)
                    {
                        context.Verbose(e.Message);
                        return null;
                    }
                }

                try
                {
                    IChallengeSolver solver = await solvers.CreateAsync(context, StopToken).ConfigureAwait(false);
                    // Under the lease and the state's lock, IssueAsync reads the certificate again: a version another
                    // worker put in place meanwhile is judged itself (not due: nothing is ordered), and an order a
                    // dead worker left unfinished is resumed.
                    return await CertificateSteps.IssueAsync(new AcmeClient(target.Server, context), _store, target.Name, identifiers, accountName, contact,
                        AcceptTermsOfService, null, null, existing?.Order?.Profile, solver, PolicyFor(TimeoutSec), false, context, StopToken, KeepVersions,
                        replaceIf: ReplacedByDate).ConfigureAwait(false);
                }
                finally
                {
                    if (lease is not null)
                    {
                        await lease.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                }
            });
            if (done is null)
            {
                return null;
            }

            (certificate, ordered) = done.Value;
        }
        catch (AcmeException e)
        {
            return Failure(pass, target.Name, existing, e);
        }

        if (!ordered)
        {
            WriteVerbose($"{target.Name} was renewed by another worker during this pass ({certificate.Thumbprint}); nothing was ordered.");
            return new AcmeRenewalResult(pass, target.Name, AcmeRenewalAction.NotDue, "RenewedElsewhere", certificate);
        }

        if (_export is not null)
        {
            try
            {
                _export.WriteFiles(certificate, ResolvePath, confirm: null, file => WriteVerbose($"Wrote {file}."));
            }
            catch (Exception e) when (e is AcmeException || e is IOException || e is UnauthorizedAccessException)
            {
                // Issued and saved; only the copy failed, and the next pass does not write it again: say so now.
                WriteAcmeError(e, certificate);
            }
        }

        return new AcmeRenewalResult(pass, target.Name, existing is null ? AcmeRenewalAction.Issued : AcmeRenewalAction.Renewed, reason, certificate);
    }

    /// <summary>A failed certificate: its error record (the pass goes on), and a Failed result naming the error.</summary>
    private AcmeRenewalResult Failure(int pass, string name, AcmeCertificate? existing, Exception e)
    {
        ErrorRecord record = AcmeErrorRecords.Create(e, name);
        WriteError(record);
        string id = record.FullyQualifiedErrorId.Split(',')[0];
        return new AcmeRenewalResult(pass, name, AcmeRenewalAction.Failed, existing is null ? "New" : null, existing, error: e.Message, errorId: id);
    }

    /// <summary>
    /// -IssuedBefore: the version was saved before that moment's second began. Its saved time, not its
    /// NotBefore, which CAs backdate (Let's Encrypt by an hour), so a version issued just after the moment
    /// is never taken for an old one; both have whole seconds, so the moment's own second counts as after.
    /// </summary>
    private bool ReplacedByDate(AcmeCertificate certificate)
    {
        if (IssuedBefore is not DateTimeOffset before)
        {
            return false;
        }

        DateTime utc = before.UtcDateTime;
        var second = new DateTimeOffset(utc.AddTicks(-(utc.Ticks % TimeSpan.TicksPerSecond)), TimeSpan.Zero);
        DateTimeOffset issued = certificate.SavedAt ?? new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        return issued < second;
    }

    /// <summary>The DNS provider saved with the certificate when it has one, else the worker's own way of answering.</summary>
    private SolverFactory SolversFor(AcmeCertificate? existing, Target target)
    {
        if (existing is not null && _store.ReadDnsProvider(target.Server, target.Name) is { } saved)
        {
            DnsProviderInfo info = DnsProviders.Get(saved.Provider);
            DnsProviderSettings settings = ProviderParameters.FromSavedComplete(saved, null, ProviderParameters.SecretReader(this), target.Name,
                "renew it once with Start-AcmeDnsChallenge -Provider and its parameters");

            WriteVerbose($"{target.Name}: publishing through the DNS provider {saved.Provider} saved with it ({saved.ChallengeType}).");
            return SolverFactory.Dns(SolverFactory.ProviderRecords(info, settings), _dnsServers, checkPropagation: true, TimeSpan.FromSeconds(TimeoutSec),
                null, saved.ChallengeType);
        }

        return ParameterSetName switch
        {
            WebRootSet => SolverFactory.HttpWebRoot(ResolvePath(WebRoot)),
            StoreSet => SolverFactory.HttpStore(_answerStore!, null),
            TlsAlpnSet => SolverFactory.TlsAlpnListener(TlsAlpnPort, null, TimeSpan.FromSeconds(TimeoutSec)),
            DnsSet => SolverFactory.Dns(SolverFactory.ScriptBlockRecords(AddRecord, RemoveRecord), _dnsServers, checkPropagation: true,
                TimeSpan.FromSeconds(TimeoutSec), null),
            _ => SolverFactory.HttpListener(HttpPort, null, selfCheck: true, TimeSpan.FromSeconds(TimeoutSec)),
        };
    }

    /// <summary>The saved certificates -Name selects, then each -Certificate the state does not hold yet.</summary>
    private List<Target> Targets(AcmeServer? onlyServer, AcmeServer? newServer)
    {
        var targets = new List<Target>();
        var patterns = Name.Select(p => WildcardPattern.Get(p, WildcardOptions.IgnoreCase)).ToArray();
        foreach ((AcmeServer server, string name) in _store.GetCertificateNames(onlyServer))
        {
            if (patterns.Any(p => p.IsMatch(name)))
            {
                targets.Add(new Target(server, name, null));
            }
        }

        foreach (string names in Certificate)
        {
            Target wanted = Target.Requested(names, newServer!);
            int known = targets.FindIndex(t => t.Name.Equals(wanted.Name, StringComparison.OrdinalIgnoreCase)
                && t.Server.DirectoryUrl == wanted.Server.DirectoryUrl);
            if (known >= 0)
            {
                targets[known] = wanted;
            }
            else
            {
                targets.Add(wanted);
            }
        }

        return targets;
    }

    /// <summary>Between passes: a progress bar counting down; Ctrl+C stops at once.</summary>
    private void WaitUntil(DateTimeOffset next, int pass)
    {
        var record = new ProgressRecord(2, "Start-AcmeRenewalWorker", $"Pass {pass} done; the next at {next.ToLocalTime():u}");
        while (DateTimeOffset.UtcNow < next)
        {
            TimeSpan left = next - DateTimeOffset.UtcNow;
            record.SecondsRemaining = (int)Math.Ceiling(left.TotalSeconds);
            WriteProgress(record);
            Sleep(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
        }

        record.RecordType = ProgressRecordType.Completed;
        WriteProgress(record);
    }

    private void Sleep(TimeSpan time)
    {
        if (time > TimeSpan.Zero && StopToken.WaitHandle.WaitOne(time))
        {
            throw new PipelineStoppedException();
        }
    }

    /// <summary>A certificate a pass looks after: a saved one, or one -Certificate asks for (with its identifiers).</summary>
    private sealed class Target
    {
        public Target(AcmeServer server, string name, IReadOnlyList<AcmeIdentifier>? identifiers)
        {
            Server = server;
            Name = name;
            Identifiers = identifiers;
        }

        public AcmeServer Server { get; }

        public string Name { get; }

        /// <summary>The names -Certificate gave (null for a saved certificate: its own names).</summary>
        public IReadOnlyList<AcmeIdentifier>? Identifiers { get; }

        /// <summary>One -Certificate entry, checked (AcmeArgumentException for a bad name).</summary>
        public static Target Requested(string names, AcmeServer? server = null)
        {
            IReadOnlyList<AcmeIdentifier> identifiers = IdentifierParser.Parse(names.Split(',').Select(n => n.Trim()).Where(n => n.Length > 0));
            if (identifiers.Count == 0)
            {
                throw new AcmeArgumentException(AcmeErrorId.InvalidIdentifier, $"-Certificate '{names}' names no DNS name or IP address.");
            }

            return new Target(server!, AcmeStateStore.CheckName(AcmeStateStore.NameFor(identifiers), "a certificate"), identifiers);
        }
    }
}
