using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;

namespace Acme.Protocol.Challenges.Dns01.Providers;

/// <summary>
/// The PowerDNS Authoritative HTTP API (https://doc.powerdns.com/authoritative/http-api/): the zone by
/// listing the server's zones (longest suffix) or given, the TXT record set read and written whole with
/// PATCH rrsets changetype REPLACE (DELETE once the last value goes), so other values stay.
/// </summary>
public sealed class PowerDnsProvider : DnsProvider
{
    public static DnsProviderInfo Info { get; } = new(
        "PowerDNS",
        "The PowerDNS Authoritative Server's HTTP API (api=yes, an api-key): TXT record sets changed with PATCH.",
        "a real PowerDNS Authoritative Server 4.7 with the sqlite3 backend, started by the tests, and Pebble validating against it",
        new[]
        {
            new DnsProviderParameter("ApiUrl", DnsProviderParameterType.String, true, "the API's base address, e.g. http://127.0.0.1:8081 (the webserver-address and webserver-port)"),
            new DnsProviderParameter("ApiKey", DnsProviderParameterType.Secret, true, "the api-key of pdns.conf, sent as X-API-Key"),
            new DnsProviderParameter("ServerId", DnsProviderParameterType.String, false, "the server id in the API's paths; localhost unless set"),
            new DnsProviderParameter("Zone", DnsProviderParameterType.String, false, "the zone to change; found by listing the server's zones unless set"),
            new DnsProviderParameter("Ttl", DnsProviderParameterType.Integer, false, "the TTL of the TXT record set in seconds; 60 unless set"),
        },
        (settings, options) => new PowerDnsProvider(settings, options));

    private readonly DnsHttpApi _api;
    private readonly string _base;
    private readonly string _apiKey;
    private readonly string? _zone;
    private readonly int _ttl;
    private Dictionary<string, string>? _zones;

    private PowerDnsProvider(DnsProviderSettings settings, DnsProviderOptions options)
    {
        Uri url = DnsHttpApi.RequireUrl(Name, "ApiUrl", settings.RequireString("ApiUrl"));
        string server = settings.GetString("ServerId") is { Length: > 0 } s ? s : "localhost";
        _base = url.ToString().TrimEnd('/') + (url.AbsolutePath.TrimEnd('/').EndsWith("/api/v1", StringComparison.Ordinal) ? string.Empty : "/api/v1")
            + "/servers/" + Uri.EscapeDataString(server);
        _apiKey = settings.RequireString("ApiKey");
        _zone = settings.GetString("Zone") is { Length: > 0 } z ? DnsMessage.Normalize(z) : null;
        _ttl = settings.GetInteger("Ttl") ?? 60;
        if (_ttl < 1)
        {
            throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterInvalid, $"The parameter 'Ttl' of the DNS provider {Name} must be a positive number of seconds.");
        }

