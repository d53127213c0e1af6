using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using Acme.PowerShell.Binding;
using Acme.PowerShell.Challenges;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Client;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using Acme.Protocol.Renewal;
using Acme.Protocol.State;

namespace Acme.PowerShell.Commands;

/// <summary>
/// Says whether each certificate is due for renewal: when its CA offers ACME Renewal Information (RFC
/// 9773), once the moment chosen in the suggested window has come; otherwise when a third of its
/// lifetime is left (half, under 10 days); and at once when it is expired or revoked, or with -Force.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "AcmeRenewal", DefaultParameterSetName = CertificateSet)]
[OutputType(typeof(AcmeRenewalCheck))]
public sealed class TestAcmeRenewalCommand : AcmeCertificateCmdlet
{
    /// <summary>Due whatever the rule says (reason Forced).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = CertificateSet)]
    [PipedObject(typeof(AcmeCertificate), "Test-AcmeRenewal", "Complete-AcmeOrder", Properties = new[] { "CertificatePath", "FullName" })]
    [ValidateNotNull]
    public override AcmeCertificate Certificate { get; set; } = null!;

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>
    /// For a certificate validated with dns-persist-01: the name servers its records are read from (host or
    /// host:port), as Start-AcmeDnsChallenge -DnsServer; by default the zone's authoritative servers.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[] DnsServer { get; set; } = null!;

    private IReadOnlyList<DnsServerAddress>? _dnsServers;

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        try
        {
            _dnsServers = SolverFactory.ParseDnsServers(DnsServer);
        }
        catch (AcmeArgumentException e)
        {
            ThrowAcmeError(e, null);
        }
    }

    protected override void ProcessRecord()
    {
        AcmeCertificate certificate;
        AcmeServer? server;
        try
        {
            certificate = InputCertificate()!;
            server = certificate.Order?.Account.Server ?? certificate.SavedServer ?? (Server is null ? null : ResolveServer(Server));
        }
        catch (Exception e) when (e is AcmeException || e is IOException)
        {
            WriteAcmeError(e, InputTarget);
            return;
        }

        if (server is null)
        {
            WriteVerbose($"No server is known for {string.Join(", ", certificate.Names)}; the lifetime rule decides without renewal information (give -Server to ask the CA).");
        }

        try
        {
            AcmeRenewalCheck check = RunAsync(async context =>
            {
                DateTimeOffset now = DateTimeOffset.UtcNow;
                AcmeRenewalCheck result = await CertificateSteps.CheckRenewalAsync(server is null ? null : new AcmeClient(server, context), certificate,
                    Force, now, context, StopToken).ConfigureAwait(false);
                await CertificateSteps.CheckPersistentRecordsAsync(result, () => new DnsPropagationChecker(_dnsServers, context), now, context, StopToken)
                    .ConfigureAwait(false);
                return result;
            });
            WriteObject(check);
        }
        catch (AcmeException e)
        {
            WriteAcmeError(e, certificate);
        }
    }
}
