using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Web;

namespace Acme.TestKit;

/// <summary>
/// A local fake of Cloudflare's API v4 (https://developers.cloudflare.com/api/), the parts a DNS-01
/// client uses: GET /zones?name=, GET/POST /zones/{id}/dns_records, DELETE /zones/{id}/dns_records/{id}.
/// It checks what Cloudflare checks: "Authorization: Bearer" with the one token it issued (a malformed
/// header is 400 6003/6111, another token 403 9109), the zone id, the record body (type, name inside the
/// zone, content, ttl 1 or 60..86400), an identical record (400 81058), and a zone the token may only read
/// (403 10000). Answers have Cloudflare's envelope: success, errors, messages, result (and result_info).
/// </summary>
public sealed class CloudflareFake : CloudDnsFake
{
    private readonly Dictionary<string, string> _zones = new(StringComparer.OrdinalIgnoreCase); // name -> id
    private readonly HashSet<string> _readOnly = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (string Zone, string Name, string Content)> _records = new(StringComparer.Ordinal);

    public CloudflareFake() => Token = Convert.ToHexString(RandomNumberGenerator.GetBytes(20)).ToLowerInvariant();

    /// <summary>The API token the fake accepts.</summary>
    public string Token { get; }

    /// <summary>The API base address, as the provider's ApiUrl.</summary>
    public string ApiUrl => Url + "/client/v4";

    /// <summary>Adds a zone the token can edit (or only read), returning its id.</summary>
    public string AddZone(string name, bool readOnly = false)
    {
        lock (Sync)
        {
            string id = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
            _zones[name] = id;
            if (readOnly)
            {
                _readOnly.Add(id);
            }

            return id;
        }
    }

    protected override (int Status, JsonNode? Body) Handle(string method, Uri url, NameValueHeaders headers, string body)
    {
        string? auth = headers.Get("Authorization");
        if (auth is null || !auth.StartsWith("Bearer ", StringComparison.Ordinal) || auth.Length <= 7)
        {
            return (400, Envelope(null, Error(6003, "Invalid request headers", Error(6111, "Invalid format for Authorization header"))));
        }

        if (auth.Substring(7) != Token)
        {
            return (403, Envelope(null, Error(9109, "Invalid access token")));
        }

        string[] path = url.AbsolutePath.Trim('/').Split('/');
        if (path.Length < 3 || path[0] != "client" || path[1] != "v4" || path[2] != "zones")
        {
            return (404, Envelope(null, Error(7003, "Could not route to " + url.AbsolutePath + ", perhaps your object identifier is invalid?")));
        }

        var query = HttpUtility.ParseQueryString(url.Query);
        lock (Sync)
        {
            if (path.Length == 3 && method == "GET")
            {
                var result = new JsonArray();
                foreach (KeyValuePair<string, string> z in _zones.Where(z => query["name"] is null || string.Equals(z.Key, query["name"], StringComparison.OrdinalIgnoreCase)))
                {
                    result.Add(new JsonObject { ["id"] = z.Value, ["name"] = z.Key, ["status"] = "active", ["permissions"] = new JsonArray("#zone:read", "#dns_records:" + (_readOnly.Contains(z.Value) ? "read" : "edit")) });
                }

                return (200, Envelope(result, null, result.Count));
            }

            string? zone = path.Length >= 5 && path[4] == "dns_records" ? _zones.FirstOrDefault(z => z.Value == path[3]).Key : null;
            if (zone is null)
            {
                return (404, Envelope(null, Error(7003, "Could not route to " + url.AbsolutePath + ", perhaps your object identifier is invalid?")));
            }

            string zoneId = path[3];
            if (method == "GET" && path.Length == 5)
            {
                var result = new JsonArray();
                foreach (KeyValuePair<string, (string Zone, string Name, string Content)> r in _records.Where(r => r.Value.Zone == zoneId
                    && (query["type"] is null || query["type"] == "TXT")
                    && (query["name"] is null || string.Equals(query["name"], r.Value.Name, StringComparison.OrdinalIgnoreCase))
                    && (query["content"] is null || query["content"] == r.Value.Content)))
                {
                    result.Add(Record(r.Key, r.Value));
                }

                return (200, Envelope(result, null, result.Count));
            }

            if (_readOnly.Contains(zoneId))
            {
                return (403, Envelope(null, Error(10000, "Authentication error")));
            }

            if (method == "POST" && path.Length == 5)
            {
                JsonObject? record = ParseJson(body) as JsonObject;
                string? type = record?["type"]?.GetValue<string>();
                string? name = record?["name"]?.GetValue<string>()?.TrimEnd('.').ToLowerInvariant();
                string? content = record?["content"]?.GetValue<string>();
                int ttl = record?["ttl"]?.GetValue<int>() ?? 1;
                if (type != "TXT" || name is null || content is null || content.Length == 0 || (ttl != 1 && (ttl < 60 || ttl > 86400))
                    || !(name == zone || name.EndsWith("." + zone, StringComparison.OrdinalIgnoreCase)))
                {
                    return (400, Envelope(null, Error(9005, "Content for TXT record is invalid or the name is not in the zone.")));
                }

                if (_records.Values.Any(r => r.Zone == zoneId && r.Name == name && r.Content == content))
                {
                    return (400, Envelope(null, Error(81058, "An identical record already exists.")));
                }

                string id = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
                _records[id] = (zoneId, name, content);
                Publish(zoneId, name);
                return (200, Envelope(Record(id, _records[id]), null));
            }

            if (method == "DELETE" && path.Length == 6)
            {
                if (!_records.TryGetValue(path[5], out (string Zone, string Name, string Content) gone) || gone.Zone != zoneId)
                {
                    return (404, Envelope(null, Error(81044, "Record does not exist.")));
                }

                _records.Remove(path[5]);
                Publish(zoneId, gone.Name);
                return (200, Envelope(new JsonObject { ["id"] = path[5] }, null));
            }

            return (405, Envelope(null, Error(10405, "Method not allowed")));
        }
    }

    private void Publish(string zoneId, string name) =>
        SetTxt(name, _records.Values.Where(r => r.Zone == zoneId && r.Name == name).Select(r => r.Content));

    private static JsonObject Record(string id, (string Zone, string Name, string Content) r) =>
        new() { ["id"] = id, ["zone_id"] = r.Zone, ["type"] = "TXT", ["name"] = r.Name, ["content"] = r.Content, ["ttl"] = 120, ["proxied"] = false };

    private static JsonObject Error(int code, string message, JsonObject? chained = null)
    {
        var e = new JsonObject { ["code"] = code, ["message"] = message };
        if (chained is not null)
        {
            e["error_chain"] = new JsonArray(chained);
        }

        return e;
    }

    private static JsonObject Envelope(JsonNode? result, JsonObject? error, int? count = null)
    {
        var o = new JsonObject
        {
            ["success"] = error is null,
            ["errors"] = error is null ? new JsonArray() : new JsonArray(error),
            ["messages"] = new JsonArray(),
            ["result"] = result,
        };
        if (count is { } c)
        {
            o["result_info"] = new JsonObject { ["page"] = 1, ["per_page"] = 100, ["count"] = c, ["total_count"] = c, ["total_pages"] = 1 };
        }

        return o;
    }
}
