using System;
using System.Text.RegularExpressions;
using System.Threading;

namespace Acme.TestKit;

/// <summary>
/// What the proxy does to a request a rule matches. Faults that change the CA's answer (reset, slow
/// body, truncate, drop a header, wrong type, replace, edit) apply only to answers the CA gave with
/// success: an error it sent on its own (Pebble's random badNonce) passes untouched and does not count.
/// </summary>
public enum FaultKind
{
    /// <summary>503 with Retry-After and an HTML body, as a load balancer in maintenance sends. Not forwarded.</summary>
    ServiceUnavailable,

    /// <summary>429 with a rateLimited problem, Retry-After and a fresh nonce from the CA. Not forwarded.</summary>
    RateLimited,

    /// <summary>Forwarded; the headers and half the body are sent, then the TCP connection is reset.</summary>
    ResetMidResponse,

    /// <summary>Nothing is sent for <see cref="FaultRule.DelayMilliseconds"/>; then the request is forwarded and answered.</summary>
    SlowResponse,

    /// <summary>Forwarded; the headers come at once, then the body one byte every <see cref="FaultRule.DelayMilliseconds"/>.</summary>
    SlowBody,

    /// <summary>Forwarded; only the first half of the body, with a Content-Length that matches the cut.</summary>
    TruncateBody,

    /// <summary>Forwarded; the Replay-Nonce header is removed.</summary>
    DropReplayNonce,

    /// <summary>Forwarded; the header named <see cref="FaultRule.Header"/> is removed.</summary>
    DropHeader,

    /// <summary>Forwarded; the Content-Type is replaced by <see cref="FaultRule.ContentType"/> (text/html by default).</summary>
    WrongContentType,

    /// <summary><see cref="FaultRule.BodyBytes"/> of JSON-looking text with its Content-Length declared. Not forwarded.</summary>
    HugeBody,

    /// <summary>The same without Content-Length: the body ends when the connection closes. Not forwarded.</summary>
    HugeBodyUndeclared,

    /// <summary>307 to <see cref="FaultRule.Location"/>, by default the proxy's "other host" trap. Not forwarded.</summary>
    Redirect,

    /// <summary>Forwarded; the body is replaced by <see cref="FaultRule.Body"/>.</summary>
    ReplaceBody,

    /// <summary>Forwarded; the top-level JSON member <see cref="FaultRule.JsonField"/> is set to <see cref="FaultRule.JsonValue"/> (raw JSON) or removed when that is null.</summary>
    EditJson,

    /// <summary><see cref="FaultRule.StatusCode"/> with <see cref="FaultRule.Body"/> and <see cref="FaultRule.ContentType"/>. Not forwarded.</summary>
    Status,
}

/// <summary>Which requests a rule looks at, by what they carry.</summary>
public enum RequestClass
{
    Any,

    /// <summary>GET and HEAD: the directory and newNonce.</summary>
    Unsigned,

    /// <summary>A signed POST with an empty payload (RFC 8555 section 6.3): a read.</summary>
    PostAsGet,

    /// <summary>A signed POST with a payload: a request that changes state.</summary>
    SignedPost,

    /// <summary>Every signed POST.</summary>
    Post,
}

/// <summary>
/// One fault: which requests it matches (method, a path regex, a request class), what it does, and how
/// many matching requests it hits before it stops. PowerShell builds one from a hashtable:
/// <c>$proxy.Add(@{ Kind = 'RateLimited'; Path = '^/order-plz'; RetryAfter = '1' })</c>.
/// </summary>
public sealed class FaultRule
{
    private int _hits;
    private int _seen;

    public FaultKind Kind { get; set; }

    /// <summary>GET, HEAD or POST; null for any.</summary>
    public string? Method { get; set; }

    /// <summary>A regular expression the request path must match; null for any.</summary>
    public string? Path { get; set; }

    public RequestClass Class { get; set; } = RequestClass.Any;

    /// <summary>How many matching requests the rule hits; 0 for every one.</summary>
    public int Times { get; set; } = 1;

    /// <summary>How many matching requests pass untouched before the rule starts hitting.</summary>
    public int After { get; set; }

    /// <summary>The Retry-After header value to send (seconds or an HTTP date); null for none.</summary>
    public string? RetryAfter { get; set; }

    public int DelayMilliseconds { get; set; } = 3000;

    public int StatusCode { get; set; } = 500;

    public string? Body { get; set; }

    public string? ContentType { get; set; }

    public string? JsonField { get; set; }

    public string? JsonValue { get; set; }

    public string? Location { get; set; }

    /// <summary>The response header <see cref="FaultKind.DropHeader"/> removes.</summary>
    public string? Header { get; set; }

    public int BodyBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>How many requests the rule has hit so far.</summary>
    public int Hits => Volatile.Read(ref _hits);

    internal bool Matches(string method, string path, RequestClass requestClass)
    {
        if (Method is not null && !string.Equals(Method, method, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (Path is not null && !Regex.IsMatch(path, Path))
        {
            return false;
        }

        return Class switch
        {
            RequestClass.Any => true,
            RequestClass.Post => requestClass is RequestClass.PostAsGet or RequestClass.SignedPost,
            _ => Class == requestClass,
        };
    }

    /// <summary>Counts a matching request; true when the rule applies to it (called under the proxy's lock).</summary>
    internal bool TryHit()
    {
        if (++_seen <= After || (Times > 0 && _hits >= Times))
        {
            return false;
        }

        Interlocked.Increment(ref _hits);
        return true;
    }

    /// <summary>Takes back a hit whose request turned out not to qualify (called under the proxy's lock).</summary>
    internal void Undo()
    {
        _seen--;
        Interlocked.Decrement(ref _hits);
    }

    public override string ToString() => $"{Kind} on {Method ?? "any"} {Path ?? "*"} ({Class}), {Hits} hit(s)";
}

/// <summary>One request the proxy saw, and what became of it.</summary>
public sealed class ProxiedRequest
{
    internal ProxiedRequest(string method, string path, RequestClass requestClass, string? nonce, FaultKind? fault)
    {
        Method = method;
        Path = path;
        Class = requestClass;
        Nonce = nonce;
        Fault = fault;
        At = DateTimeOffset.UtcNow;
    }

    public string Method { get; }

    public string Path { get; }

    public RequestClass Class { get; }

    /// <summary>The nonce in a signed request's protected header.</summary>
    public string? Nonce { get; }

    /// <summary>The Replay-Nonce handed back by an answer passed through, or by a 429 the proxy made.</summary>
    public string? ReplayNonce { get; internal set; }

    /// <summary>The fault applied, or null when the request passed through untouched.</summary>
    public FaultKind? Fault { get; }

    /// <summary>The status sent back to the client (0 when the connection was cut first).</summary>
    public int Status { get; internal set; }

    public DateTimeOffset At { get; }

    public override string ToString() => $"{Method} {Path} -> {Status}{(Fault is null ? string.Empty : " [" + Fault + "]")}";
}
