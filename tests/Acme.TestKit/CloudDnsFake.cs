using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;

namespace Acme.TestKit;

/// <summary>
/// The base of the local fakes of cloud DNS APIs (Cloudflare, Azure): an HTTP server on loopback that
/// holds TXT records by name, logs every call, and, when <see cref="ChallTestSrvUrl"/> is set, serves
/// every change through a real pebble-challtestsrv (its /set-txt and /clear-txt), so that Pebble and the
/// propagation check see exactly the records the fake holds, as a cloud's name servers would.
/// </summary>
public abstract class CloudDnsFake : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly HttpClient _mirror = new();
    private readonly Task _loop;

    protected CloudDnsFake()
    {
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePort();
            try
            {
                _listener.Prefixes.Clear();
                _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                _listener.Start();
                Url = $"http://127.0.0.1:{port}";
                break;
            }
            catch (HttpListenerException) when (attempt < 10)
            {
            }
        }

        _loop = Task.Run(LoopAsync);
    }

    /// <summary>http://127.0.0.1:port, no trailing slash.</summary>
    public string Url { get; }

    /// <summary>pebble-challtestsrv's management address; null keeps the records in the fake only.</summary>
    public string? ChallTestSrvUrl { get; set; }

    /// <summary>"METHOD /path?query status" of every request, in order.</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>"name: value value" after every change of a name's TXT values, in order ("name:" once none are left).</summary>
    public ConcurrentQueue<string> History { get; } = new();

    /// <summary>Every Authorization header and request body the fake received, for tests that look for secrets in them (they must be there, not elsewhere).</summary>
    public ConcurrentQueue<string> Received { get; } = new();

    protected object Sync { get; } = new();

    /// <summary>The TXT values at each name (lower case, no trailing dot).</summary>
    protected Dictionary<string, List<string>> Records { get; } = new(StringComparer.OrdinalIgnoreCase);

    public string[] GetTxt(string name)
    {
        lock (Sync)
        {
            return Records.TryGetValue(name.TrimEnd('.'), out List<string>? v) ? v.ToArray() : Array.Empty<string>();
        }
    }

    public string[] Names()
    {
        lock (Sync)
        {
            return Records.Where(r => r.Value.Count > 0).Select(r => r.Key).OrderBy(k => k, StringComparer.Ordinal).ToArray();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _listener.Stop();
            _listener.Close();
        }
        catch (ObjectDisposedException)
        {
        }

        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _mirror.Dispose();
    }

    /// <summary>Answers one request: status and JSON body (null for none).</summary>
    protected abstract (int Status, JsonNode? Body) Handle(string method, Uri url, NameValueHeaders headers, string body);

    /// <summary>Sets a name's values (under <see cref="Sync"/>) and serves them through challtestsrv.</summary>
    protected void SetTxt(string name, IEnumerable<string> values)
    {
        name = name.TrimEnd('.').ToLowerInvariant();
        List<string> list = values.ToList();
        Records[name] = list;
        History.Enqueue($"{name}: {string.Join(" ", list)}".TrimEnd());
        if (ChallTestSrvUrl is null)
        {
            return;
        }

        Post("/clear-txt", new JsonObject { ["host"] = name + "." });
        foreach (string value in list)
        {
            Post("/set-txt", new JsonObject { ["host"] = name + ".", ["value"] = value });
        }
    }

    protected static JsonNode? ParseJson(string body)
    {
        try
        {
            return body.Length == 0 ? null : JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private void Post(string path, JsonObject body)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using HttpResponseMessage response = _mirror.PostAsync(ChallTestSrvUrl!.TrimEnd('/') + path, content).GetAwaiter().GetResult();
        response.EnsureSuccessStatusCode();
    }

    private async Task LoopAsync()
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

            _ = Task.Run(() => Serve(context));
        }
    }

    private void Serve(HttpListenerContext context)
    {
        HttpListenerRequest request = context.Request;
        string body;
        using (var reader = new StreamReader(request.InputStream, Encoding.UTF8))
        {
            body = reader.ReadToEnd();
        }

        var headers = new NameValueHeaders(request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => request.Headers[k!] ?? string.Empty, StringComparer.OrdinalIgnoreCase));
        Received.Enqueue((headers.Get("Authorization") ?? string.Empty) + " " + body);
        (int status, JsonNode? answer) = (500, null);
        try
        {
            (status, answer) = Handle(request.HttpMethod, request.Url!, headers, body);
        }
        catch (Exception e)
        {
            (status, answer) = (500, new JsonObject { ["fakeError"] = e.ToString() });
        }

        Calls.Enqueue($"{request.HttpMethod} {request.Url!.PathAndQuery} {status}");
        HttpListenerResponse response = context.Response;
        response.StatusCode = status;
        if (answer is not null)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(answer.ToJsonString());
            response.ContentType = "application/json; charset=utf-8";
            response.ContentLength64 = bytes.Length;
            response.OutputStream.Write(bytes, 0, bytes.Length);
        }

        response.Close();
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        try
        {
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        finally
        {
            probe.Stop();
        }
    }
}

/// <summary>Request headers by name, case-insensitive.</summary>
public sealed class NameValueHeaders
{
    private readonly Dictionary<string, string> _values;

    public NameValueHeaders(Dictionary<string, string> values) => _values = values;

    public string? Get(string name) => _values.TryGetValue(name, out string? v) ? v : null;
}
