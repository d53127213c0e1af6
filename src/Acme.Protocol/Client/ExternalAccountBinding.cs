using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Client;

/// <summary>External account binding credentials (RFC 8555 section 7.3.4), issued by the CA out of band.</summary>
public sealed class ExternalAccountBinding
{
    private readonly byte[] _hmacKey;

    public ExternalAccountBinding(string keyId, byte[] hmacKey, string algorithm = "HS256")
    {
        if (string.IsNullOrWhiteSpace(keyId))
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidBinding, "The external account binding key id is empty.");
        }

        if (hmacKey is null || hmacKey.Length == 0)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidBinding, "The external account binding HMAC key is empty.");
        }

        // RFC 7518 section 3.2: "A key of the same size as the hash output ... or larger MUST be used";
        // Pebble 2.10.1 (go-jose v4) and other CAs refuse a shorter one with a bare "cryptographic primitive" error.
        int minimum = algorithm switch { "HS384" => 48, "HS512" => 64, _ => 0 };
        if (hmacKey.Length < minimum)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidBinding,
                $"The external account binding HMAC key is {hmacKey.Length} bytes; {algorithm} needs one of at least {minimum} bytes " +
                "(RFC 7518 section 3.2). Use HS256 with this key, or the key the CA issued for " + algorithm + ".");
        }

        KeyId = keyId;
        _hmacKey = (byte[])hmacKey.Clone();
        Algorithm = algorithm;
    }

    public string KeyId { get; }

    public string Algorithm { get; }

    internal byte[] HmacKey => _hmacKey;

    /// <summary>The key id and algorithm only; the HMAC key is never printed.</summary>
    public override string ToString() => $"{KeyId} ({Algorithm})";
}