        _api = new DnsHttpApi(Name, options);
    }

    public override string Name => "PowerDNS";

    public override async Task<string?> FindZoneAsync(string recordName, CancellationToken cancellationToken) =>
        (await ZoneOfAsync(recordName, cancellationToken).ConfigureAwait(false)).Name;

    protected override async Task AddTxtAsync(string recordName, IReadOnlyList<string> values, CancellationToken cancellationToken)
    {
        (string zone, string zoneId) = await ZoneOfAsync(recordName, cancellationToken).ConfigureAwait(false);
        List<string> contents = await ReadTxtAsync(zone, zoneId, recordName, cancellationToken).ConfigureAwait(false);
        contents.AddRange(values.Select(Quote).Where(v => !contents.Contains(v)));
        await PatchAsync(zone, zoneId, recordName, contents, $"adding TXT values to {recordName}", cancellationToken).ConfigureAwait(false);
    }

    protected override async Task RemoveTxtAsync(string recordName, IReadOnlyList<string> values, CancellationToken cancellationToken)
    {
        (string zone, string zoneId) = await ZoneOfAsync(recordName, cancellationToken).ConfigureAwait(false);
        List<string> contents = await ReadTxtAsync(zone, zoneId, recordName, cancellationToken).ConfigureAwait(false);
        var gone = new HashSet<string>(values.Select(Quote), StringComparer.Ordinal);
        if (!contents.Any(gone.Contains))
        {
            return;
        }

        await PatchAsync(zone, zoneId, recordName, contents.Where(c => !gone.Contains(c)).ToList(), $"removing TXT values from {recordName}", cancellationToken).ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _api.Dispose();
        }
    }

    /// <summary>A TXT value as PowerDNS takes it: one quoted character-string.</summary>
    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private IEnumerable<KeyValuePair<string, string>> Headers => new[] { new KeyValuePair<string, string>("X-API-Key", _apiKey) };

    private async Task<(string Name, string Id)> ZoneOfAsync(string recordName, CancellationToken cancellationToken)
    {
        string name = DnsMessage.Normalize(recordName);
        if (_zones is null)
        {
            DnsHttpAnswer answer = await _api.SendJsonAsync(HttpMethod.Get, _base + "/zones", null, Headers, cancellationToken).ConfigureAwait(false);
            if (!answer.IsSuccess)
            {
                throw Fail(answer, "listing the zones");
            }

            _zones = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (JsonObject zone in (answer.JsonArray() ?? new List<object?>()).OfType<JsonObject>())
            {
                if (zone.GetString("name") is { } zoneName)
                {
                    _zones[DnsMessage.Normalize(zoneName)] = zone.GetString("id") ?? zoneName;
                }
            }
        }

        if (_zone is not null)
        {
            if (!_zones.TryGetValue(_zone, out string? id))
            {
                throw new AcmeLocalException(AcmeErrorId.DnsProviderZoneNotFound, $"The PowerDNS server has no zone {_zone}. Its zones: {Names(_zones.Keys)}.");
            }

            if (name != _zone && !name.EndsWith("." + _zone, StringComparison.OrdinalIgnoreCase))
            {
                throw new AcmeLocalException(AcmeErrorId.DnsProviderZoneNotFound, $"{name} is not in the zone {_zone}.");
            }

            return (_zone, id);
        }

        string? best = _zones.Keys.Where(z => name.Equals(z, StringComparison.OrdinalIgnoreCase) || name.EndsWith("." + z, StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(z => z.Length).FirstOrDefault();
        return best is null
            ? throw new AcmeLocalException(AcmeErrorId.DnsProviderZoneNotFound, $"The PowerDNS server has no zone that {name} is in. Its zones: {Names(_zones.Keys)}.")
            : (best, _zones[best]);
    }

    private async Task<List<string>> ReadTxtAsync(string zone, string zoneId, string recordName, CancellationToken cancellationToken)
    {
        DnsHttpAnswer answer = await _api.SendJsonAsync(HttpMethod.Get, ZoneUrl(zoneId), null, Headers, cancellationToken).ConfigureAwait(false);
        if (!answer.IsSuccess)
        {
            throw Fail(answer, $"reading the zone {zone}");
        }

        string fqdn = DnsMessage.Normalize(recordName) + ".";
        JsonObject? rrset = (answer.Json()?.GetArray("rrsets") ?? new List<object?>()).OfType<JsonObject>()
            .FirstOrDefault(r => string.Equals(r.GetString("name"), fqdn, StringComparison.OrdinalIgnoreCase) && r.GetString("type") == "TXT");
        return (rrset?.GetArray("records") ?? new List<object?>()).OfType<JsonObject>()
            .Select(r => r.GetString("content")).Where(c => c is not null).Select(c => c!).ToList();
    }

    private async Task PatchAsync(string zone, string zoneId, string recordName, List<string> contents, string what, CancellationToken cancellationToken)
    {
        var rrset = new JsonObject
        {
            ["name"] = DnsMessage.Normalize(recordName) + ".",
            ["type"] = "TXT",
            ["changetype"] = contents.Count == 0 ? "DELETE" : "REPLACE",
        };
        if (contents.Count > 0)
        {
            rrset["ttl"] = _ttl;
            rrset["records"] = contents.Select(c => (object?)new JsonObject { ["content"] = c, ["disabled"] = false }).ToList();
        }

        var body = new JsonObject { ["rrsets"] = new List<object?> { rrset } };
        DnsHttpAnswer answer = await _api.SendJsonAsync(new HttpMethod("PATCH"), ZoneUrl(zoneId), body, Headers, cancellationToken).ConfigureAwait(false);
        if (!answer.IsSuccess)
        {
            throw Fail(answer, $"{what} in the zone {zone}");
        }
    }

    private string ZoneUrl(string zoneId) => _base + "/zones/" + Uri.EscapeDataString(zoneId);

    /// <summary>PowerDNS says {"error": "..."}; a wrong api-key is 401, an unknown server id or zone 404.</summary>
    private AcmeLocalException Fail(DnsHttpAnswer answer, string what)
    {
        string detail = answer.Json()?.GetString("error") ?? DnsHttpApi.Detail(answer.Body);
        return answer.Status == HttpStatusCode.NotFound
            ? new AcmeLocalException(AcmeErrorId.DnsProviderZoneNotFound, $"The PowerDNS API answered 404 to {what}: {detail} (check the ServerId and the zone).")
            : _api.Fail(answer, what, detail);
    }

    private static string Names(IEnumerable<string> zones) => zones.Any() ? string.Join(", ", zones.OrderBy(z => z, StringComparer.Ordinal)) : "none";
}
