using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Acme.PowerShell.Dns;
using Acme.Protocol.ChallengeStores;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Challenges.Dns01.Providers;
using Acme.Protocol.Challenges.Http01;
using Acme.Protocol.Challenges.TlsAlpn01;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;
using Acme.Protocol.Model;
using Acme.Protocol.State;
using static Acme.PowerShell.Cmdlets.AcmeCmdlet;

namespace Acme.PowerShell.Challenges;

/// <summary>
/// The one place the cmdlets build challenge solvers (Start-AcmeHttpChallenge, Start-AcmeTlsAlpnChallenge,
/// Start-AcmeDnsChallenge and New-AcmeCertificate). A cmdlet picks the way on the pipeline thread, from
/// parameters already checked (paths resolved, stores opened, DNS input parsed), so what can be refused is
/// refused before the first request; the work builds the solver from it once it runs.
/// </summary>
internal sealed class SolverFactory
{
    private readonly Func<CmdletContext, CancellationToken, Task<IChallengeSolver>> _create;

    private SolverFactory(Func<CmdletContext, IChallengeSolver> create) => _create = (context, _) => Task.FromResult(create(context));

    private SolverFactory(Func<CmdletContext, CancellationToken, Task<IChallengeSolver>> create) => _create = create;

    /// <summary>http-01 from a listener of the module's own; <paramref name="portWait"/> is how long another process may hold the port.</summary>
    public static SolverFactory HttpListener(int port, IPAddress? address, bool selfCheck, TimeSpan portWait) =>
        new(context => Http01Solver.WithListener(port, address, selfCheck, context, portWait, context));

    /// <summary>http-01 with files in the web root (a resolved path) of a server that already serves the names.</summary>
    public static SolverFactory HttpWebRoot(string webRoot) => new(context => Http01Solver.WithWebRoot(webRoot, context));

    /// <summary>http-01 answers published to a shared store that responders serve, checked through <paramref name="checkUrl"/> when given.</summary>
    public static SolverFactory HttpStore(IChallengeStore store, Uri? checkUrl) =>
        new(async (context, cancellationToken) =>
        {
            // Before anything reaches the CA: a store that cannot take the answers stops here.
            await store.CheckAsync(cancellationToken).ConfigureAwait(false);
            return Http01Solver.WithStore(store, checkUrl, context);
        });

    /// <summary>tls-alpn-01 from a TLS listener of the module's own; <paramref name="portWait"/> as for <see cref="HttpListener"/>.</summary>
    public static SolverFactory TlsAlpnListener(int port, IPAddress? address, TimeSpan portWait) =>
        new(context => new TlsAlpn01Solver(port, address, context, portWait, context));

    /// <summary>
    /// dns-01: TXT records published by <paramref name="records"/> (<see cref="ScriptBlockRecords"/>,
    /// <see cref="ScriptFileRecords"/> or <see cref="ManualRecords"/>), then, unless
    /// <paramref name="checkPropagation"/> is false, awaited on <paramref name="servers"/> (by default the
    /// zones' authoritative servers) for up to <paramref name="propagationTimeout"/>.
    /// </summary>
    public static SolverFactory Dns(Func<CmdletContext, IDnsRecordPublisher> records, IReadOnlyList<DnsServerAddress>? servers, bool checkPropagation,
        TimeSpan propagationTimeout, IDictionary<string, string>? aliases, string challengeType = AcmeChallenge.Dns01,
        DateTimeOffset? persistUntil = null) =>
        new(context =>
        {
            IDnsRecordPublisher publisher = records(context);
            if (challengeType == AcmeChallenge.DnsPersist01)
            {
                // The name servers are asked first either way: a valid persistent record means no DNS change.
                return new DnsPersist01Solver(publisher, new DnsPropagationChecker(servers, context), checkPropagation, propagationTimeout,
                    persistUntil, context, context);
            }

            DnsPropagationChecker? checker = checkPropagation ? new DnsPropagationChecker(servers, context) : null;
            return new Dns01Solver(publisher, checker, propagationTimeout, aliases, context, context, challengeType);
        });

    /// <summary>dns-01 records published by the user's -AddRecord and -RemoveRecord script blocks.</summary>
    public static Func<CmdletContext, IDnsRecordPublisher> ScriptBlockRecords(ScriptBlock add, ScriptBlock remove) =>
        context => new ScriptBlockDnsPublisher(context, add, remove);

    /// <summary>
    /// dns-01 records published by a DNS provider (-Provider, -ProviderParameter; the core's catalogue or
    /// the cmdlet layer's, <see cref="DnsProviders"/>), its settings read (env:/secret: references through
    /// <paramref name="readSecret"/>) and checked now; "PoshAcme:&lt;Plugin&gt;" is a plugin of the user's
    /// Posh-ACME (<see cref="PoshAcmePublisher"/>), loaded now, with -ProviderParameter as its arguments.
    /// Throws AcmeArgumentException (DnsProviderUnknown, DnsProviderParameter*, PoshAcmeNotInstalled),
    /// AcmeLocalException (DnsProviderSecretUnavailable).
    /// </summary>
    public static Func<CmdletContext, IDnsRecordPublisher> ProviderRecords(string provider, IDictionary? parameters,
        ProviderParameters.ReadSecret? readSecret = null) =>
        PoshAcmePublisher.Handles(provider)
            ? PoshAcmePublisher.Records(provider, parameters)
            : ProviderRecords(DnsProviders.Get(provider), ProviderParameters.From(parameters, readSecret));

