using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using System.Xml.Linq;

namespace Acme.TestKit;

/// <summary>
/// A local fake of the Amazon Route 53 REST API (2013-04-01), for the Route53 provider's "Fake" tests.
/// It checks what the real endpoint checks: a SigV4 Authorization header for service route53 whose
/// signature it recomputes itself from the request it received and its copy of the secret (403
/// SignatureDoesNotMatch, InvalidClientTokenId, IncompleteSignature, RequestExpired, as documented),
/// hosted zones by name, record sets per zone (a DELETE must match the set exactly, names must be in
/// the zone: 400 InvalidChangeBatch), denied zones (403 AccessDenied). A change is PENDING on its first
/// GetChange and INSYNC on the next; only then are its TXT values served by the DNS the fake mirrors to
/// (pebble-challtestsrv's management API), as Route 53's name servers serve a change once INSYNC.
/// </summary>
public sealed class Route53Fake : IDisposable
{
    private static readonly XNamespace Ns = "https://route53.amazonaws.com/doc/2013-04-01/";
    private readonly HttpListener _listener = new();
    private readonly string _accessKeyId;
    private readonly string _secret;
    private readonly string? _mirror;
    private readonly HttpClient _http = new();
    private readonly object _gate = new();
    private readonly Dictionary<string, string> _zones = new(StringComparer.Ordinal); // id -> name with dot
    private readonly Dictionary<(string Zone, string Name), (int Ttl, List<string> Values)> _sets = new();
    private readonly Dictionary<string, (int Polls, List<string> Names)> _changes = new();
    private readonly CancellationTokenSource _stop = new();
    private int _nextChange;

