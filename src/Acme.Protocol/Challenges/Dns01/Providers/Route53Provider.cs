using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using System.Xml.Linq;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Challenges.Dns01.Providers;

/// <summary>
/// Amazon Route 53 (REST API 2013-04-01, SigV4-signed): the hosted zone found by
/// ListHostedZonesByName (the longest zone the name is in) or given, the TXT record set read
/// (ListResourceRecordSets) so values already there are kept, one ChangeResourceRecordSets batch per
/// zone per save (UPSERT of the whole value set; DELETE when the last value goes), then GetChange polled
/// until INSYNC.
/// </summary>
public sealed class Route53Provider : DnsProvider
{
    private const string Xmlns = "https://route53.amazonaws.com/doc/2013-04-01/";
    private static readonly XNamespace Ns = Xmlns;

    public static DnsProviderInfo Info { get; } = new(
        "Route53",
        "Amazon Route 53 through its REST API, signed with AWS Signature Version 4; waits for the change to be INSYNC.",
        "a local fake of the Route 53 API that verifies the SigV4 signature",
        new[]
        {
            new DnsProviderParameter("AccessKeyId", DnsProviderParameterType.String, false, "the IAM access key id; AWS_ACCESS_KEY_ID when not given"),
            new DnsProviderParameter("SecretAccessKey", DnsProviderParameterType.Secret, false, "the secret access key; AWS_SECRET_ACCESS_KEY when not given"),
            new DnsProviderParameter("SessionToken", DnsProviderParameterType.Secret, false, "a session token of temporary credentials; AWS_SESSION_TOKEN when not given"),
            new DnsProviderParameter("Region", DnsProviderParameterType.String, false, "the signing region (default us-east-1, Route 53 is global)"),
            new DnsProviderParameter("HostedZoneId", DnsProviderParameterType.String, false, "the hosted zone id (Z...); found from the name when not given"),
            new DnsProviderParameter("ApiUrl", DnsProviderParameterType.String, false, "the API endpoint (default https://route53.amazonaws.com)"),
            new DnsProviderParameter("Ttl", DnsProviderParameterType.Integer, false, "the TTL of new TXT record sets in seconds (default 60)"),
            new DnsProviderParameter("InSyncTimeoutSec", DnsProviderParameterType.Integer, false, "how long to wait for a change to be INSYNC (default 300)"),
        },
        (settings, options) => new Route53Provider(settings, options));

    private readonly DnsProviderOptions _options;
    private readonly HttpClient _http;
    private readonly AwsCredentials _credentials;
    private readonly string _region;
    private readonly Uri _api;
    private readonly string? _zoneId;
    private readonly int _ttl;
    private readonly TimeSpan _inSyncTimeout;
    private readonly Dictionary<string, (string Id, string Name)> _zones = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<XElement>> _pending = new(StringComparer.Ordinal);

    private Route53Provider(DnsProviderSettings settings, DnsProviderOptions options)
    {
        _options = options;
        string? keyId = Setting(settings, "AccessKeyId", "AWS_ACCESS_KEY_ID");
        string? secret = Setting(settings, "SecretAccessKey", "AWS_SECRET_ACCESS_KEY");
        if (keyId is null || secret is null)
        {
            throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterMissing,
                "The DNS provider Route53 needs the parameters 'AccessKeyId' and 'SecretAccessKey' (or the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).");
        }

        _credentials = new AwsCredentials(keyId, secret, Setting(settings, "SessionToken", "AWS_SESSION_TOKEN"));
        _region = settings.Has("Region") ? settings.RequireString("Region") : "us-east-1";
        string api = settings.Has("ApiUrl") ? settings.RequireString("ApiUrl") : "https://route53.amazonaws.com";
        if (!Uri.TryCreate(api.TrimEnd('/') + "/", UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new AcmeArgumentException(AcmeErrorId.DnsProviderParameterInvalid, $"The parameter 'ApiUrl' of the DNS provider Route53 is not an http(s) URL: '{api}'.");
        }

        _api = uri;
        _zoneId = settings.Has("HostedZoneId") ? ZoneIdOf(settings.RequireString("HostedZoneId")) : null;
        _ttl = settings.GetInteger("Ttl") ?? 60;
        _inSyncTimeout = TimeSpan.FromSeconds(settings.GetInteger("InSyncTimeoutSec") ?? 300);
        _http = options.CreateHttpClient();
    }

    public override string Name => "Route53";

    /// <summary>Poll interval of GetChange; the first poll comes after it.</summary>
    internal TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    public override async Task<string?> FindZoneAsync(string recordName, CancellationToken cancellationToken) =>
        (await ZoneAsync(recordName, cancellationToken).ConfigureAwait(false)).Name;

    protected override async Task AddTxtAsync(string recordName, IReadOnlyList<string> values, CancellationToken cancellationToken)
    {
        (string zoneId, _) = await ZoneAsync(recordName, cancellationToken).ConfigureAwait(false);
        (int? ttl, List<string> current) = await ReadAsync(zoneId, recordName, cancellationToken).ConfigureAwait(false);
        List<string> wanted = current.Concat(values.Select(Quote)).Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == current.Count)
        {
            _options.Log.Verbose($"Route 53: {recordName} already has the TXT values.");
            return;
        }

