using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;

namespace Acme.Protocol.Challenges.Dns01.Providers;

/// <summary>
/// Cloudflare's API v4 with an API token (Bearer): the zone by GET /zones?name= walking up the labels, or
/// given as ZoneId; one TXT record per value, POSTed to /zones/{id}/dns_records and removed by looking it up
/// by type, name and content and deleting it, so other values stay.
/// </summary>
public sealed class CloudflareProvider : DnsProvider
{
    public static DnsProviderInfo Info { get; } = new(
        "Cloudflare",
        "Cloudflare DNS through its API v4 with an API token (Zone:Read and DNS:Edit on the zone).",
        "a local fake of the Cloudflare API v4 (bearer token, zone lookup, record bodies, its error shapes) whose records a real challtestsrv serves to Pebble",
        new[]
        {
            new DnsProviderParameter("ApiToken", DnsProviderParameterType.Secret, true, "an API token with the permissions Zone:Read and DNS:Edit (My Profile > API Tokens)"),
            new DnsProviderParameter("ZoneId", DnsProviderParameterType.String, false, "the zone's id (its Overview page); looked up by name unless set"),
            new DnsProviderParameter("ApiUrl", DnsProviderParameterType.String, false, "the API's base address; https://api.cloudflare.com/client/v4 unless set"),
            new DnsProviderParameter("Ttl", DnsProviderParameterType.Integer, false, "the TTL of the TXT records in seconds (1 is Cloudflare's automatic); 120 unless set"),
        },
        (settings, options) => new CloudflareProvider(settings, options));

    /// <summary>Cloudflare's codes for a token it does not know or a malformed Authorization header.</summary>
    private static readonly HashSet<long> AuthenticationCodes = new() { 6003, 6111, 9103, 9106, 9109 };

    private readonly DnsHttpApi _api;
    private readonly string _base;
    private readonly string _token;
    private readonly string? _zoneId;
    private readonly int _ttl;
    private readonly Dictionary<string, (string Name, string Id)> _zones = new(StringComparer.OrdinalIgnoreCase);

    private CloudflareProvider(DnsProviderSettings settings, DnsProviderOptions options)
    {
        _base = DnsHttpApi.RequireUrl(Name, "ApiUrl", settings.GetString("ApiUrl") is { Length: > 0 } u ? u : "https://api.cloudflare.com/client/v4").ToString().TrimEnd('/');
        _token = settings.RequireString("ApiToken");
        _zoneId = settings.GetString("ZoneId") is { Length: > 0 } z ? z : null;
        _ttl = settings.GetInteger("Ttl") ?? 120;
        _api = new DnsHttpApi(Name, options);
    }

    public override string Name => "Cloudflare";

    public override async Task<string?> FindZoneAsync(string recordName, CancellationToken cancellationToken) =>
        _zoneId is null ? (await ZoneOfAsync(recordName, cancellationToken).ConfigureAwait(false)).Name : null;

    protected override async Task AddTxtAsync(string recordName, IReadOnlyList<string> values, CancellationToken cancellationToken)
    {
        (string zone, string zoneId) = await ZoneOfAsync(recordName, cancellationToken).ConfigureAwait(false);
        string name = DnsMessage.Normalize(recordName);
        foreach (string value in values)
        {
            var body = new JsonObject { ["type"] = "TXT", ["name"] = name, ["content"] = value, ["ttl"] = _ttl };
            DnsHttpAnswer answer = await SendAsync(HttpMethod.Post, $"/zones/{Uri.EscapeDataString(zoneId)}/dns_records", body, cancellationToken).ConfigureAwait(false);
            if (!Succeeded(answer) && !Codes(answer).Contains(81058))
            {
                // 81058: "An identical record already exists" is the value being there, which is what was asked.
                throw Fail(answer, $"adding a TXT record at {name} in the zone {zone}");
            }
        }
    }

