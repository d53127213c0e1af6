using System;
using System.Collections.Generic;
using System.Linq;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Challenges.Dns01.Providers;

/// <summary>
/// The built-in DNS providers, in the order Get-AcmeDnsProvider lists them. A new provider is a file in this
/// folder with a static <c>Info</c>, and a line here. The Posh-ACME plugin bridge lives in the cmdlet layer
/// (it runs PowerShell) and adds itself there.
/// </summary>
public static class DnsProviderCatalog
{
    public static IReadOnlyList<DnsProviderInfo> All { get; } = new List<DnsProviderInfo>
    {
        Rfc2136Provider.Info,
        PowerDnsProvider.Info,
        CloudflareProvider.Info,
        AzureDnsProvider.Info,
        Route53Provider.Info,
        AcmeDnsProvider.Info,
    };

    /// <summary>The provider named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static DnsProviderInfo? Find(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Throws AcmeArgumentException (DnsProviderUnknown) naming the providers there are.</summary>
    public static DnsProviderInfo Get(string name) => Find(name) ?? throw new AcmeArgumentException(AcmeErrorId.DnsProviderUnknown,
        $"There is no DNS provider '{name}'. The providers: {string.Join(", ", All.Select(p => p.Name))}.");
}
