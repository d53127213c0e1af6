using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.Protocol.Challenges.Dns01;

/// <summary>
/// Reads a certificate's dns-persist-01 records from the name servers the solver asks (the given ones or
/// the zone's authoritative servers) and says which will not validate the next renewal: missing, naming
/// another account or issuer, no policy=wildcard for a wildcard, or a persistUntil before that renewal.
/// </summary>
public static class PersistentRecordWatch
{
    public static async Task<IReadOnlyList<AcmePersistentRecordProblem>> CheckAsync(IReadOnlyList<AcmePersistentRecord> records,
        DnsPropagationChecker checker, DateTimeOffset nextRenewal, CancellationToken cancellationToken = default)
    {
        if (checker is null)
        {
            throw new ArgumentNullException(nameof(checker));
        }

        var problems = new List<AcmePersistentRecordProblem>();
        foreach (AcmePersistentRecord record in records ?? Array.Empty<AcmePersistentRecord>())
        {
            string? problem;
            try
            {
                problem = Problem(record, await checker.ReadTxtAsync(record.Name, cancellationToken).ConfigureAwait(false), nextRenewal);
            }
            catch (AcmeException e) when (e is not AcmeArgumentException)
            {
                problem = $"it could not be read ({e.Message})";
            }

            if (problem is not null)
            {
                problems.Add(new AcmePersistentRecordProblem(record, problem, nextRenewal));
            }
        }

        return problems;
    }

    /// <summary>Null when every server serves a value that authorizes the record's account at <paramref name="at"/>; else why not (the first server that does not).</summary>
    internal static string? Problem(AcmePersistentRecord record, IReadOnlyList<(DnsNameServer Server, IReadOnlyList<string>? Values, string Answer)> answers,
        DateTimeOffset at)
    {
        if (answers.Count == 0)
        {
            return "it is missing (no name server answers for it)";
        }

        foreach ((DnsNameServer server, IReadOnlyList<string>? values, string answer) in answers)
        {
            if (values is null && answer != "NXDOMAIN")
            {
                // No answer, SERVFAIL, REFUSED: unknown, which is not the same as missing.
                return $"it could not be read ({server}: {answer})";
            }

            if (values is null || values.Count == 0)
            {
                return $"it is missing ({server} answers {answer})";
            }

            List<string?> problems = values.Select(v => DnsPersistRecord.Parse(v) is DnsPersistRecord parsed
                ? parsed.Problem(record.IssuerDomainNames, record.AccountUri, record.Wildcard, at)
                : $"'{v}' is not a dns-persist-01 record").ToList();
            if (problems.All(p => p is not null))
            {
                return $"on {server} {string.Join("; ", problems.Distinct())}";
            }
        }

        return null;
    }
}