    /// <summary>dns-01 records published by <paramref name="info"/> with <paramref name="settings"/>, checked now.</summary>
    public static Func<CmdletContext, IDnsRecordPublisher> ProviderRecords(DnsProviderInfo info, DnsProviderSettings settings)
    {
        info.Check(settings);
        return context => info.Create(settings, new DnsProviderOptions { Log = context });
    }

    /// <summary>
    /// Saves the provider and its parameters with the certificate <paramref name="name"/> in <paramref name="store"/>
    /// for its renewals; warns, naming them, about the secret parameters it could not save (no key passphrase, no reference).
    /// </summary>
    public static void SaveProvider(AcmeStateStore store, AcmeServer server, string name, SavedDnsProvider saved, Action<string> warn, Action<string> verbose)
    {
        IReadOnlyList<string> unsaved = store.WriteDnsProvider(server, name, saved);
        verbose($"Saved the DNS provider {saved.Provider} with the certificate '{name}' in {store.Root} for its renewals.");
        if (unsaved.Count > 0)
        {
            warn($"The secret parameter(s) {string.Join(", ", unsaved)} of the DNS provider {saved.Provider} were not saved with '{name}': the state folder has no key passphrase (-KeyPassphrase or ${AcmeStateStore.PassphraseVariable}). " +
                "A renewal must give them again in -ProviderParameter; give them as 'env:VAR' or 'secret:<Name>', or set a passphrase, to have them saved.");
        }
    }

    /// <summary>
    /// dns-01 records published by the functions of a script file (a resolved path), loaded now, on the
    /// pipeline thread. Throws AcmeArgumentException when the file is missing or unusable.
    /// </summary>
    public static Func<CmdletContext, IDnsRecordPublisher> ScriptFileRecords(string path)
    {
        (ScriptBlock add, ScriptBlock remove) = DnsScriptFile.Load(path);
        return ScriptBlockRecords(add, remove);
    }

    /// <summary>
    /// dns-01 records created by hand: shown through <paramref name="show"/>, then Enter is awaited on the
    /// host. Throws AcmeLocalException (ManualNotInteractive) when nobody can press Enter in this session.
    /// </summary>
    public static Func<CmdletContext, IDnsRecordPublisher> ManualRecords(PSHost host, Action<CmdletContext, string> show)
    {
        if (!ManualDnsPublisher.CanPrompt(host))
        {
            throw new AcmeLocalException(AcmeErrorId.ManualNotInteractive,
                "-Manual waits for someone to press Enter, but this session is not interactive (no console input, -NonInteractive, or a runspace without a host). Use -AddRecord and -RemoveRecord to publish the records from a script.");
        }

        return context => new ManualDnsPublisher(context, message => show(context, message), host.UI);
    }

    /// <summary>-DnsServer: the name servers to wait for (host or host:port), or null. Throws AcmeArgumentException for a bad one.</summary>
    public static IReadOnlyList<DnsServerAddress>? ParseDnsServers(string[]? servers) => servers?.Select(DnsServerAddress.Parse).ToList();

    /// <summary>-DnsAlias: identifier to the name whose TXT record answers for it (a CNAME target), or null. Throws AcmeArgumentException for a bad one.</summary>
    public static Dictionary<string, string>? ParseDnsAliases(IDictionary? aliases) =>
        aliases is null ? null : Dns01Solver.ParseAliases(aliases.Cast<DictionaryEntry>().ToDictionary(
            e => LanguagePrimitives.ConvertTo<string>(e.Key), e => LanguagePrimitives.ConvertTo<string>(e.Value), StringComparer.OrdinalIgnoreCase));

    /// <summary>The solver, built inside the work (<c>RunAsync</c>) so that it logs and reports progress through <paramref name="context"/>.</summary>
    public Task<IChallengeSolver> CreateAsync(CmdletContext context, CancellationToken cancellationToken) => _create(context, cancellationToken);

    /// <summary>What the Start-*Challenge cmdlets do with it: the order's pending authorizations answered, the order as it then is.</summary>
    public async Task<AcmeOrder> SolveAsync(AcmeOrder order, RetryPolicy policy, CmdletContext context, CancellationToken cancellationToken)
    {
        IChallengeSolver solver = await CreateAsync(context, cancellationToken).ConfigureAwait(false);
        return await OrderSteps.SolveAsync(new AcmeClient(order.Account.Server, context), order, solver, policy, context, cancellationToken)
            .ConfigureAwait(false);
    }
}
