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
    [Parameter]
    [CertificateIdTransformation]
    [ValidateNotNullOrEmpty]
    public string? Replaces { get; set; }

    protected override void BeginProcessing()
    {
        if (DnsName.Length == 0 && IPAddress.Length == 0)
        {
            ThrowAcmeError(new AcmeArgumentException("AcmeNoIdentifier", "Name at least one identifier with -DnsName or -IPAddress."), null);
        }

        if (NotBefore is DateTime from && NotAfter is DateTime until && until <= from)
        {
            ThrowAcmeError(new AcmeArgumentException("AcmeInvalidValidity", $"-NotAfter ({until:u}) must come after -NotBefore ({from:u})."), NotAfter);
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
        if (!ShouldProcess(Account.Server.DirectoryUrl.AbsoluteUri, $"Order a certificate for {names}" +
                (Profile is null ? string.Empty : $" with the profile {Profile}") + (Replaces is null ? string.Empty : $" replacing {Replaces}")))
        {
            return;
        }

        DateTimeOffset? notBefore = NotBefore is DateTime nb ? new DateTimeOffset(nb) : null;
        DateTimeOffset? notAfter = NotAfter is DateTime na ? new DateTimeOffset(na) : null;
        try
        {
            AcmeOrder order = RunAsync(context => new AcmeClient(Account.Server, context)
                .NewOrderAsync(Account, identifiers, notBefore, notAfter, Profile, Replaces, StopToken));
            WriteObject(order);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, names);
        }
    }
}
