using System;
using System.Linq;
using System.Management.Automation;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Commands;

/// <summary>
/// The dns-persist-01 TXT record (draft-ietf-acme-dns-persist) to create once, ahead of time, for each
/// name: "_validation-persist.&lt;name&gt;" holding the CA's issuer domain name (the first CAA identity
/// of its directory) and the account URL, with policy=wildcard for a wildcard and persistUntil when given.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AcmeDnsPersistRecord", DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(DnsTxtRecord))]
public sealed class GetAcmeDnsPersistRecordCommand : AcmeAccountCmdlet
{
    private const string DefaultSet = "Default";

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string[] DnsName { get; set; } = null!;

    /// <summary>The issuer domain name; by default the first caaIdentities entry of the CA's directory.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? IssuerDomainName { get; set; }

    /// <summary>The time after which the CA no longer accepts the record (persistUntil, in Unix seconds in the record).</summary>
    [Parameter]
    public DateTimeOffset PersistUntil { get; set; }

    protected override void ProcessRecord()
    {
        AcmeAccount account = TargetAccount;
        System.Collections.Generic.IReadOnlyList<AcmeIdentifier> identifiers;
        try
        {
            identifiers = IdentifierParser.Parse(DnsName, null);
        }
        catch (AcmeArgumentException e)
        {
            ThrowAcmeError(e, DnsName);
            return;
        }

        string issuer;
        try
        {
            issuer = IssuerDomainName ?? RunAsync(async context =>
            {
                AcmeDirectory directory = await new AcmeClient(account.Server, context).GetDirectoryAsync(StopToken).ConfigureAwait(false);
                return directory.CaaIdentities.FirstOrDefault()
                    ?? throw new AcmeLocalException(AcmeErrorId.DnsPersistIssuerUnknown,
                        $"The directory of {account.Server.DirectoryUrl} names no CAA identity, so the issuer domain name for the dns-persist-01 record is not known.");
            });
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, account.Server.DirectoryUrl);
            return;
        }

        DateTimeOffset? until = MyInvocation.BoundParameters.ContainsKey(nameof(PersistUntil)) ? PersistUntil : null;
        foreach (AcmeIdentifier identifier in identifiers)
        {
            string name = identifier.IsWildcard ? identifier.Value.Substring(2) : identifier.Value;
            WriteObject(new DnsTxtRecord(DnsPersistRecord.NamePrefix + name,
                DnsPersistRecord.Format(issuer, account.Location, identifier.IsWildcard, until), identifier));
        }
    }
}
