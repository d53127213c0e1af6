using System;
using System.Security.Cryptography;
using System.Text;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;

namespace Acme.Protocol.Crypto;

/// <summary>Builds the flattened JWS JSON serialisation that carries every ACME POST (RFC 8555 section 6.2).</summary>
internal static class JwsBuilder
{
    /// <summary>
    /// "The JWS Protected Header MUST include the following fields: alg, nonce, url, either jwk or kid"
    /// (RFC 8555 section 6.2). "jwk" is used for newAccount and for revocation by certificate key;
    /// every other request names the account by "kid".
    /// </summary>
    /// <param name="payload">The payload object, or null for POST-as-GET, whose payload is the empty string (section 6.3).</param>
    public static string Sign(AcmeKey key, Uri url, string? nonce, Uri? kid, object? payload)
    {
        var header = new JsonObject { ["alg"] = key.JwsAlgorithm };
        if (kid is null)
        {
            header["jwk"] = new RawJson(key.CanonicalJwk);
        }
        else
        {
            header["kid"] = kid.AbsoluteUri;
        }

        if (nonce is not null)
        {
            header["nonce"] = nonce;
        }

        header["url"] = url.AbsoluteUri;
        string protectedB64 = Base64Url.Encode(JsonCodec.Serialize(header));
        string payloadB64 = payload is null ? string.Empty : Base64Url.Encode(JsonCodec.Serialize(payload));
        byte[] signature = key.Sign(Encoding.ASCII.GetBytes(protectedB64 + "." + payloadB64));
        return JsonCodec.Serialize(new JsonObject
        {
            ["protected"] = protectedB64,
            ["payload"] = payloadB64,
            ["signature"] = Base64Url.Encode(signature),
        });
    }

    /// <summary>
    /// The externalAccountBinding JWS (RFC 8555 section 7.3.4): the account's public JWK as payload,
    /// MAC'd with the CA-issued key. "It MUST NOT contain a nonce header parameter."
    /// </summary>
    public static JsonObject SignExternalAccountBinding(AcmeKey accountKey, Uri newAccountUrl, string keyId,
        byte[] hmacKey, string algorithm)
    {
        var header = new JsonObject { ["alg"] = algorithm, ["kid"] = keyId, ["url"] = newAccountUrl.AbsoluteUri };
        string protectedB64 = Base64Url.Encode(JsonCodec.Serialize(header));
        string payloadB64 = Base64Url.Encode(accountKey.CanonicalJwk);
        byte[] input = Encoding.ASCII.GetBytes(protectedB64 + "." + payloadB64);
        using HMAC mac = algorithm switch
        {
            "HS256" => new HMACSHA256(hmacKey),
            "HS384" => new HMACSHA384(hmacKey),
            "HS512" => new HMACSHA512(hmacKey),
            _ => throw new AcmeArgumentException(AcmeErrorId.InvalidBindingAlgorithm, $"The binding algorithm '{algorithm}' is not HS256, HS384 or HS512."),
        };
        return new JsonObject
        {
            ["protected"] = protectedB64,
            ["payload"] = payloadB64,
            ["signature"] = Base64Url.Encode(mac.ComputeHash(input)),
        };
    }
}
