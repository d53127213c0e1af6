using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Acme.TestKit;

/// <summary>
/// A local fake of the acme-dns HTTP API (joohoi/acme-dns), for the AcmeDns provider's "Fake" tests.
/// POST /register makes an account (201, {username, password, fulldomain, subdomain, allowfrom});
/// POST /update checks X-Api-User and X-Api-Key against the account (401 {"error":"forbidden"}), the
/// subdomain (401 {"error":"forbidden"} for another account's) and the value (400 {"error":"bad_txt"}
/// unless 43 characters of base64url), keeps the two latest values as acme-dns does, and serves them
/// through the DNS it mirrors to (pebble-challtestsrv), as acme-dns's own DNS server would.
/// </summary>
public sealed class AcmeDnsFake : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _domain;
    private readonly string? _mirror;
    private readonly HttpClient _http = new();
    private readonly object _gate = new();
    private readonly Dictionary<string, (string Password, string Subdomain)> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _txt = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();

    public AcmeDnsFake(int port, string domain, string? challtestsrvUrl)
    {
        _domain = domain.TrimEnd('.');
        _mirror = challtestsrvUrl?.TrimEnd('/');
        Url = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public string Url { get; }

    /// <summary>"METHOD path -> status" of every request.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Adds an account as /register would have; returns its fulldomain.</summary>
    public string AddAccount(string username, string password, string subdomain)
    {
        lock (_gate)
        {
            _accounts[username] = (password, subdomain);
        }

        return subdomain + "." + _domain;
    }

    public string[] Txt(string subdomain)
    {
        lock (_gate)
        {
            return _txt.TryGetValue(subdomain, out List<string>? values) ? values.ToArray() : Array.Empty<string>();
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
        string body;
        using (var reader = new StreamReader(request.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync().ConfigureAwait(false);
        }

        (int status, object answer) = Route(request, body);
        Requests.Enqueue($"{request.HttpMethod} {request.RawUrl} -> {status}");
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(answer);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.OutputStream.WriteAsync(bytes, 0, bytes.Length).ConfigureAwait(false);
        context.Response.Close();
    }

    private (int, object) Route(HttpListenerRequest request, string body)
    {
        string path = request.Url?.AbsolutePath ?? "/";
        if (request.HttpMethod == "POST" && path == "/register")
        {
            string user = Guid.NewGuid().ToString();
            string password = Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_') + "-fake-pw";
            string subdomain = Guid.NewGuid().ToString();
            string full = AddAccount(user, password, subdomain);
            return (201, new Dictionary<string, object> { ["username"] = user, ["password"] = password, ["fulldomain"] = full, ["subdomain"] = subdomain, ["allowfrom"] = Array.Empty<string>() });
        }

        if (request.HttpMethod == "POST" && path == "/update")
        {
            string? user = request.Headers["X-Api-User"];
            string? key = request.Headers["X-Api-Key"];
            lock (_gate)
            {
                if (user is null || key is null || !_accounts.TryGetValue(user, out var account) || account.Password != key)
                {
                    return (401, new { error = "forbidden" });
                }

                string? subdomain;
                string? txt;
                try
                {
                    using JsonDocument json = JsonDocument.Parse(body);
                    subdomain = json.RootElement.TryGetProperty("subdomain", out JsonElement s) ? s.GetString() : null;
                    txt = json.RootElement.TryGetProperty("txt", out JsonElement t) ? t.GetString() : null;
                }
                catch (JsonException)
                {
                    return (400, new { error = "malformed_json_payload" });
                }

                if (subdomain != account.Subdomain)
                {
                    return (401, new { error = "forbidden" });
                }

                if (txt is null || txt.Length != 43 || txt.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_')))
                {
                    return (400, new { error = "bad_txt" });
                }

                if (!_txt.TryGetValue(subdomain, out List<string>? values))
                {
                    _txt[subdomain] = values = new List<string>();
                }

                values.Add(txt);
                if (values.Count > 2)
                {
                    values.RemoveAt(0);
                }

                Mirror(subdomain + "." + _domain + ".", values);
                return (200, new { txt });
            }
        }

        return (404, new { error = "not_found" });
    }

    private void Mirror(string name, List<string> values)
    {
        if (_mirror is null)
        {
            return;
        }

        Post("/clear-txt", JsonSerializer.Serialize(new { host = name }));
        foreach (string value in values)
        {
            Post("/set-txt", JsonSerializer.Serialize(new { host = name, value }));
        }
    }

    private void Post(string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = _http.PostAsync(_mirror + path, content).GetAwaiter().GetResult();
        response.EnsureSuccessStatusCode();
    }
}
