using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Issuance;
using Acme.Protocol.Model;

namespace Acme.Protocol.Challenges.Dns01;

/// <summary>
/// dns-persist-01 (draft-ietf-acme-dns-persist): the TXT record at "_validation-persist.&lt;name&gt;"
/// names the CA and the account and stays. The solver asks the name servers first and publishes only
/// a record that is missing or does not authorize this account (wrong account, no policy=wildcard for
/// a wildcard, persistUntil passed); a valid record means no DNS change at all. Nothing is withdrawn.
/// </summary>
public sealed class DnsPersist01Solver : IChallengeSolver
{
    private readonly IDnsRecordPublisher _publisher;
    private readonly DnsPropagationChecker _checker;
    private readonly bool _waitForPropagation;
    private readonly TimeSpan _propagationTimeout;
    private readonly DateTimeOffset? _persistUntil;
    private readonly IProgress<AcmeProgress>? _progress;
    private readonly IAcmeLog _log;

    /// <param name="checker">Asks the name servers for the existing record (and waits for a new one when <paramref name="waitForPropagation"/>).</param>
    /// <param name="persistUntil">The persistUntil a newly published record carries, or null for none.</param>
    public DnsPersist01Solver(IDnsRecordPublisher publisher, DnsPropagationChecker checker, bool waitForPropagation, TimeSpan propagationTimeout,
        DateTimeOffset? persistUntil = null, IAcmeLog? log = null, IProgress<AcmeProgress>? progress = null)
    {
        _publisher = publisher ?? throw new ArgumentNullException(nameof(publisher));
        _checker = checker ?? throw new ArgumentNullException(nameof(checker));
        _waitForPropagation = waitForPropagation;
        _propagationTimeout = propagationTimeout;
        _persistUntil = persistUntil;
        _log = log ?? NullAcmeLog.Instance;
        _progress = progress;
    }

    public string ChallengeType => AcmeChallenge.DnsPersist01;

    /// <summary>How many records the last <see cref="PresentAsync"/> published (0 when every one was already valid).</summary>
    public int Published { get; private set; }

    /// <summary>The record each challenge needs, with this solver's persistUntil.</summary>
    public DnsTxtRecord RecordFor(AcmeChallenge challenge)
    {
        Uri account = challenge.AccountUri ?? challenge.Account?.Location
            ?? throw new AcmeProtocolException($"The dns-persist-01 challenge for {challenge.Identifier.Value} names no account URL.");
        string issuer = challenge.IssuerDomainNames.FirstOrDefault()
            ?? throw new AcmeProtocolException($"The dns-persist-01 challenge for {challenge.Identifier.Value} names no issuer domain name.");
        return new DnsTxtRecord(challenge.DnsRecordName!, DnsPersistRecord.Format(issuer, account, challenge.Identifier.IsWildcard, _persistUntil),
            challenge.Identifier);
    }

    public async Task PresentAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken)
    {
        var missing = new List<DnsTxtRecord>();
        foreach (AcmeChallenge challenge in challenges)
        {
            DnsTxtRecord record = RecordFor(challenge);
            string? why = await WhyNotValidAsync(challenge, record.Name, cancellationToken).ConfigureAwait(false);
            if (why is null)
            {
                _log.Verbose($"The persistent TXT record {record.Name} already authorizes this account; no DNS change.");
                continue;
            }

            _log.Verbose($"The persistent TXT record {record.Name} is to be published: {why}.");
            missing.Add(record);
        }

        Published = missing.Count;
        if (missing.Count == 0)
        {
            return;
        }

        await _publisher.AddAsync(missing, cancellationToken).ConfigureAwait(false);
        if (!_waitForPropagation)
        {
            _log.Verbose("The DNS propagation check is skipped.");
            return;
        }

        await _checker.WaitAsync(missing, _propagationTimeout, _progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The records are persistent: nothing is withdrawn.</summary>
    public Task CleanupAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken)
    {
        if (Published > 0)
        {
            _log.Verbose($"The {Published} persistent TXT record(s) stay in place for the next renewal.");
        }

        return Task.CompletedTask;
    }

    /// <summary>Null when every name server serves a record that authorizes the challenge's account now; else why not.</summary>
    private async Task<string?> WhyNotValidAsync(AcmeChallenge challenge, string name, CancellationToken cancellationToken)
    {
        Uri account = challenge.AccountUri ?? challenge.Account!.Location;
        foreach ((DnsNameServer server, IReadOnlyList<string>? values, string answer) in
            await _checker.ReadTxtAsync(name, cancellationToken).ConfigureAwait(false))
        {
            if (values is null || values.Count == 0)
            {
                return $"{server} answers {answer}";
            }

            List<string?> problems = values.Select(v => DnsPersistRecord.Parse(v) is DnsPersistRecord record
                ? record.Problem(challenge.IssuerDomainNames, account, challenge.Identifier.IsWildcard, DateTimeOffset.UtcNow)
                : $"'{v}' is not a dns-persist-01 record").ToList();
            if (problems.All(p => p is not null))
            {
                return $"on {server} {string.Join("; ", problems)}";
            }
        }

        return null;
    }
}