        Queue(zoneId, Change("UPSERT", recordName, ttl ?? _ttl, wanted));
    }

    protected override async Task RemoveTxtAsync(string recordName, IReadOnlyList<string> values, CancellationToken cancellationToken)
    {
        (string zoneId, _) = await ZoneAsync(recordName, cancellationToken).ConfigureAwait(false);
        (int? ttl, List<string> current) = await ReadAsync(zoneId, recordName, cancellationToken).ConfigureAwait(false);
        var ours = new HashSet<string>(values.Select(Quote), StringComparer.Ordinal);
        List<string> left = current.Where(v => !ours.Contains(v)).ToList();
        if (ttl is null || left.Count == current.Count)
        {
            return;
        }

        // A DELETE must name the record set exactly as it is.
        Queue(zoneId, left.Count == 0 ? Change("DELETE", recordName, ttl.Value, current) : Change("UPSERT", recordName, ttl.Value, left));
    }

    protected override async Task SaveAsync(bool adding, CancellationToken cancellationToken)
    {
        var changes = new List<string>();

        // Taken out first: a batch that fails leaves nothing queued for the next save (the cleanup).
        List<KeyValuePair<string, List<XElement>>> batches = _pending.ToList();
        _pending.Clear();
        foreach (KeyValuePair<string, List<XElement>> zone in batches)
        {
            var body = new XDocument(new XElement(Ns + "ChangeResourceRecordSetsRequest",
                new XElement(Ns + "ChangeBatch",
                    new XElement(Ns + "Comment", adding ? "ACME dns-01 challenge" : "ACME dns-01 challenge cleanup"),
                    new XElement(Ns + "Changes", zone.Value))));
            _options.Log.Verbose($"Route 53: sending {zone.Value.Count} change(s) to hosted zone {zone.Key}.");
            XDocument answer = await SendAsync(HttpMethod.Post, $"2013-04-01/hostedzone/{zone.Key}/rrset", body, cancellationToken).ConfigureAwait(false);
            string id = Value(answer, "Id") ?? throw Failed("Route 53 answered a change without a ChangeInfo Id.");
            changes.Add(id.Substring(id.LastIndexOf('/') + 1));
        }

        foreach (string change in changes)
        {
            await WaitInSyncAsync(change, cancellationToken).ConfigureAwait(false);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _http.Dispose();
        }
    }

    private static string? Setting(DnsProviderSettings settings, string name, string variable) =>
        settings.Has(name) ? settings.GetString(name) : Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : null;

    private static string ZoneIdOf(string id) => id.Substring(id.LastIndexOf('/') + 1);

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static string? Value(XDocument document, string localName) =>
        document.Descendants().FirstOrDefault(e => e.Name.LocalName == localName)?.Value;

    private static AcmeLocalException Failed(string message) => new(AcmeErrorId.DnsProviderFailed, message);

    private void Queue(string zoneId, XElement change)
    {
        if (!_pending.TryGetValue(zoneId, out List<XElement>? list))
        {
            _pending[zoneId] = list = new List<XElement>();
        }

        list.Add(change);
    }

    private XElement Change(string action, string recordName, int ttl, IEnumerable<string> values) =>
        new(Ns + "Change",
            new XElement(Ns + "Action", action),
            new XElement(Ns + "ResourceRecordSet",
                new XElement(Ns + "Name", recordName + "."),
                new XElement(Ns + "Type", "TXT"),
                new XElement(Ns + "TTL", ttl),
                new XElement(Ns + "ResourceRecords", values.Select(v => new XElement(Ns + "ResourceRecord", new XElement(Ns + "Value", v))))));

    private async Task<(string Id, string Name)> ZoneAsync(string recordName, CancellationToken cancellationToken)
    {
        if (_zones.TryGetValue(recordName, out (string Id, string Name) known))
        {
            return known;
        }

        if (_zoneId is not null)
        {
            XDocument zone = await SendAsync(HttpMethod.Get, $"2013-04-01/hostedzone/{_zoneId}", null, cancellationToken).ConfigureAwait(false);
            string name = (Value(zone, "Name") ?? recordName).TrimEnd('.');
            return _zones[recordName] = (_zoneId, name);
        }

        // Longest first: _acme-challenge.www.example.com, www.example.com, example.com, com.
        string[] labels = recordName.Split('.');
        for (int i = 0; i < labels.Length; i++)
        {
            string candidate = string.Join(".", labels.Skip(i));
            XDocument list = await SendAsync(HttpMethod.Get, "2013-04-01/hostedzonesbyname?dnsname=" + Uri.EscapeDataString(candidate), null, cancellationToken)
                .ConfigureAwait(false);
            XElement? match = list.Descendants(Ns + "HostedZone")
                .Where(z => string.Equals(z.Element(Ns + "Name")?.Value.TrimEnd('.'), candidate, StringComparison.OrdinalIgnoreCase))
                .OrderBy(z => string.Equals(z.Element(Ns + "Config")?.Element(Ns + "PrivateZone")?.Value, "true", StringComparison.OrdinalIgnoreCase))
                .FirstOrDefault();
            if (match is not null)
            {
                string id = ZoneIdOf(match.Element(Ns + "Id")?.Value ?? throw Failed("Route 53 listed a hosted zone without an Id."));
                _options.Log.Verbose($"Route 53: {recordName} is in the hosted zone {candidate} ({id}).");
                return _zones[recordName] = (id, candidate);
            }
        }

        throw new AcmeLocalException(AcmeErrorId.DnsProviderRefused,
            $"Route 53 has no hosted zone that {recordName} is in, for these credentials. Create the zone, or give the hosted zone id (HostedZoneId).");
    }

    private async Task<(int? Ttl, List<string> Values)> ReadAsync(string zoneId, string recordName, CancellationToken cancellationToken)
    {
        XDocument list = await SendAsync(HttpMethod.Get,
            $"2013-04-01/hostedzone/{zoneId}/rrset?name={Uri.EscapeDataString(recordName + ".")}&type=TXT&maxitems=1", null, cancellationToken).ConfigureAwait(false);

        // The list starts at the name; the first set may be another name's.
        XElement? set = list.Descendants(Ns + "ResourceRecordSet").FirstOrDefault(s =>
            string.Equals(s.Element(Ns + "Name")?.Value.TrimEnd('.'), recordName, StringComparison.OrdinalIgnoreCase)
            && s.Element(Ns + "Type")?.Value == "TXT");
        if (set is null)
        {
            return (null, new List<string>());
        }

        int ttl = int.TryParse(set.Element(Ns + "TTL")?.Value, out int t) ? t : _ttl;
        return (ttl, set.Descendants(Ns + "Value").Select(v => v.Value).ToList());
    }

    private async Task WaitInSyncAsync(string change, CancellationToken cancellationToken)
    {
        DateTime deadline = DateTime.UtcNow + _inSyncTimeout;
        string status = "PENDING";
        TimeSpan wait = PollInterval;
        while (true)
        {
            XDocument answer = await SendAsync(HttpMethod.Get, $"2013-04-01/change/{change}", null, cancellationToken).ConfigureAwait(false);
            status = Value(answer, "Status") ?? status;
            if (status == "INSYNC")
            {
                _options.Log.Verbose($"Route 53: change {change} is INSYNC.");
                return;
            }

            if (DateTime.UtcNow + wait > deadline)
            {
                throw Failed($"The Route 53 change {change} was still {status} after {_inSyncTimeout.TotalSeconds:0} s; Route 53 has not yet served it on all its name servers.");
            }

            _options.Log.Verbose($"Route 53: change {change} is {status}; asking again in {wait.TotalSeconds:0} s.");
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
        }
    }

    private async Task<XDocument> SendAsync(HttpMethod method, string path, XDocument? body, CancellationToken cancellationToken)
    {
        var uri = new Uri(_api, path);
        byte[] payload = body is null ? Array.Empty<byte>() : Encoding.UTF8.GetBytes(body.Declaration + body.ToString(SaveOptions.DisableFormatting));
        using var request = new HttpRequestMessage(method, uri);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(payload);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/xml");
        }

        AwsSigV4.Sign(request, payload, _credentials, _region, "route53", DateTime.UtcNow);
        _options.Log.Verbose($"Route 53: {method} {uri.AbsolutePath}");
        HttpResponseMessage response;
        string text;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new AcmeLocalException(AcmeErrorId.DnsProviderUnreachable, $"Route 53 at {_api} did not answer: {e.Message}", e);
        }

        using (response)
        {
            XDocument? document = null;
            try
            {
                document = text.Length == 0 ? new XDocument() : XDocument.Parse(text);
            }
            catch (System.Xml.XmlException)
            {
            }

            if (response.IsSuccessStatusCode && document is not null)
            {
                return document;
            }

            string code = (document is null ? null : Value(document, "Code")) ?? response.StatusCode.ToString();
            string detail = (document is null ? null : Value(document, "Message")) ?? "no error document";
            string message = $"Route 53 refused {method} {uri.AbsolutePath}: {(int)response.StatusCode} {code}: {detail}";
            throw new AcmeLocalException(code switch
            {
                "SignatureDoesNotMatch" or "InvalidClientTokenId" or "IncompleteSignature" or "MissingAuthenticationToken" or "ExpiredToken"
                    or "UnrecognizedClientException" or "InvalidSignatureException" => AcmeErrorId.DnsProviderAuthenticationFailed,
                _ when response.StatusCode == HttpStatusCode.Unauthorized => AcmeErrorId.DnsProviderAuthenticationFailed,
                "AccessDenied" or "NoSuchHostedZone" => AcmeErrorId.DnsProviderRefused,
                _ when response.StatusCode == HttpStatusCode.Forbidden => AcmeErrorId.DnsProviderRefused,
                _ => AcmeErrorId.DnsProviderFailed,
            }, message);
        }
    }
}
