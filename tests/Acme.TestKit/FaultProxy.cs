using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace Acme.TestKit;

/// <summary>
/// A real HTTPS proxy in front of an ACME server (Pebble), on loopback, that injects faults per test.
/// The client under test talks to it exactly as to a CA: its own HttpClientHandler, TLS (the proxy
/// has its own throwaway root, <see cref="RootCertificatePath"/>), keep-alive connections, real
/// resets and real slow answers. Requests go to the upstream with their Host header unchanged, so
/// Pebble writes the proxy's address into every URL it returns and checks the JWS "url" against it.
/// </summary>
public sealed class FaultProxy : IDisposable
{
    private static readonly HashSet<string> s_hopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Upgrade", "Proxy-Connection", "TE", "Trailer",
    };

    private readonly Uri _upstream;
    private readonly HttpClient _upstreamClient;
    private readonly TcpListener _listener;
    private readonly TcpListener _otherHost;
    private readonly X509Certificate2 _serverCertificate;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<FaultRule> _rules = new();
    private readonly List<ProxiedRequest> _requests = new();
    private readonly ConcurrentDictionary<TcpClient, byte> _open = new();
    private string _newNoncePath = "/nonce-plz";
    private int _otherHostConnections;

    private FaultProxy(Uri upstreamDirectory)
    {
        _upstream = new Uri(upstreamDirectory.GetLeftPart(UriPartial.Authority));
        _upstreamClient = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            // Test-only: the upstream is a throwaway Pebble on loopback with its own per-run certificate.
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        })
        { Timeout = TimeSpan.FromSeconds(60) };

        (RootCertificate, _serverCertificate) = CreateCertificates();
        RootCertificatePath = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "acme-fault-proxy-" + Guid.NewGuid().ToString("N").Substring(0, 8) + ".pem");
        File.WriteAllText(RootCertificatePath, RootCertificate.ExportCertificatePem());

        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start(256);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _otherHost = new TcpListener(IPAddress.Loopback, 0);
        _otherHost.Start();
        OtherHostUrl = $"https://localhost:{((IPEndPoint)_otherHost.LocalEndpoint).Port}/";
        Directory = $"https://127.0.0.1:{Port}{upstreamDirectory.PathAndQuery}";
        _ = Task.Run(AcceptLoopAsync);
        _ = Task.Run(OtherHostLoopAsync);
    }

    /// <summary>Starts a proxy for the ACME directory at <paramref name="upstreamDirectory"/>.</summary>
    public static FaultProxy Start(string upstreamDirectory)
    {
        var proxy = new FaultProxy(new Uri(upstreamDirectory));
        try
        {
            proxy.LearnNewNoncePath(new Uri(upstreamDirectory));
        }
        catch
        {
            proxy.Dispose();
            throw;
        }

        return proxy;
    }

    /// <summary>The directory URL to give the client: the upstream's path on the proxy's address.</summary>
    public string Directory { get; }

    public int Port { get; }

    /// <summary>The proxy's own root, to trust with -TrustedRootCertificate.</summary>
    public X509Certificate2 RootCertificate { get; }

    /// <summary>The proxy's root as a PEM file.</summary>
    public string RootCertificatePath { get; }

    /// <summary>Where redirects point by default: another host, whose every connection is counted.</summary>
    public string OtherHostUrl { get; }

    /// <summary>How many connections reached the "other host" (a client that followed a redirect).</summary>
    public int OtherHostConnections => Volatile.Read(ref _otherHostConnections);

    /// <summary>Every request so far, oldest first.</summary>
    public ProxiedRequest[] Requests
    {
        get
        {
            lock (_requests)
            {
                return _requests.ToArray();
            }
        }
    }

    public FaultRule Add(FaultRule rule)
    {
        lock (_rules)
        {
            _rules.Add(rule ?? throw new ArgumentNullException(nameof(rule)));
        }

        return rule;
    }

    /// <summary>Removes every rule: from now on requests pass through untouched.</summary>
    public void Clear()
    {
        lock (_rules)
        {
            _rules.Clear();
        }
    }

    /// <summary>Forgets the requests seen so far.</summary>
    public void ResetLog()
    {
        lock (_requests)
        {
            _requests.Clear();
        }
    }

    /// <summary>How many requests with this method had a path matching <paramref name="pathPattern"/>.</summary>
    public int Count(string method, string pathPattern) =>
        Requests.Count(r => string.Equals(r.Method, method, StringComparison.OrdinalIgnoreCase) && Regex.IsMatch(r.Path, pathPattern));

    private void LearnNewNoncePath(Uri directory)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, directory);
        using HttpResponseMessage response = _upstreamClient.Send(request);
        using var json = JsonDocument.Parse(response.Content.ReadAsStream());
        if (json.RootElement.TryGetProperty("newNonce", out JsonElement nonce) && Uri.TryCreate(nonce.GetString(), UriKind.Absolute, out Uri? url))
        {
            _newNoncePath = url.AbsolutePath;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            _open[client] = 0;
            _ = Task.Run(() => ServeConnectionAsync(client));
        }
    }

    private async Task OtherHostLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                TcpClient client = await _otherHost.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
                Interlocked.Increment(ref _otherHostConnections);
                client.Dispose();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
            }
        }
    }

    private async Task ServeConnectionAsync(TcpClient client)
    {
        try
        {
            using (client)
            using (var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false))
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = _serverCertificate,
                    ApplicationProtocols = new List<SslApplicationProtocol> { SslApplicationProtocol.Http11 },
                }, _stop.Token).ConfigureAwait(false);
                var reader = new RequestReader(tls);
                while (!_stop.IsCancellationRequested)
                {
                    IncomingRequest? request = await reader.ReadAsync(_stop.Token).ConfigureAwait(false);
                    if (request is null || !await HandleAsync(request, tls, client).ConfigureAwait(false))
                    {
                        return;
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException
            or AuthenticationException or HttpRequestException or InvalidDataException)
        {
            // The client went away, or a fault cut the connection on purpose.
        }
        finally
        {
            _open.TryRemove(client, out _);
        }
    }

    /// <summary>Answers one request; false when the connection must not be used again.</summary>
    private async Task<bool> HandleAsync(IncomingRequest request, Stream client, TcpClient tcp)
    {
        (RequestClass requestClass, string? nonce) = Classify(request);
        FaultRule? rule;
        lock (_rules)
        {
            rule = _rules.FirstOrDefault(r => r.Matches(request.Method, request.Path, requestClass) && r.TryHit());
        }

        var record = new ProxiedRequest(request.Method, request.Path, requestClass, nonce, rule?.Kind);
        lock (_requests)
        {
            _requests.Add(record);
        }

        CancellationToken token = _stop.Token;
        bool head = request.Method == "HEAD";
        Answer? forwarded = null;
        if (rule is not null && TampersWithAnswer(rule.Kind))
        {
            forwarded = await ForwardAsync(request, token).ConfigureAwait(false);
            if (forwarded.Status >= 400)
            {
                // The CA refused this one itself (Pebble's random badNonce): pass it on untouched and keep
                // the fault for the request the client sends next, so a test hits what it means to hit.
                lock (_rules)
                {
                    rule.Undo();
                }

                record.Status = forwarded.Status;
                record.ReplayNonce = forwarded.ReplayNonce;
                await forwarded.WriteAsync(client, head, token).ConfigureAwait(false);
                return true;
            }
        }

        switch (rule?.Kind)
        {
            case null:
            {
                Answer answer = await ForwardAsync(request, token).ConfigureAwait(false);
                record.Status = answer.Status;
                record.ReplayNonce = answer.ReplayNonce;
                await answer.WriteAsync(client, head, token).ConfigureAwait(false);
                return true;
            }

            case FaultKind.ServiceUnavailable:
                record.Status = 503;
                await Synthesized(503, "text/html", "<html><body><h1>503 Service Unavailable</h1>Back soon.</body></html>", rule.RetryAfter)
                    .WriteAsync(client, head, token).ConfigureAwait(false);
                return true;

            case FaultKind.RateLimited:
            {
                Answer limited = Synthesized(429, "application/problem+json",
                    "{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"detail\":\"Fault proxy: too many new orders recently\",\"status\":429}",
                    rule.RetryAfter);
                string? fresh = await FreshNonceAsync(request, token).ConfigureAwait(false);
                if (fresh is not null)
                {
                    limited.Headers.Add(("Replay-Nonce", fresh));
                }

                record.Status = 429;
                record.ReplayNonce = fresh;
                await limited.WriteAsync(client, head, token).ConfigureAwait(false);
                return true;
            }

            case FaultKind.ResetMidResponse:
            {
                Answer answer = forwarded!;
                byte[] headBytes = answer.HeadBytes(answer.Body.Length);
                await client.WriteAsync(headBytes, token).ConfigureAwait(false);
                await client.WriteAsync(answer.Body.AsMemory(0, answer.Body.Length / 2), token).ConfigureAwait(false);
                await client.FlushAsync(token).ConfigureAwait(false);
                tcp.Client.LingerState = new LingerOption(true, 0);
                tcp.Client.Close();
                return false;
            }

            case FaultKind.SlowResponse:
            {
                await Task.Delay(rule.DelayMilliseconds, token).ConfigureAwait(false);
                Answer answer = await ForwardAsync(request, token).ConfigureAwait(false);
                record.Status = answer.Status;
                await answer.WriteAsync(client, head, token).ConfigureAwait(false);
                return true;
            }

            case FaultKind.SlowBody:
            {
                Answer answer = forwarded!;
                record.Status = answer.Status;
                await client.WriteAsync(answer.HeadBytes(answer.Body.Length), token).ConfigureAwait(false);
                foreach (byte b in answer.Body)
                {
                    await client.FlushAsync(token).ConfigureAwait(false);
                    await Task.Delay(rule.DelayMilliseconds, token).ConfigureAwait(false);
                    await client.WriteAsync(new[] { b }, token).ConfigureAwait(false);
                }

                return true;
            }

            case FaultKind.TruncateBody:
            {
                Answer answer = forwarded!;
                answer.Body = answer.Body.Take(answer.Body.Length / 2).ToArray();
                record.Status = answer.Status;
                await answer.WriteAsync(client, head, token).ConfigureAwait(false);
                return true;
            }

            case FaultKind.DropReplayNonce:
            case FaultKind.DropHeader:
            {
                Answer answer = forwarded!;
                string drop = rule.Kind == FaultKind.DropReplayNonce ? "Replay-Nonce" : rule.Header ?? string.Empty;
                answer.Headers.RemoveAll(h => h.Name.Equals(drop, StringComparison.OrdinalIgnoreCase));
                record.Status = answer.Status;
                await answer.WriteAsync(client, head, token).ConfigureAwait(false);
                return true;
            }

            case FaultKind.WrongContentType:
            {
                Answer answer = forwarded!;
                answer.Headers.RemoveAll(h => h.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase));
                answer.Headers.Add(("Content-Type", rule.ContentType ?? "text/html"));
                record.Status = answer.Status;
                await answer.WriteAsync(client, head, token).ConfigureAwait(false);
                return true;
            }

            case FaultKind.HugeBody:
            case FaultKind.HugeBodyUndeclared:
            {
                bool declared = rule.Kind == FaultKind.HugeBody;
                var answer = new Answer(200, "OK");
                answer.Headers.Add(("Content-Type", "application/json"));
                if (!declared)
                {
                    answer.Headers.Add(("Connection", "close"));
                }

                record.Status = 200;
                await client.WriteAsync(answer.HeadBytes(declared ? rule.BodyBytes : null), token).ConfigureAwait(false);
                byte[] chunk = Encoding.ASCII.GetBytes("{\"padding\":\"" + new string('a', 64 * 1024 - 13));
                for (int sent = 0; sent < rule.BodyBytes; sent += chunk.Length)
                {
                    await client.WriteAsync(chunk.AsMemory(0, Math.Min(chunk.Length, rule.BodyBytes - sent)), token).ConfigureAwait(false);
                }

                await client.FlushAsync(token).ConfigureAwait(false);
                return declared;
            }

            case FaultKind.Redirect:
            {
                var answer = new Answer(307, "Temporary Redirect");
                answer.Headers.Add(("Location", rule.Location ?? OtherHostUrl.TrimEnd('/') + request.Path));
                record.Status = 307;
                await answer.WriteAsync(client, head, token).ConfigureAwait(false);
                return true;
            }

            case FaultKind.ReplaceBody:
            {
                Answer answer = forwarded!;
                answer.Body = Encoding.UTF8.GetBytes(rule.Body ?? string.Empty);
                if (rule.ContentType is not null)
                {
                    answer.Headers.RemoveAll(h => h.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase));
                    answer.Headers.Add(("Content-Type", rule.ContentType));
                }

                record.Status = answer.Status;
                await answer.WriteAsync(client, head, token).ConfigureAwait(false);
                return true;
            }

            case FaultKind.EditJson:
            {
                Answer answer = forwarded!;
                JsonObject json = JsonNode.Parse(answer.Body)!.AsObject();
                if (rule.JsonValue is null)
                {
                    json.Remove(rule.JsonField!);
                }
                else
                {
                    json[rule.JsonField!] = JsonNode.Parse(rule.JsonValue);
                }

                answer.Body = Encoding.UTF8.GetBytes(json.ToJsonString());
                record.Status = answer.Status;
                await answer.WriteAsync(client, head, token).ConfigureAwait(false);
                return true;
            }

            case FaultKind.Status:
                record.Status = rule.StatusCode;
                await Synthesized(rule.StatusCode, rule.ContentType ?? "text/plain", rule.Body ?? string.Empty, rule.RetryAfter)
                    .WriteAsync(client, head, token).ConfigureAwait(false);
                return true;

            default:
                throw new InvalidOperationException(rule.Kind.ToString());
        }
    }

    /// <summary>Faults that change the CA's own answer, so the request is forwarded first.</summary>
    private static bool TampersWithAnswer(FaultKind kind) => kind is FaultKind.ResetMidResponse or FaultKind.SlowBody or FaultKind.TruncateBody
        or FaultKind.DropReplayNonce or FaultKind.DropHeader or FaultKind.WrongContentType or FaultKind.ReplaceBody or FaultKind.EditJson;

    /// <summary>What a request carries, and for a signed one the nonce in its protected header.</summary>
    private static (RequestClass Class, string? Nonce) Classify(IncomingRequest request)
    {
        if (request.Method != "POST")
        {
            return (RequestClass.Unsigned, null);
        }

        try
        {
            using var jws = JsonDocument.Parse(request.Body);
            string? nonce = null;
            if (jws.RootElement.TryGetProperty("protected", out JsonElement header))
            {
                using var protectedHeader = JsonDocument.Parse(Base64UrlDecode(header.GetString() ?? string.Empty));
                nonce = protectedHeader.RootElement.TryGetProperty("nonce", out JsonElement n) ? n.GetString() : null;
            }

            bool postAsGet = jws.RootElement.TryGetProperty("payload", out JsonElement payload) && payload.GetString() == string.Empty;
            return (postAsGet ? RequestClass.PostAsGet : RequestClass.SignedPost, nonce);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            return (RequestClass.SignedPost, null);
        }
    }

    private static byte[] Base64UrlDecode(string text)
    {
        string padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + ((4 - (padded.Length % 4)) % 4), '='));
    }

    private static Answer Synthesized(int status, string contentType, string body, string? retryAfter)
    {
        var answer = new Answer(status, status switch { 429 => "Too Many Requests", 503 => "Service Unavailable", _ => "Fault" })
        {
            Body = Encoding.UTF8.GetBytes(body),
        };
        answer.Headers.Add(("Content-Type", contentType));
        answer.Headers.Add(("Cache-Control", "no-store"));
        if (retryAfter is not null)
        {
            answer.Headers.Add(("Retry-After", retryAfter));
        }

        return answer;
    }

    private async Task<Answer> ForwardAsync(IncomingRequest request, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(_upstream, request.Target));
        message.Headers.Host = request.Host;
        if (request.Body.Length > 0 || request.Method == "POST")
        {
            message.Content = new ByteArrayContent(request.Body);
            if (request.ContentType is not null)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            }
        }

        foreach ((string name, string value) in request.Headers)
        {
            if (!s_hopByHop.Contains(name) && !name.Equals("Host", StringComparison.OrdinalIgnoreCase)
                && !name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using HttpResponseMessage response = await _upstreamClient.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var answer = new Answer((int)response.StatusCode, response.ReasonPhrase ?? "Status")
        {
            Body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false),
        };
        foreach (KeyValuePair<string, IEnumerable<string>> header in response.Headers.Concat(response.Content.Headers))
        {
            if (!s_hopByHop.Contains(header.Key))
            {
                foreach (string value in header.Value)
                {
                    answer.Headers.Add((header.Key, value));
                }
            }
        }

        return answer;
    }

    /// <summary>A real nonce from the upstream, so a synthesized error carries one as a CA's would (RFC 8555 section 6.5).</summary>
    private async Task<string?> FreshNonceAsync(IncomingRequest request, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Head, new Uri(_upstream, _newNoncePath));
        message.Headers.Host = request.Host;
        using HttpResponseMessage response = await _upstreamClient.SendAsync(message, cancellationToken).ConfigureAwait(false);
        return response.Headers.TryGetValues("Replay-Nonce", out IEnumerable<string>? values) ? values.FirstOrDefault() : null;
    }

    private static (X509Certificate2 Root, X509Certificate2 Server) CreateCertificates()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using ECDsa rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=Acme test fault proxy root", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        X509Certificate2 root = rootRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(2));

        using ECDsa serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
        byte[] serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        using X509Certificate2 issued = serverRequest.Create(root, now.AddMinutes(-5), now.AddDays(2), serial);
        using X509Certificate2 withKey = issued.CopyWithPrivateKey(serverKey);

        // Through PKCS#12, so SslStream gets a key it can use on every platform.
        X509Certificate2 server = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pfx), null);
        return (X509CertificateLoader.LoadCertificate(root.RawData), server);
    }

    public void Dispose()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        _stop.Cancel();
        _listener.Stop();
        _otherHost.Stop();
        foreach (TcpClient client in _open.Keys)
        {
            client.Dispose();
        }

        _upstreamClient.Dispose();
        try
        {
            File.Delete(RootCertificatePath);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A response to write: status, headers in order, body.</summary>
    private sealed class Answer
    {
        public Answer(int status, string reason)
        {
            Status = status;
            Reason = reason;
        }

        public int Status { get; }

        public string Reason { get; }

        public List<(string Name, string Value)> Headers { get; } = new();

        public byte[] Body { get; set; } = Array.Empty<byte>();

        public byte[] HeadBytes(int? contentLength)
        {
            var sb = new StringBuilder().Append("HTTP/1.1 ").Append(Status).Append(' ').Append(Reason).Append("\r\n");
            foreach ((string name, string value) in Headers)
            {
                sb.Append(name).Append(": ").Append(value).Append("\r\n");
            }

            if (contentLength is int length)
            {
                sb.Append("Content-Length: ").Append(length).Append("\r\n");
            }

            return Encoding.ASCII.GetBytes(sb.Append("\r\n").ToString());
        }

        public string? ReplayNonce => Headers.Where(h => h.Name.Equals("Replay-Nonce", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

        public async Task WriteAsync(Stream stream, bool headOnly, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(HeadBytes(headOnly ? 0 : Body.Length), cancellationToken).ConfigureAwait(false);
            if (!headOnly)
            {
                await stream.WriteAsync(Body, cancellationToken).ConfigureAwait(false);
            }

            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class IncomingRequest
    {
        public string Method { get; init; } = string.Empty;

        /// <summary>The request target as sent: path and query.</summary>
        public string Target { get; init; } = string.Empty;

        public string Path => Target.Split('?')[0];

        public string Host { get; init; } = string.Empty;

        public string? ContentType { get; init; }

        public List<(string Name, string Value)> Headers { get; init; } = new();

        public byte[] Body { get; init; } = Array.Empty<byte>();
    }

    /// <summary>Reads HTTP/1.1 requests (head, then a Content-Length body) off one keep-alive connection.</summary>
    private sealed class RequestReader
    {
        private readonly Stream _stream;
        private byte[] _buffer = new byte[16 * 1024];
        private int _filled;

        public RequestReader(Stream stream) => _stream = stream;

        public async Task<IncomingRequest?> ReadAsync(CancellationToken cancellationToken)
        {
            int end;
            while ((end = IndexOfHeadEnd()) < 0)
            {
                if (_filled == _buffer.Length)
                {
                    if (_buffer.Length >= 1024 * 1024)
                    {
                        throw new InvalidDataException("The request head is too long.");
                    }

                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }

                int read = await _stream.ReadAsync(_buffer.AsMemory(_filled), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return null;
                }

                _filled += read;
            }

            string[] lines = Encoding.ASCII.GetString(_buffer, 0, end).Split("\r\n");
            string[] requestLine = lines[0].Split(' ');
            var headers = new List<(string, string)>();
            foreach (string line in lines.Skip(1))
            {
                int colon = line.IndexOf(':');
                if (colon > 0)
                {
                    headers.Add((line.Substring(0, colon).Trim(), line.Substring(colon + 1).Trim()));
                }
            }

            string? Header(string name) => headers.Where(h => h.Item1.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Item2).FirstOrDefault();
            int length = int.TryParse(Header("Content-Length"), out int n) ? n : 0;
            Consume(end + 4);
            while (_filled < length)
            {
                if (_buffer.Length < length)
                {
                    Array.Resize(ref _buffer, length);
                }

                int read = await _stream.ReadAsync(_buffer.AsMemory(_filled), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return null;
                }

                _filled += read;
            }

            byte[] body = _buffer.AsSpan(0, length).ToArray();
            Consume(length);
            return new IncomingRequest
            {
                Method = requestLine[0],
                Target = requestLine.Length > 1 ? requestLine[1] : "/",
                Host = Header("Host") ?? "127.0.0.1",
                ContentType = Header("Content-Type"),
                Headers = headers,
                Body = body,
            };
        }

        private int IndexOfHeadEnd() => _buffer.AsSpan(0, _filled).IndexOf("\r\n\r\n"u8);

        private void Consume(int count)
        {
            Buffer.BlockCopy(_buffer, count, _buffer, 0, _filled - count);
            _filled -= count;
        }
    }
}
