using System.Linq;
using System.Management.Automation;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.PowerShell.Dns;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Errors;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Lists the DNS providers -Provider (Start-AcmeDnsChallenge) and -DnsProvider (New-AcmeCertificate)
/// take: name, description, parameters (name, type, required, secret), what the tests run them against,
/// and the help topic. -Name takes wildcards; a name without one that matches nothing is DnsProviderUnknown.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AcmeDnsProvider", DefaultParameterSetName = "Default")]
[OutputType(typeof(DnsProviderInfo))]
public sealed class GetAcmeDnsProviderCommand : AcmeCmdlet
{
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(DnsProviderCompleter))]
    public string? Name { get; set; }

    protected override void EndProcessing()
    {
        if (Name is null)
        {
            WriteObject(DnsProviders.All, enumerateCollection: true);
            return;
        }

        if (!WildcardPattern.ContainsWildcardCharacters(Name))
        {
            try
            {
                WriteObject(DnsProviders.Get(Name));
            }
            catch (AcmeArgumentException e)
            {
                WriteAcmeError(e, Name);
            }

            return;
        }

        var pattern = new WildcardPattern(Name, WildcardOptions.IgnoreCase);
        WriteObject(DnsProviders.All.Where(p => pattern.IsMatch(p.Name)), enumerateCollection: true);
    }
}
