using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Crypto;

namespace Acme.Protocol.Tests;

/// <summary>
/// A scripted ACME server behind an HttpMessageHandler: routes by method and path, hands out nonces,
/// and records every request. For choreography tests and for what Pebble 2.4 cannot do (ARI,
/// profiles, server Retry-After); the tests that use it say so in their names.
/// </summary>
internal sealed class FakeAcmeServer : HttpMessageHandler
{
    public const string Base = "https://fake.acme.test";
    private readonly ConcurrentDictionary<string, Func<Recorded, HttpResponseMessage>> _routes = new();
    private int _nonce;

    public FakeAcmeServer()
    {
        Route("GET", "/dir", _ => Json(200, new JsonObject
        {
            ["newNonce"] = Base + "/nonce",
            ["newAccount"] = Base + "/account",
            ["newOrder"] = Base + "/order",
            ["revokeCert"] = Base + "/revoke",
            ["keyChange"] = Base + "/key-change",
            ["meta"] = new JsonObject { ["termsOfService"] = Base + "/tos", ["caaIdentities"] = new JsonArray("fake.test") },
        }));
        Route("HEAD", "/nonce", _ => new HttpResponseMessage(HttpStatusCode.OK));
    }

    public List<Recorded> Requests { get; } = new();

    public Uri Directory => new(Base + "/dir");

    public bool IssueNonces { get; set; } = true;

    public void Route(string method, string path, Func<Recorded, HttpResponseMessage> handler) => _routes[method + " " + path] = handler;

    public int Count(string method, string path) => Requests.Count(r => r.Method == method && r.Path == path);

    public static HttpResponseMessage Json(int status, JsonNode body, string contentType = "application/json")
    {
        return new HttpResponseMessage((HttpStatusCode)status)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, contentType),
        };
    }

    public static HttpResponseMessage Problem(int status, string type, string detail) =>
        Json(status, new JsonObject { ["type"] = "urn:ietf:params:acme:error:" + type, ["detail"] = detail, ["status"] = status },
            "application/problem+json");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
        var recorded = new Recorded(request.Method.Method, request.RequestUri!.AbsolutePath, body);
        lock (Requests)
        {
            Requests.Add(recorded);
        }

        if (!_routes.TryGetValue(recorded.Method + " " + recorded.Path, out var handler))
        {
            return Problem(404, "malformed", "no route " + recorded.Method + " " + recorded.Path);
        }

        HttpResponseMessage response = handler(recorded);
        if (IssueNonces && !response.Headers.Contains("Replay-Nonce"))
        {
            response.Headers.Add("Replay-Nonce", "nonce" + Interlocked.Increment(ref _nonce));
        }

        return response;
    }

    internal sealed class Recorded
    {
        public Recorded(string method, string path, string body)
        {
            Method = method;
            Path = path;
            Body = body;
            if (body.Length > 0)
            {
                JsonNode jws = JsonNode.Parse(body)!;
                Protected = JsonNode.Parse(Encoding.UTF8.GetString(Base64Url.Decode((string)jws["protected"]!)))!.AsObject();
                string payload = (string)jws["payload"]!;
                Payload = payload.Length == 0 ? null : JsonNode.Parse(Encoding.UTF8.GetString(Base64Url.Decode(payload)));
            }
        }

        public string Method { get; }

        public string Path { get; }

        public string Body { get; }

        public JsonObject? Protected { get; }

        public JsonNode? Payload { get; }

        public string? Nonce => (string?)Protected?["nonce"];
    }
}
