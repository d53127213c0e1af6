using System;
using System.Collections.Generic;
using System.Management.Automation;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.PowerShell.Commands;

[Cmdlet(VerbsLifecycle.Submit, "AcmeChallenge", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(AcmeChallenge))]
public sealed class SubmitAcmeChallengeCommand : AcmeCmdlet
{
    private const string DefaultSet = "Default";

    private readonly HashSet<Uri> _submitted = new();

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [PipedObject(typeof(AcmeChallenge), "Submit-AcmeChallenge", "Get-AcmeChallenge")]
    [ValidateNotNull]
    public AcmeChallenge Challenge { get; set; } = null!;

    protected override void ProcessRecord()
    {
        string what = $"{Challenge.Type} for {Challenge.Identifier.Value}";
        if (Challenge.Account is null)
        {
            WriteAcmeError(new AcmeArgumentException(AcmeErrorId.NotAttached,
                $"The {what} challenge carries no account to sign with; get it with Get-AcmeChallenge from an order."), Challenge);
            return;
        }

        // Answered or no longer needed: pass it on so Wait-AcmeOrder still sees its order.
        AcmeAuthorization? authorization = Challenge.Authorization;
        if (Challenge.Status != AcmeChallengeStatus.Pending || (authorization is not null && authorization.Status != AcmeAuthorizationStatus.Pending))
        {
            WriteVerbose($"The {what} challenge is {AcmeStatusParser.ToWire(Challenge.Status)}" +
                (authorization is null ? string.Empty : $" and its authorization {AcmeStatusParser.ToWire(authorization.Status)}") + "; not submitted.");
            WriteObject(Challenge);
            return;
        }

        // RFC 8555 section 7.1.4: "the client only needs to fulfill one of the challenges"; a second one
        // for the same authorization is a mistake (usually Get-AcmeChallenge without -Type).
        if (authorization is not null && !_submitted.Add(authorization.Location))
        {
            WriteAcmeError(new AcmeArgumentException(AcmeErrorId.ChallengeAlreadySubmitted,
                $"A challenge for {Challenge.Identifier.Value} was already submitted; submit one challenge per name (filter with Get-AcmeChallenge -Type)."), Challenge);
            return;
        }

        if (!ShouldProcess(Challenge.Identifier.Value, $"Tell the CA the {Challenge.Type} challenge is ready"))
        {
            return;
        }

        try
        {
            AcmeAccount account = Challenge.Account;
            AcmeChallenge updated = RunAsync(context => new AcmeClient(account.Server, context).RespondToChallengeAsync(account, Challenge, StopToken));
            WriteObject(updated);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, Challenge);
        }
    }
}
