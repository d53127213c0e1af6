using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;

namespace Acme.Protocol.Challenges.Dns01.Providers;

/// <summary>AWS credentials for <see cref="AwsSigV4"/>. <see cref="ToString"/> names the key id only.</summary>
public sealed class AwsCredentials
{
    public AwsCredentials(string accessKeyId, string secretAccessKey, string? sessionToken)
    {
        AccessKeyId = accessKeyId;
        SecretAccessKey = secretAccessKey;
        SessionToken = string.IsNullOrEmpty(sessionToken) ? null : sessionToken;
    }

    public string AccessKeyId { get; }

    public string SecretAccessKey { get; }

    public string? SessionToken { get; }

    public override string ToString() => "AwsCredentials(" + AccessKeyId + ")";
}

/// <summary>
/// AWS Signature Version 4 (header form, AWS4-HMAC-SHA256), as the AWS General Reference describes it:
/// canonical request (method, URI-encoded path, sorted query, sorted lower-case headers, signed header
/// names, payload SHA-256), string to sign, the signing key derived from date, region and service, and
/// the Authorization header. Tested against AWS's published test vectors.
/// </summary>
public static class AwsSigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>
    /// The Authorization header value for a request to <paramref name="uri"/>; <paramref name="headers"/>
    /// are the headers to sign besides Host (which is taken from the URI) and must include X-Amz-Date.
    /// </summary>
    public static string Authorization(string method, Uri uri, IEnumerable<KeyValuePair<string, string>> headers, byte[] payload,
        AwsCredentials credentials, string region, string service, DateTime utcNow)
    {
        string date = utcNow.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        string amzDate = utcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var all = new List<KeyValuePair<string, string>> { new("host", HostHeader(uri)) };
        all.AddRange(headers);
        SortedDictionary<string, string> canonical = CanonicalHeaders(all);
        string signedHeaders = string.Join(";", canonical.Keys);
        string canonicalRequest = string.Join("\n",
            method.ToUpperInvariant(),
            CanonicalUri(uri),
            CanonicalQuery(uri),
            string.Concat(canonical.Select(h => h.Key + ":" + h.Value + "\n")),
            signedHeaders,
            Hex(Sha256(payload)));
        string scope = $"{date}/{region}/{service}/aws4_request";
        string stringToSign = string.Join("\n", Algorithm, amzDate, scope, Hex(Sha256(Encoding.UTF8.GetBytes(canonicalRequest))));
        byte[] key = SigningKey(credentials.SecretAccessKey, date, region, service);
        string signature = Hex(Hmac(key, stringToSign));
        return $"{Algorithm} Credential={credentials.AccessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";
    }

    /// <summary>
    /// Signs <paramref name="request"/> in place: sets X-Amz-Date, X-Amz-Security-Token (with a session
    /// token) and Authorization over Host, X-Amz-*, and Content-Type when there is a body.
    /// </summary>
    public static void Sign(HttpRequestMessage request, byte[] payload, AwsCredentials credentials, string region, string service, DateTime utcNow)
    {
        Uri uri = request.RequestUri ?? throw new ArgumentException("The request has no URI.", nameof(request));
        string amzDate = utcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var headers = new List<KeyValuePair<string, string>> { new("x-amz-date", amzDate) };
        request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        if (credentials.SessionToken is not null)
        {
            headers.Add(new("x-amz-security-token", credentials.SessionToken));
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", credentials.SessionToken);
        }

        if (request.Content?.Headers.ContentType is { } type)
        {
            headers.Add(new("content-type", type.ToString()));
        }

        request.Headers.TryAddWithoutValidation("Authorization", Authorization(request.Method.Method, uri, headers, payload, credentials, region, service, utcNow));
    }

    /// <summary>kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").</summary>
    public static byte[] SigningKey(string secretAccessKey, string date, string region, string service)
    {
        byte[] key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secretAccessKey), date);
        key = Hmac(key, region);
        key = Hmac(key, service);
        return Hmac(key, "aws4_request");
    }

    /// <summary>RFC 3986 percent-encoding of everything but the unreserved characters (A-Z a-z 0-9 - _ . ~), upper-case hex.</summary>
    public static string UriEncode(string value)
    {
        var builder = new StringBuilder();
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            char c = (char)b;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    private static string HostHeader(Uri uri) => uri.IsDefaultPort ? uri.Host : uri.Host + ":" + uri.Port.ToString(CultureInfo.InvariantCulture);

    // Services other than S3 encode each segment of the (already encoded) path once more.
    private static string CanonicalUri(Uri uri)
    {
        string path = uri.AbsolutePath;
        return path.Length == 0 ? "/" : string.Join("/", path.Split('/').Select(UriEncode));
    }

    private static string CanonicalQuery(Uri uri)
    {
        string query = uri.Query.TrimStart('?');
        if (query.Length == 0)
        {
            return string.Empty;
        }

        return string.Join("&", query.Split('&')
            .Where(p => p.Length > 0)
            .Select(p =>
            {
                int eq = p.IndexOf('=');
                string name = Uri.UnescapeDataString(eq < 0 ? p : p.Substring(0, eq));
                string value = eq < 0 ? string.Empty : Uri.UnescapeDataString(p.Substring(eq + 1).Replace('+', ' '));
                return (Name: UriEncode(name), Value: UriEncode(value));
            })
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => p.Name + "=" + p.Value));
    }

    private static SortedDictionary<string, string> CanonicalHeaders(IEnumerable<KeyValuePair<string, string>> headers)
    {
        var canonical = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> header in headers)
        {
            string name = header.Key.Trim().ToLowerInvariant();
            string value = string.Join(" ", header.Value.Trim().Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries));
            canonical[name] = canonical.TryGetValue(name, out string? earlier) ? earlier + "," + value : value;
        }

        return canonical;
    }

    private static byte[] Sha256(byte[] data)
    {
        using var sha = SHA256.Create();
        return sha.ComputeHash(data);
    }

    private static byte[] Hmac(byte[] key, string data)
    {
        using var hmac = new HMACSHA256(key);
        return hmac.ComputeHash(Encoding.UTF8.GetBytes(data));
    }

    private static string Hex(byte[] bytes)
    {
        var builder = new StringBuilder(bytes.Length * 2);
        foreach (byte b in bytes)
        {
            builder.Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }
}
