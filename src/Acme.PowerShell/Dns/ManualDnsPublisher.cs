using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Threading;
using System.Threading.Tasks;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Errors;

namespace Acme.PowerShell.Dns;

/// <summary>-Manual: shows the records a person must create, waits for Enter, and says when they can go.</summary>
internal sealed class ManualDnsPublisher : IDnsRecordPublisher
{
    private readonly AcmeCmdlet.CmdletContext _context;
    private readonly Action<string> _show;
    private readonly PSHostUserInterface _ui;

    public ManualDnsPublisher(AcmeCmdlet.CmdletContext context, Action<string> show, PSHostUserInterface ui)
    {
        _context = context;
        _show = show;
        _ui = ui;
    }

    /// <summary>
    /// False when nobody can press Enter: no host UI (a runspace of its own), pwsh -NonInteractive, a
    /// console whose input is redirected, or a session without a desktop (a service or a scheduled task).
    /// </summary>
    public static bool CanPrompt(PSHost? host)
    {
        if (host?.UI is null || !Environment.UserInteractive)
        {
            return false;
        }

        if (host.Name == "ConsoleHost" && Console.IsInputRedirected)
        {
            return false;
        }

        foreach (string arg in Environment.GetCommandLineArgs().Skip(1))
        {
            string name = arg.TrimStart('-', '/').ToLowerInvariant();
            if (name is "file" or "f" or "command" or "c" or "encodedcommand" or "e" or "ec")
            {
                // What follows belongs to the script, not to PowerShell.
                break;
            }

            // pwsh accepts any abbreviation of -NonInteractive down to -noni.
            if ((arg.StartsWith("-", StringComparison.Ordinal) || arg.StartsWith("/", StringComparison.Ordinal))
                && name.Length >= 4 && "noninteractive".StartsWith(name, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    public Task AddAsync(IReadOnlyList<DnsTxtRecord> records, CancellationToken cancellationToken) =>
        _context.InvokeOnPipelineThreadAsync(() =>
        {
            _show("Create these DNS TXT records:");
            foreach (DnsTxtRecord record in records)
            {
                _show($"  {record.Name}  TXT  \"{record.Value}\"   (for {record.Identifier.Value})");
            }

            _show("Press Enter once they are published (the name servers are checked before the CA is asked).");
            try
            {
                _ui.ReadLine();
            }
            catch (Exception e) when (e is HostException || e is PSInvalidOperationException || e is NotImplementedException)
            {
                throw new AcmeLocalException(AcmeErrorId.ManualNotInteractive, $"-Manual needs someone to press Enter, but this session cannot read input: {e.Message}", e);
            }

            return true;
        });

    public Task RemoveAsync(IReadOnlyList<DnsTxtRecord> records, CancellationToken cancellationToken) =>
        _context.InvokeOnPipelineThreadAsync(() =>
        {
            _show("The DNS TXT records can be deleted now:");
            foreach (DnsTxtRecord record in records)
            {
                _show($"  {record.Name}  TXT  \"{record.Value}\"");
            }

            return true;
        });
}
