using System;
using System.Collections.Generic;
using System.Linq;
using Acme.Protocol.Json;
using Acme.Protocol.Model;
using Acme.Protocol.Renewal;

namespace Acme.Protocol.State;

/// <summary>
/// What a certificate version's certificate.json records after issuance: the CA's renewal information
/// (RFC 9773) last read for it, its revocation, where it was exported, and the last failed renewal
/// (which a new version, written whole, no longer carries).
/// </summary>
public sealed partial class AcmeStateStore
{
    /// <summary>The ARI answer saved with a certificate version, if any.</summary>
    internal RenewalState? ReadRenewalState(AcmeCertificate certificate)
    {
        string file = VersionFile(certificate);
        JsonObject? renewal = ReadJson(file)?.GetObject("renewal");
        if (renewal is null)
        {
            return null;
        }

        DateTimeOffset? start = renewal.GetTimestamp("windowStart"), end = renewal.GetTimestamp("windowEnd"), selected = renewal.GetTimestamp("selected");
        DateTimeOffset? checkedAt = renewal.GetTimestamp("checkedAt"), nextCheck = renewal.GetTimestamp("nextCheck");
        if (renewal.GetString("certificateId") is not { } id || start is null || end is null || selected is null || checkedAt is null
            || nextCheck is null || end < start)
        {
            throw Corrupt(file, "its renewal information is incomplete");
        }

        return new RenewalState(id, new RenewalWindow(start.Value, end.Value, selected.Value), renewal.GetUri("explanationUrl"), checkedAt.Value,
            nextCheck.Value);
    }

    internal void WriteRenewalState(AcmeCertificate certificate, RenewalState state)
    {
        string file = VersionFile(certificate);
        JsonObject json = ReadJson(file) ?? throw Corrupt(file, "the file is missing");
        // Round-trip timestamps, not the whole seconds JsonCodec writes: every run must read back exactly the moment chosen.
        var renewal = new JsonObject
        {
            ["certificateId"] = state.CertificateId,
            ["windowStart"] = Exact(state.Window.Start),
            ["windowEnd"] = Exact(state.Window.End),
            ["selected"] = Exact(state.Window.Selected),
            ["checkedAt"] = Exact(state.CheckedAt),
            ["nextCheck"] = Exact(state.NextCheck),
        };
        if (state.ExplanationUrl is not null)
        {
            renewal["explanationUrl"] = state.ExplanationUrl.AbsoluteUri;
        }

        json["renewal"] = renewal;
        WriteJson(file, json);
    }

    /// <summary>The last failed renewal saved with a certificate version, if any.</summary>
    internal RenewalFailure? ReadRenewalFailure(AcmeCertificate certificate)
    {
        string file = VersionFile(certificate);
        JsonObject? failure = ReadJson(file)?.GetObject("renewalFailure");
        if (failure is null)
        {
            return null;
        }

        DateTimeOffset? last = failure.GetTimestamp("lastAttempt"), next = failure.GetTimestamp("nextAttempt");
        if (failure.GetString("error") is not { } error || last is null || next is null || failure.GetInt64("failures") is not { } count)
        {
            throw Corrupt(file, "its renewal failure is incomplete");
        }

        return new RenewalFailure(error, failure.GetString("errorId"), last.Value, (int)Math.Min(count, int.MaxValue), next.Value);
    }

    /// <summary>Saves (or, with null, clears) the last failed renewal with the certificate version.</summary>
    internal void WriteRenewalFailure(AcmeCertificate certificate, RenewalFailure? failure)
    {
        string file = VersionFile(certificate);
        JsonObject json = ReadJson(file) ?? throw Corrupt(file, "the file is missing");
        if (failure is null)
        {
            if (json.Remove("renewalFailure"))
            {
                WriteJson(file, json);
            }

            return;
        }

        var saved = new JsonObject
        {
            ["error"] = failure.Error,
            ["lastAttempt"] = Exact(failure.LastAttempt),
            ["failures"] = (long)failure.Failures,
            ["nextAttempt"] = Exact(failure.NextAttempt),
        };
        if (failure.ErrorId is not null)
        {
            saved["errorId"] = failure.ErrorId;
        }

        json["renewalFailure"] = saved;
        WriteJson(file, json);
    }

    internal void WriteRevocation(AcmeCertificate certificate, DateTimeOffset at, string? reason)
    {
        string file = VersionFile(certificate);
        JsonObject json = ReadJson(file) ?? throw Corrupt(file, "the file is missing");
        var revoked = new JsonObject { ["at"] = at };
        if (reason is not null)
        {
            revoked["reason"] = reason;
        }

        json["revoked"] = revoked;
        WriteJson(file, json);
    }

    /// <summary>The most exports a version's certificate.json keeps; older ones are dropped.</summary>
    internal const int MaxRecordedExports = 20;

    /// <summary>Appends an export to the version's certificate.json ("exports", newest last, at most <see cref="MaxRecordedExports"/>).</summary>
    internal void WriteExport(AcmeCertificate certificate, CertificateExport export)
    {
        string file = VersionFile(certificate);
        if (ReadJson(file) is not { } json)
        {
            // The version was removed from the state folder (Remove-AcmeCertificate) after it was read.
            return;
        }

        var entry = new JsonObject { ["at"] = Exact(export.At) };
        void Put(string name, string? value)
        {
            if (value is not null)
            {
                entry[name] = value;
            }
        }

        Put("certFile", export.CertFile);
        Put("chainFile", export.ChainFile);
        Put("fullChainFile", export.FullChainFile);
        Put("keyFile", export.KeyFile);
        Put("pfxFile", export.PfxFile);
        var exports = (json.GetArray("exports") ?? new List<object?>()).Where(e => e is JsonObject).ToList();
        exports.Add(entry);
        json["exports"] = exports.Skip(Math.Max(0, exports.Count - MaxRecordedExports)).ToList();
        WriteJson(file, json);
    }

    /// <summary>The exports recorded in a version's certificate.json, oldest first.</summary>
    private static IEnumerable<CertificateExport> ReadExports(JsonObject json) =>
        (json.GetArray("exports") ?? new List<object?>()).OfType<JsonObject>()
            .Where(e => e.GetTimestamp("at") is not null)
            .Select(e => new CertificateExport(e.GetTimestamp("at")!.Value, e.GetString("certFile"), e.GetString("chainFile"), e.GetString("fullChainFile"),
                e.GetString("keyFile"), e.GetString("pfxFile")));

    private static string Exact(DateTimeOffset value) => value.UtcDateTime.ToString("o", System.Globalization.CultureInfo.InvariantCulture);
}