    protected override async Task RemoveTxtAsync(string recordName, IReadOnlyList<string> values, CancellationToken cancellationToken)
    {
        (string zone, string zoneId) = await ZoneOfAsync(recordName, cancellationToken).ConfigureAwait(false);
        string name = DnsMessage.Normalize(recordName);
        foreach (string value in values)
        {
            string query = $"/zones/{Uri.EscapeDataString(zoneId)}/dns_records?type=TXT&name={Uri.EscapeDataString(name)}&content={Uri.EscapeDataString(value)}";
            DnsHttpAnswer found = await SendAsync(HttpMethod.Get, query, null, cancellationToken).ConfigureAwait(false);
            if (!Succeeded(found))
            {
                throw Fail(found, $"looking up the TXT records at {name} in the zone {zone}");
            }

            foreach (JsonObject record in Results(found))
            {
                if (record.GetString("id") is not { } id || record.GetString("content")?.Trim('"') != value)
                {
                    continue;
                }

                DnsHttpAnswer deleted = await SendAsync(HttpMethod.Delete, $"/zones/{Uri.EscapeDataString(zoneId)}/dns_records/{Uri.EscapeDataString(id)}", null, cancellationToken).ConfigureAwait(false);
                if (!Succeeded(deleted) && deleted.Status != System.Net.HttpStatusCode.NotFound)
                {
                    throw Fail(deleted, $"deleting a TXT record at {name} in the zone {zone}");
                }
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _api.Dispose();
        }
    }

    private Task<DnsHttpAnswer> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken) =>
        _api.SendJsonAsync(method, _base + path, body, new[] { new KeyValuePair<string, string>("Authorization", "Bearer " + _token) }, cancellationToken);

    private async Task<(string Name, string Id)> ZoneOfAsync(string recordName, CancellationToken cancellationToken)
    {
        string name = DnsMessage.Normalize(recordName);
        if (_zoneId is not null)
        {
            return ("with the id " + _zoneId, _zoneId);
        }

        // _acme-challenge.www.example.com asks for itself, www.example.com, example.com: the first zone found is the closest.
        string[] labels = name.Split('.');
        for (int i = 0; i < labels.Length - 1; i++)
        {
            string candidate = string.Join(".", labels.Skip(i));
            if (_zones.TryGetValue(candidate, out (string Name, string Id) known))
            {
                return known;
            }

            DnsHttpAnswer answer = await SendAsync(HttpMethod.Get, "/zones?name=" + Uri.EscapeDataString(candidate), null, cancellationToken).ConfigureAwait(false);
            if (!Succeeded(answer))
            {
                throw Fail(answer, $"looking up the zone {candidate}");
            }

            JsonObject? zone = Results(answer).FirstOrDefault(z => string.Equals(z.GetString("name"), candidate, StringComparison.OrdinalIgnoreCase));
            if (zone?.GetString("id") is { } id)
            {
                _zones[candidate] = (candidate, id);
                _zones[name] = (candidate, id);
                return (candidate, id);
            }
        }

        throw new AcmeLocalException(AcmeErrorId.DnsProviderZoneNotFound,
            $"Cloudflare has no zone that {name} is in, or the API token cannot read it (it needs Zone:Read on the zone).");
    }

    private static bool Succeeded(DnsHttpAnswer answer) => answer.IsSuccess && answer.Json()?.GetBoolean("success") != false;

    private static IEnumerable<JsonObject> Results(DnsHttpAnswer answer) => (answer.Json()?.GetArray("result") ?? new List<object?>()).OfType<JsonObject>();

    private static IEnumerable<JsonObject> Errors(DnsHttpAnswer answer) => (answer.Json()?.GetArray("errors") ?? new List<object?>()).OfType<JsonObject>();

    private static List<long> Codes(DnsHttpAnswer answer) =>
        Errors(answer).SelectMany(e => new[] { e }.Concat((e.GetArray("error_chain") ?? new List<object?>()).OfType<JsonObject>()))
            .Select(e => e.GetInt64("code")).Where(c => c.HasValue).Select(c => c!.Value).ToList();

    /// <summary>Cloudflare says {"success": false, "errors": [{"code", "message"}]}: a bad token is 400/401/403 with one of <see cref="AuthenticationCodes"/>; a token without DNS:Edit is 403 (code 10000).</summary>
    private AcmeLocalException Fail(DnsHttpAnswer answer, string what)
    {
        string detail = string.Join("; ", Errors(answer).Select(e => $"{e.GetInt64("code")} {e.GetString("message")}"));
        if (detail.Length == 0)
        {
            detail = DnsHttpApi.Detail(answer.Body);
        }

        if (Codes(answer).Any(AuthenticationCodes.Contains))
        {
            return new AcmeLocalException(AcmeErrorId.DnsProviderAuthenticationFailed, $"Cloudflare did not accept the API token when {what}: {detail}");
        }

        if (answer.Status == System.Net.HttpStatusCode.NotFound && Codes(answer).Contains(7003))
        {
            // 7003 "Could not route to /zones/..., perhaps your object identifier is invalid?": a ZoneId Cloudflare does not know.
            return new AcmeLocalException(AcmeErrorId.DnsProviderZoneNotFound, $"Cloudflare has no zone {(_zoneId is null ? string.Empty : "with the id " + _zoneId + " ")}for {what}: {detail}");
        }

        return _api.Fail(answer, what, detail);
    }
}
