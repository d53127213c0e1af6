using System;
using Acme.Protocol.Json;
using Acme.Protocol.Model;
using Acme.Protocol.Renewal;

namespace Acme.Protocol.State;

/// <summary>
/// What a certificate version's certificate.json records after issuance: the CA's renewal information
/// (RFC 9773) last read for it, and its revocation.
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

    private static string Exact(DateTimeOffset value) => value.UtcDateTime.ToString("o", System.Globalization.CultureInfo.InvariantCulture);
}
