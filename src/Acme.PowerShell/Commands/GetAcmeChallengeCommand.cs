using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Commands;

[Cmdlet(VerbsCommon.Get, "AcmeChallenge", DefaultParameterSetName = OrderSet)]
[OutputType(typeof(AcmeChallenge))]
public sealed class GetAcmeChallengeCommand : AcmeCmdlet
{
    private const string OrderSet = "Order";
    private const string AuthorizationSet = "Authorization";

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = OrderSet)]
    [PipedObject(typeof(AcmeOrder), "Get-AcmeChallenge", "New-AcmeOrder", Others = new[] { typeof(AcmeAuthorization) })]
    [ValidateNotNull]
    public AcmeOrder Order { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = AuthorizationSet)]
    [PipedObject(typeof(AcmeAuthorization), "Get-AcmeChallenge", "New-AcmeOrder", Quiet = true)]
    [ValidateNotNull]
    public AcmeAuthorization Authorization { get; set; } = null!;

    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(ChallengeTypeCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Type { get; set; } = null!;

    protected override void ProcessRecord()
    {
        object target = ParameterSetName == OrderSet ? Order : Authorization;
        try
        {
            IReadOnlyList<AcmeAuthorization> authorizations = RunAsync<IReadOnlyList<AcmeAuthorization>>(async context =>
            {
                if (ParameterSetName == OrderSet)
                {
                    AcmeOrder order = await new AcmeClient(Order.Account.Server, context).RefreshAuthorizationsAsync(Order, StopToken).ConfigureAwait(false);
                    return order.Authorizations;
                }

                AcmeAccount account = Authorization.Account ?? throw NotAttached();
                AcmeAuthorization fresh = await new AcmeClient(account.Server, context).GetAuthorizationAsync(account, Authorization.Location, StopToken)
                    .ConfigureAwait(false);
                return new[] { fresh.Attach(account, Authorization.Order) };
            });

            foreach (AcmeChallenge challenge in authorizations.SelectMany(a => a.Challenges))
            {
                if (Type is null || Type.Contains(challenge.Type, StringComparer.OrdinalIgnoreCase))
                {
                    WriteObject(challenge);
                }
            }
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, target);
        }
    }

    private static AcmeArgumentException NotAttached() =>
        new(AcmeErrorId.NotAttached, "The authorization carries no account to sign with; get it with Get-AcmeAuthorization from an order.");

    private sealed class ChallengeTypeCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters) =>
            new[] { AcmeChallenge.Http01, AcmeChallenge.Dns01, AcmeChallenge.TlsAlpn01 }
                .Where(t => t.StartsWith(wordToComplete ?? string.Empty, StringComparison.OrdinalIgnoreCase))
                .Select(t => new CompletionResult(t));
    }
}
