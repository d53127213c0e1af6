using System;
using System.Collections.Generic;
using System.Net;
using System.Text;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;

namespace Acme.Protocol.Transport;

/// <summary>An ACME server's answer, read in full (and bounded) before the connection is released.</summary>
internal sealed class AcmeResponse
{
    private JsonObject? _json;

    public AcmeResponse(string method, Uri requestUri, HttpStatusCode status, string? contentType, byte[] body,
        Uri? location, TimeSpan? retryAfter, IReadOnlyList<KeyValuePair<string, Uri>> links)
    {
        Method = method;
        RequestUri = requestUri;
        StatusCode = status;
        ContentType = contentType;
        Body = body;
        Location = location;
        RetryAfter = retryAfter;
        Links = links;
    }

    public string Method { get; }

    public Uri RequestUri { get; }

    public HttpStatusCode StatusCode { get; }

    public string? ContentType { get; }

    public byte[] Body { get; }

    public Uri? Location { get; }

    public TimeSpan? RetryAfter { get; }

    public IReadOnlyList<KeyValuePair<string, Uri>> Links { get; }

    /// <summary>The Replay-Nonce of a HEAD newNonce answer, kept for the request that asked for it.</summary>
    public string? ReplayNonce { get; set; }

    public string Text => Encoding.UTF8.GetString(Body);

    /// <summary>The body as a JSON object; a body that is not one is a protocol error, not a crash.</summary>
    public JsonObject Json
    {
        get
        {
            if (_json is null)
            {
                if (ContentType is not null && !ContentType.EndsWith("json", StringComparison.OrdinalIgnoreCase))
                {
                    throw new AcmeProtocolException(
                        $"{Method} {RequestUri} answered with Content-Type '{ContentType}' where JSON was expected.");
                }

                try
                {
                    _json = JsonCodec.ParseObject(Text);
                }
                catch (FormatException e)
                {
                    throw new AcmeProtocolException($"{Method} {RequestUri} answered with a body that is not a JSON object: {e.Message}", e);
                }
            }

            return _json;
        }
    }

    public IEnumerable<Uri> GetLinks(string rel)
    {
        foreach (KeyValuePair<string, Uri> link in Links)
        {
            if (link.Key == rel)
            {
                yield return link.Value;
            }
        }
    }
}
