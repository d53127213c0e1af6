using System;

namespace Acme.Protocol.Model;

/// <summary>
/// A dns-persist-01 record that will not carry the certificate's next renewal (missing, another account,
/// no policy=wildcard for a wildcard, persistUntil before the renewal), with the record to set instead.
/// </summary>
public sealed class AcmePersistentRecordProblem
{
    internal AcmePersistentRecordProblem(AcmePersistentRecord record, string problem, DateTimeOffset nextRenewal)
    {
        Identifier = record.Identifier;
        Name = record.Name;
        Value = record.Value;
        Problem = problem;
        NextRenewal = nextRenewal;
    }

    /// <summary>The name (or names) the record validates.</summary>
    public string Identifier { get; }

    /// <summary>The TXT record name to set.</summary>
    public string Name { get; }

    /// <summary>The TXT record value to set (as Get-AcmeDnsPersistRecord returns it, without persistUntil).</summary>
    public string Value { get; }

    /// <summary>What is wrong with the record the name servers serve now.</summary>
    public string Problem { get; }

    /// <summary>The latest moment the next renewal is expected: the record must still be valid then.</summary>
    public DateTimeOffset NextRenewal { get; }

    public override string ToString() =>
        $"The dns-persist-01 record for {Identifier} will not validate the next renewal (by {NextRenewal.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z): {Problem}. " +
        $"Set the TXT record {Name} to \"{Value}\" (no persistUntil, or one after {NextRenewal.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z).";
}