    public Route53Fake(int port, string accessKeyId, string secretAccessKey, string? challtestsrvUrl)
    {
        _accessKeyId = accessKeyId;
        _secret = secretAccessKey;
        _mirror = challtestsrvUrl?.TrimEnd('/');
        Url = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public string Url { get; }

    /// <summary>"METHOD path?query" of every request, and the error code answered, if any.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Zone ids POSTs to which are refused with AccessDenied.</summary>
    public HashSet<string> DeniedZones { get; } = new(StringComparer.Ordinal);

    /// <summary>The session token requests must carry (X-Amz-Security-Token), when set.</summary>
    public string? RequiredSessionToken { get; set; }

    /// <summary>The largest number of TXT values any name had at once, by name (without the dot).</summary>
    public ConcurrentDictionary<string, int> MostValues { get; } = new(StringComparer.OrdinalIgnoreCase);

    public int ChangeBatches { get; private set; }

    public string AddZone(string id, string name)
    {
        lock (_gate)
        {
            _zones[id] = name.TrimEnd('.') + ".";
        }

        return id;
    }

    /// <summary>The TXT values (unquoted) at <paramref name="name"/> in any zone.</summary>
    public string[] Txt(string name)
    {
        lock (_gate)
        {
            return _sets.Where(s => string.Equals(s.Key.Name, name.TrimEnd('.') + ".", StringComparison.OrdinalIgnoreCase))
                .SelectMany(s => s.Value.Values).Select(v => v.Trim('"')).ToArray();
        }
    }

    public void SetTxt(string zoneId, string name, int ttl, params string[] values)
    {
        lock (_gate)
        {
            _sets[(zoneId, name.TrimEnd('.') + ".")] = (ttl, values.Select(v => "\"" + v + "\"").ToList());
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _http.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        HttpListenerRequest request = context.Request;
        byte[] body;
        using (var buffer = new MemoryStream())
        {
            await request.InputStream.CopyToAsync(buffer).ConfigureAwait(false);
            body = buffer.ToArray();
        }

        string rawUrl = request.RawUrl ?? "/";
        (int status, XElement answer) = Authenticate(request, rawUrl, body) ?? Route(request.HttpMethod, rawUrl, body);
        string code = answer.Name.LocalName == "ErrorResponse" ? " -> " + answer.Descendants(Ns + "Code").First().Value : string.Empty;
        Requests.Enqueue(request.HttpMethod + " " + rawUrl + code);
        byte[] bytes = Encoding.UTF8.GetBytes(new XDocument(new XDeclaration("1.0", "UTF-8", null), answer).ToString());
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/xml";
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        await context.Response.OutputStream.WriteAsync(bytes, 0, bytes.Length).ConfigureAwait(false);
        context.Response.Close();
    }

    private static (int, XElement) Error(int status, string code, string message) =>
        (status, new XElement(Ns + "ErrorResponse",
            new XElement(Ns + "Error", new XElement(Ns + "Type", "Sender"), new XElement(Ns + "Code", code), new XElement(Ns + "Message", message)),
            new XElement(Ns + "RequestId", Guid.NewGuid().ToString())));

    // The check of Signature Version 4 as the AWS General Reference describes it, written here on its own.
    private (int, XElement)? Authenticate(HttpListenerRequest request, string rawUrl, byte[] body)
    {
        string? authorization = request.Headers["Authorization"];
        string? amzDate = request.Headers["X-Amz-Date"];
        if (authorization is null)
        {
            return Error(403, "MissingAuthenticationToken", "Missing Authentication Token");
        }

        const string prefix = "AWS4-HMAC-SHA256 ";
        if (!authorization.StartsWith(prefix, StringComparison.Ordinal) || amzDate is null)
        {
            return Error(403, "IncompleteSignature", "Authorization header requires a AWS4-HMAC-SHA256 signature and X-Amz-Date.");
        }

        var parts = authorization.Substring(prefix.Length).Split(',')
            .Select(p => p.Trim().Split(new[] { '=' }, 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        if (!parts.TryGetValue("Credential", out string? credential) || !parts.TryGetValue("SignedHeaders", out string? signedHeaders)
            || !parts.TryGetValue("Signature", out string? signature))
        {
            return Error(403, "IncompleteSignature", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'.");
        }

        string[] scope = credential.Split('/');
        if (scope.Length != 5 || scope[4] != "aws4_request")
        {
            return Error(403, "IncompleteSignature", "Credential should be scoped to a valid region, service and date.");
        }

        if (scope[0] != _accessKeyId)
        {
            return Error(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
        }

        if (scope[3] != "route53" || scope[2] != "us-east-1")
        {
            return Error(403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region (us-east-1) and to the correct service: 'route53'.");
        }

        if (!DateTime.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime at)
            || Math.Abs((DateTime.UtcNow - at).TotalMinutes) > 5 || scope[1] != amzDate.Substring(0, 8))
        {
            return Error(403, "RequestExpired", "Request has expired or its date does not match the credential scope.");
        }

        string[] names = signedHeaders.Split(';');
        if (!names.Contains("host") || !names.Contains("x-amz-date"))
        {
            return Error(403, "SignatureDoesNotMatch", "Host and x-amz-date must be signed.");
        }

        if (!string.IsNullOrEmpty(RequiredSessionToken) && (request.Headers["X-Amz-Security-Token"] != RequiredSessionToken || !names.Contains("x-amz-security-token")))
        {
            return Error(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
        }

        int q = rawUrl.IndexOf('?');
        string path = q < 0 ? rawUrl : rawUrl.Substring(0, q);
        string query = q < 0 ? string.Empty : rawUrl.Substring(q + 1);
        var canonicalQuery = query.Split('&').Where(p => p.Length > 0).Select(p =>
        {
            string[] kv = p.Split(new[] { '=' }, 2);
            return Encode(WebUtility.UrlDecode(kv[0])) + "=" + Encode(kv.Length > 1 ? WebUtility.UrlDecode(kv[1]) : string.Empty);
        }).OrderBy(x => x, StringComparer.Ordinal);
        var canonical = new StringBuilder();
        canonical.Append(request.HttpMethod).Append('\n');
        canonical.Append(string.Join("/", path.Split('/').Select(Encode))).Append('\n');
        canonical.Append(string.Join("&", canonicalQuery)).Append('\n');
        foreach (string name in names)
        {
            string value = request.Headers[name] ?? string.Empty;
            canonical.Append(name).Append(':').Append(System.Text.RegularExpressions.Regex.Replace(value.Trim(), " +", " ")).Append('\n');
        }

        canonical.Append('\n').Append(signedHeaders).Append('\n').Append(Hex(SHA256.HashData(body)));
        string stringToSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + string.Join("/", scope.Skip(1)) + "\n"
            + Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
        byte[] key = Encoding.UTF8.GetBytes("AWS4" + _secret);
        foreach (string step in scope.Skip(1))
        {
            key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(step));
        }

        string expected = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        return expected == signature ? null : Error(403, "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
    }

    private static string Encode(string value)
    {
        var builder = new StringBuilder();
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            bool plain = b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' || "-_.~".IndexOf((char)b) >= 0;
            builder.Append(plain ? ((char)b).ToString() : "%" + b.ToString("X2", CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    private static string ReversedKey(string name) => string.Join(".", name.TrimEnd('.').ToLowerInvariant().Split('.').Reverse());

    private (int, XElement) Route(string method, string rawUrl, byte[] body)
    {
        var uri = new Uri("http://fake" + rawUrl);
        var query = System.Web.HttpUtility.ParseQueryString(uri.Query);
        string[] segments = uri.AbsolutePath.Trim('/').Split('/');
        lock (_gate)
        {
            if (method == "GET" && segments is ["2013-04-01", "hostedzonesbyname"])
            {
                string start = ReversedKey(query["dnsname"] ?? string.Empty);
                int max = int.TryParse(query["maxitems"], out int m) ? m : 100;
                var zones = _zones.OrderBy(z => ReversedKey(z.Value), StringComparer.Ordinal).Where(z => string.CompareOrdinal(ReversedKey(z.Value), start) >= 0).Take(max);
                return (200, new XElement(Ns + "ListHostedZonesByNameResponse",
                    new XElement(Ns + "HostedZones", zones.Select(z => new XElement(Ns + "HostedZone",
                        new XElement(Ns + "Id", "/hostedzone/" + z.Key), new XElement(Ns + "Name", z.Value), new XElement(Ns + "CallerReference", z.Key),
                        new XElement(Ns + "Config", new XElement(Ns + "PrivateZone", "false")), new XElement(Ns + "ResourceRecordSetCount", 2)))),
                    new XElement(Ns + "DNSName", query["dnsname"]), new XElement(Ns + "IsTruncated", "false"), new XElement(Ns + "MaxItems", max)));
            }

            if (segments is ["2013-04-01", "hostedzone", var zoneId, ..] && !_zones.ContainsKey(zoneId))
            {
                return Error(404, "NoSuchHostedZone", $"No hosted zone found with ID: {zoneId}");
            }

            if (method == "GET" && segments is ["2013-04-01", "hostedzone", var id])
            {
                return (200, new XElement(Ns + "GetHostedZoneResponse", new XElement(Ns + "HostedZone",
                    new XElement(Ns + "Id", "/hostedzone/" + id), new XElement(Ns + "Name", _zones[id]))));
            }

            if (method == "GET" && segments is ["2013-04-01", "hostedzone", var listZone, "rrset"])
            {
                string start = ReversedKey(query["name"] ?? string.Empty);
                int max = int.TryParse(query["maxitems"], out int m) ? m : 100;
                var sets = _sets.Where(s => s.Key.Zone == listZone).OrderBy(s => ReversedKey(s.Key.Name), StringComparer.Ordinal)
                    .Where(s => string.CompareOrdinal(ReversedKey(s.Key.Name), start) >= 0).Take(max);
                return (200, new XElement(Ns + "ListResourceRecordSetsResponse",
                    new XElement(Ns + "ResourceRecordSets", sets.Select(s => new XElement(Ns + "ResourceRecordSet",
                        new XElement(Ns + "Name", s.Key.Name), new XElement(Ns + "Type", "TXT"), new XElement(Ns + "TTL", s.Value.Ttl),
                        new XElement(Ns + "ResourceRecords", s.Value.Values.Select(v => new XElement(Ns + "ResourceRecord", new XElement(Ns + "Value", v))))))),
                    new XElement(Ns + "IsTruncated", "false"), new XElement(Ns + "MaxItems", max)));
            }

            if (method == "POST" && segments is ["2013-04-01", "hostedzone", var changeZone, "rrset"])
            {
                return DeniedZones.Contains(changeZone)
                    ? Error(403, "AccessDenied", $"User is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/{changeZone}")
                    : Change(changeZone, body);
            }

            if (method == "GET" && segments is ["2013-04-01", "change", var change] && _changes.TryGetValue(change, out var state))
            {
                _changes[change] = (state.Polls + 1, state.Names);
                bool inSync = state.Polls >= 1;
                if (inSync && state.Polls == 1)
                {
                    Mirror(state.Names);
                }

                return (200, new XElement(Ns + "GetChangeResponse", ChangeInfo(change, inSync ? "INSYNC" : "PENDING")));
            }

            return Error(404, "NoSuchChange", $"No such resource: {method} {uri.AbsolutePath}");
        }
    }

    private static XElement ChangeInfo(string id, string status) =>
        new(Ns + "ChangeInfo", new XElement(Ns + "Id", "/change/" + id), new XElement(Ns + "Status", status),
            new XElement(Ns + "SubmittedAt", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)));

    private (int, XElement) Change(string zoneId, byte[] body)
    {
        XElement[] changes;
        try
        {
            changes = XDocument.Parse(Encoding.UTF8.GetString(body)).Descendants(Ns + "Change").ToArray();
        }
        catch (System.Xml.XmlException e)
        {
            return Error(400, "InvalidInput", "Could not parse the request body: " + e.Message);
        }

        if (changes.Length == 0)
        {
            return Error(400, "InvalidInput", "No changes (the ChangeBatch must be in the namespace https://route53.amazonaws.com/doc/2013-04-01/).");
        }

        var next = new Dictionary<(string, string), (int, List<string>)>(_sets);
        var names = new List<string>();
        foreach (XElement change in changes)
        {
            string action = change.Element(Ns + "Action")?.Value ?? string.Empty;
            XElement? set = change.Element(Ns + "ResourceRecordSet");
            string name = (set?.Element(Ns + "Name")?.Value ?? string.Empty).TrimEnd('.') + ".";
            string type = set?.Element(Ns + "Type")?.Value ?? string.Empty;
            bool ttlOk = int.TryParse(set?.Element(Ns + "TTL")?.Value, out int ttl);
            List<string> values = set?.Descendants(Ns + "Value").Select(v => v.Value).ToList() ?? new List<string>();
            if (type != "TXT" || !ttlOk || values.Count == 0 || values.Any(v => v.Length < 2 || v[0] != '"' || v[^1] != '"'))
            {
                return Error(400, "InvalidChangeBatch", $"[Invalid Resource Record: FATAL problem: a TXT set needs a TTL and quoted values, encountered with '{name}']");
            }

            string zone = _zones[zoneId];
            if (!name.Equals(zone, StringComparison.OrdinalIgnoreCase) && !name.EndsWith("." + zone, StringComparison.OrdinalIgnoreCase))
            {
                return Error(400, "InvalidChangeBatch", $"[RRSet with DNS name {name} is not permitted in zone {zone}]");
            }

            var key = (zoneId, name);
            switch (action)
            {
                case "UPSERT":
                    next[key] = (ttl, values);
                    break;
                case "CREATE" when !next.ContainsKey(key):
                    next[key] = (ttl, values);
                    break;
                case "DELETE" when next.TryGetValue(key, out var old) && old.Item1 == ttl && old.Item2.OrderBy(v => v).SequenceEqual(values.OrderBy(v => v)):
                    next.Remove(key);
                    break;
                case "DELETE":
                    return Error(400, "InvalidChangeBatch", $"[Tried to delete resource record set [name='{name}', type='TXT'] but the values provided do not match the current values]");
                default:
                    return Error(400, "InvalidChangeBatch", $"[Tried to create resource record set [name='{name}', type='TXT'] but it already exists or the action '{action}' is unknown]");
            }

            names.Add(name);
            MostValues.AddOrUpdate(name.TrimEnd('.'), values.Count, (_, n) => Math.Max(n, action == "DELETE" ? 0 : values.Count));
        }

        _sets.Clear();
        foreach (var pair in next)
        {
            _sets[pair.Key] = pair.Value;
        }

        ChangeBatches++;
        string id = "C" + Interlocked.Increment(ref _nextChange).ToString("D6", CultureInfo.InvariantCulture);
        _changes[id] = (0, names);
        return (200, new XElement(Ns + "ChangeResourceRecordSetsResponse", ChangeInfo(id, "PENDING")));
    }

    // What Route 53's name servers serve once a change is INSYNC, through challtestsrv (the DNS Pebble asks).
    private void Mirror(List<string> names)
    {
        if (_mirror is null)
        {
            return;
        }

        foreach (string name in names.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            Post("/clear-txt", "{\"host\":\"" + name + "\"}");
            foreach (string value in _sets.Where(s => s.Key.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).SelectMany(s => s.Value.Values))
            {
                Post("/set-txt", "{\"host\":\"" + name + "\",\"value\":\"" + value.Trim('"') + "\"}");
            }
        }
    }

    private void Post(string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = _http.PostAsync(_mirror + path, content).GetAwaiter().GetResult();
        response.EnsureSuccessStatusCode();
    }
}
