using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Acme.PowerShell.Cmdlets;
using Acme.Protocol.Challenges.Dns01;
using Acme.Protocol.Errors;

namespace Acme.PowerShell.Dns;

/// <summary>
/// Publishes dns-01 TXT records through the user's -AddRecord and -RemoveRecord script blocks, each
/// called once per record with the record name, the value and the identifier, on the pipeline thread.
/// </summary>
internal sealed class ScriptBlockDnsPublisher : IDnsRecordPublisher
{
    private readonly AcmeCmdlet.CmdletContext _context;
    private readonly ScriptBlock _add;
    private readonly ScriptBlock _remove;
    private readonly List<DnsTxtRecord> _started = new();

    public ScriptBlockDnsPublisher(AcmeCmdlet.CmdletContext context, ScriptBlock add, ScriptBlock remove)
    {
        _context = context;
        _add = add;
        _remove = remove;
    }

    public async Task AddAsync(IReadOnlyList<DnsTxtRecord> records, CancellationToken cancellationToken)
    {
        foreach (DnsTxtRecord record in records)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Counted before the call: a block stopped half-way may have created the record.
            _started.Add(record);
            _context.Verbose($"-AddRecord: {record} for {record.Identifier.Value}.");
            try
            {
                await _context.InvokeOnPipelineThreadAsync(() => ScriptBlockRunner.Invoke(_add, _context.IsStopping, false, record.Name, record.Value, record.Identifier.Value))
                    .ConfigureAwait(false);
            }
            catch (Exception e) when (e is RuntimeException && e is not PipelineStoppedException)
            {
                throw new AcmeLocalException(AcmeErrorId.DnsRecordAddFailed, $"-AddRecord failed for {record.Name} ({record.Identifier.Value}): {e.Message}", e);
            }
        }
    }

    public async Task RemoveAsync(IReadOnlyList<DnsTxtRecord> records, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (DnsTxtRecord record in records.Where(_started.Contains).ToList())
        {
            _context.Verbose($"-RemoveRecord: {record} for {record.Identifier.Value}.");
            try
            {
                await _context.InvokeOnPipelineThreadAsync(() => ScriptBlockRunner.Invoke(_remove, _context.IsStopping, true, record.Name, record.Value, record.Identifier.Value))
                    .ConfigureAwait(false);
                _started.Remove(record);
            }
            catch (Exception e) when (e is RuntimeException || e is OperationCanceledException)
            {
                // Keep removing the others; the user has to know which records are left behind.
                failures.Add(record.Name);
                _context.Warning($"-RemoveRecord failed for {record}: {e.Message} Delete the record by hand.");
            }
        }

        if (failures.Count > 0)
        {
            throw new AcmeLocalException(AcmeErrorId.DnsRecordRemoveFailed, $"-RemoveRecord failed for {string.Join(", ", failures)}.");
        }
    }
}
