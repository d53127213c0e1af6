using System;
using System.Collections.Generic;
using System.Linq;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Challenges.Dns01.Providers;
using Acme.Protocol.Errors;

namespace Acme.PowerShell.Dns;

/// <summary>
/// Every DNS provider the cmdlets know: the core's <see cref="DnsProviderCatalog"/> first, then the
/// providers of the cmdlet layer (they run PowerShell: the Posh-ACME plugin bridge), each a file in this
/// folder with a static <c>Info</c> and a line in <see cref="CmdletLayer"/>. Get-AcmeDnsProvider, tab
/// completion and <c>SolverFactory.ProviderRecords</c> all look providers up here.
/// </summary>
internal static class DnsProviders
{
    /// <summary>The cmdlet layer's providers, in the order Get-AcmeDnsProvider lists them after the catalogue's.</summary>
    private static readonly List<DnsProviderInfo> CmdletLayer = new()
    {
        PoshAcmePublisher.Info,
    };

    public static IReadOnlyList<DnsProviderInfo> All => DnsProviderCatalog.All.Concat(CmdletLayer).ToList();

    /// <summary>The provider named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static DnsProviderInfo? Find(string name) =>
        PoshAcmePublisher.Handles(name) ? PoshAcmePublisher.Info : All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Throws AcmeArgumentException (DnsProviderUnknown) naming the providers there are.</summary>
    public static DnsProviderInfo Get(string name) => Find(name) ?? throw new AcmeArgumentException(AcmeErrorId.DnsProviderUnknown,
        $"There is no DNS provider '{name}'. The providers: {(All.Count == 0 ? "(none)" : string.Join(", ", All.Select(p => p.Name)))}.");
}
