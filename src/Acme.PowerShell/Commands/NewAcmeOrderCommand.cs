using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Acme.PowerShell.Infrastructure;
using Acme.Protocol;
using Acme.Protocol.Flow;

namespace Acme.PowerShell.Commands;

[Cmdlet(VerbsCommon.New, "AcmeOrder", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeOrder))]
public sealed class NewAcmeOrderCommand : AcmeCmdlet
{
    private const string DefaultSet = "Default";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public AcmeAccount Account { get; set; } = null!;

    [Parameter(Position = 0)]
    [Alias("Name", "Domain")]
    public string[] DnsName { get; set; } = Array.Empty<string>();

    [Parameter]
    public string[] IPAddress { get; set; } = Array.Empty<string>();

    protected override void BeginProcessing()
    {
        // -DnsName $null binds null, not an empty array.
        DnsName ??= Array.Empty<string>();
        IPAddress ??= Array.Empty<string>();
        if (DnsName.Length == 0 && IPAddress.Length == 0)
        {
            ThrowAcmeError(new AcmeArgumentException("AcmeNoIdentifier", "Name at least one identifier with -DnsName or -IPAddress."), null);
        }
    }

    protected override void ProcessRecord()
    {
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

        string names = string.Join(", ", identifiers.Select(i => i.Value));
        if (!ShouldProcess(Account.Server.DirectoryUrl.AbsoluteUri, $"Order a certificate for {names}"))
        {
            return;
        }

        try
        {
            AcmeOrder order = RunAsync(context => new AcmeClient(Account.Server, context).NewOrderAsync(Account, identifiers, cancellationToken: StopToken));
            WriteObject(order);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, names);
        }
    }
}
