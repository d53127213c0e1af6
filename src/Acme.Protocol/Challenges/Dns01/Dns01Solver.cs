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
/// dns-01 (RFC 8555 section 8.4): publishes one TXT record per challenge through an
/// <see cref="IDnsRecordPublisher"/>, waits until the name servers serve every value, and withdraws
/// the records afterwards. An alias map moves a record to the name that "_acme-challenge.&lt;name&gt;"
/// is a CNAME of (delegation to a zone the user can write).
/// </summary>
public sealed class Dns01Solver : IChallengeSolver
{
    private readonly IDnsRecordPublisher _publisher;
    private readonly DnsPropagationChecker? _checker;
    private readonly TimeSpan _propagationTimeout;
    private readonly Dictionary<string, string> _aliases;
    private readonly IProgress<AcmeProgress>? _progress;
    private readonly IAcmeLog _log;
    private readonly List<DnsTxtRecord> _published = new();

    /// <param name="checker">Null skips the propagation check.</param>
    /// <param name="aliases">Identifier (or its base name for a wildcard) to the full name the TXT record is published at.</param>
    public Dns01Solver(IDnsRecordPublisher publisher, DnsPropagationChecker? checker, TimeSpan propagationTimeout,
        IDictionary<string, string>? aliases = null, IAcmeLog? log = null, IProgress<AcmeProgress>? progress = null,
        string challengeType = AcmeChallenge.Dns01)
    {
        if (challengeType != AcmeChallenge.Dns01 && challengeType != AcmeChallenge.DnsAccount01)
        {
            throw new ArgumentOutOfRangeException(nameof(challengeType), challengeType, "dns-01 or dns-account-01");
        }

        ChallengeType = challengeType;
        _publisher = publisher ?? throw new ArgumentNullException(nameof(publisher));
        _checker = checker;
        _propagationTimeout = propagationTimeout;
        _aliases = ParseAliases(aliases);
        _log = log ?? NullAcmeLog.Instance;
        _progress = progress;
    }

    /// <summary>dns-01, or dns-account-01 (the same answer at a name that carries the account's label).</summary>
    public string ChallengeType { get; }

    /// <summary>The TXT records the challenges need, after the alias map.</summary>
    public IReadOnlyList<DnsTxtRecord> RecordsFor(IEnumerable<AcmeChallenge> challenges) =>
        challenges.Select(c => new DnsTxtRecord(AliasFor(c) ?? c.DnsRecordName!, c.DnsRecordValue!, c.Identifier)).ToList();

    public async Task PresentAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken)
    {
        IReadOnlyList<DnsTxtRecord> records = RecordsFor(challenges);
        foreach (AcmeChallenge challenge in challenges.Where(c => AliasFor(c) is not null))
        {
            _log.Verbose($"The TXT record for {challenge.Identifier.Value} goes to the alias {AliasFor(challenge)}; {challenge.DnsRecordName} must be a CNAME to it.");
        }

        // Remembered before the first call, so cleanup withdraws even what a failing publisher half-made.
        _published.AddRange(records);
        await _publisher.AddAsync(records, cancellationToken).ConfigureAwait(false);
        if (_checker is null)
        {
            _log.Verbose("The DNS propagation check is skipped.");
            return;
        }

        await _checker.WaitAsync(records, _propagationTimeout, _progress, cancellationToken).ConfigureAwait(false);
    }

    public async Task CleanupAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken)
    {
        if (_published.Count == 0)
        {
            return;
        }

        List<DnsTxtRecord> records = _published.ToList();
        _published.Clear();
        await _publisher.RemoveAsync(records, cancellationToken).ConfigureAwait(false);
    }

    private string? AliasFor(AcmeChallenge challenge)
    {
        string value = challenge.Identifier.Value.ToLowerInvariant();
        return _aliases.TryGetValue(value, out string? alias) || _aliases.TryGetValue(Base(challenge.Identifier), out alias) ? alias : null;
    }

    private static string Base(AcmeIdentifier identifier) =>
        (identifier.IsWildcard ? identifier.Value.Substring(2) : identifier.Value).ToLowerInvariant();

    /// <summary>Checks and normalizes an alias map (lower case, no trailing dots); throws AcmeInvalidDnsAlias.</summary>
    public static Dictionary<string, string> ParseAliases(IDictionary<string, string>? aliases)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> pair in aliases ?? new Dictionary<string, string>())
        {
            string key = DnsMessage.Normalize(pair.Key ?? string.Empty);
            string target = DnsMessage.Normalize(pair.Value ?? string.Empty);
            if (key.Length == 0 || !IsRecordName(target))
            {
                throw new AcmeArgumentException(AcmeErrorId.InvalidDnsAlias,
                    $"The DNS alias '{pair.Key}' = '{pair.Value}' is not valid: map an identifier to the full DNS name its TXT record is published at.");
            }

            map[key] = target;
        }

        return map;
    }

    /// <summary>A DNS owner name: letters, digits, '-' and '_' (record names such as _acme-challenge use it), labels of 1 to 63.</summary>
    private static bool IsRecordName(string name) =>
        name.Length is > 0 and <= 253 && name.Contains('.') &&
        name.Split('.').All(label => label.Length is > 0 and <= 63 && label.All(c => (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'));
}
