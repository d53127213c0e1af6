using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Acme.Protocol.Json;

namespace Acme.Protocol.Model;

/// <summary>
/// An RFC 7807 problem document as ACME uses it (RFC 8555 section 6.7), plus the request that
/// produced it. The request method and URL are not RFC fields: they make the message useful.
/// </summary>
public sealed class AcmeProblem
{
    public AcmeProblem(string type, string? detail, int? status = null)
    {
        Type = string.IsNullOrEmpty(type) ? "about:blank" : type;
        Detail = detail;
        Status = status;
    }

    /// <summary>A URI reference that identifies the problem type, for ACME under "urn:ietf:params:acme:error:".</summary>
    public string Type { get; }

    /// <summary>The short name of an ACME problem type ("badNonce"), or the whole type for any other namespace.</summary>
    public string ShortType => Type.StartsWith(AcmeProblemTypes.Namespace, StringComparison.Ordinal)
        ? Type.Substring(AcmeProblemTypes.Namespace.Length)
        : Type;

    public string? Title { get; set; }

    /// <summary>"Clients SHOULD display the 'detail' field of all errors." (RFC 8555 section 6.7)</summary>
    public string? Detail { get; }

    public int? Status { get; set; }

    public string? Instance { get; set; }

    /// <summary>The identifier a subproblem is about (RFC 8555 section 6.7.1).</summary>
    public AcmeIdentifier? Identifier { get; set; }

    public IReadOnlyList<AcmeProblem> Subproblems { get; set; } = Array.Empty<AcmeProblem>();

    public string? RequestMethod { get; set; }

    public Uri? RequestUri { get; set; }

    internal static AcmeProblem FromJson(JsonObject json)
    {
        var problem = new AcmeProblem(json.GetString("type") ?? "about:blank", json.GetString("detail"),
            (int?)json.GetInt64("status"))
        {
            Title = json.GetString("title"),
            Instance = json.GetString("instance"),
        };

        JsonObject? identifier = json.GetObject("identifier");
        if (identifier is not null)
        {
            problem.Identifier = AcmeIdentifier.FromJson(identifier);
        }

        List<object?>? subproblems = json.GetArray("subproblems");
        if (subproblems is not null)
        {
            problem.Subproblems = subproblems.OfType<JsonObject>().Select(FromJson).ToArray();
        }

        return problem;
    }

    /// <summary>
    /// The detail and the subproblems, each with its identifier, on separate lines: the text for a
    /// message. It holds no control character and at most about <see cref="CaText.MaxDescription"/>
    /// characters; subproblems past that are counted ("... 480 more subproblems"), not listed.
    /// </summary>
    public string Describe() => Describe(includeIdentifier: true);

    internal string Describe(bool includeIdentifier)
    {
        var sb = new StringBuilder();
        if (includeIdentifier && Identifier is not null)
        {
            sb.Append(CaText.Clean(Identifier.Value, CaText.MaxField)).Append(": ");
        }

        sb.Append(CaText.Clean(string.IsNullOrEmpty(Detail) ? (Title ?? ShortType) : Detail, CaText.MaxDetail));
        if (Type == AcmeProblemTypes.UserActionRequired && Instance is not null)
        {
            // RFC 8555 section 7.3.3: the user must visit this URL; the message is where they look.
            sb.Append(" (visit ").Append(CaText.Clean(Instance, CaText.MaxField * 4)).Append(')');
        }
        for (int i = 0; i < Subproblems.Count; i++)
        {
            AcmeProblem sub = Subproblems[i];
            string shortType = CaText.Clean(sub.ShortType, CaText.MaxField);
            string line = "  " + (sub.Identifier is null ? "(no identifier)" : CaText.Clean(sub.Identifier.Value, CaText.MaxField)) + ": " +
                CaText.Clean(sub.Detail ?? sub.ShortType, CaText.MaxSubproblem) + " (" + shortType + ")";
            if (sb.Length + line.Length > CaText.MaxDescription)
            {
                int more = Subproblems.Count - i;
                sb.AppendLine().Append("  ... ").Append(more).Append(more == 1 ? " more subproblem" : " more subproblems");
                break;
            }

            sb.AppendLine().Append(line);
        }

        return sb.ToString();
    }

    /// <summary>"HTTP 400 malformed: detail (POST url)", bounded and free of control characters like <see cref="Describe()"/>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        if (Status is int status)
        {
            sb.Append("HTTP ").Append(status).Append(' ');
        }

        sb.Append(CaText.Clean(ShortType, CaText.MaxField)).Append(": ").Append(Describe());
        if (RequestMethod is not null && RequestUri is not null)
        {
            sb.Append(" (").Append(RequestMethod).Append(' ').Append(CaText.Clean(RequestUri.AbsoluteUri, CaText.MaxField * 4)).Append(')');
        }

        return sb.ToString();
    }
}

/// <summary>Problem types from RFC 8555 section 6.7 and its extensions.</summary>
public static class AcmeProblemTypes
{
    public const string Namespace = "urn:ietf:params:acme:error:";

    /// <summary>The request specified an account that does not exist.</summary>
    public const string AccountDoesNotExist = Namespace + "accountDoesNotExist";

    /// <summary>The request specified a certificate to be revoked that has already been revoked.</summary>
    public const string AlreadyRevoked = Namespace + "alreadyRevoked";

    /// <summary>The certificate named in "replaces" already has a replacement order (RFC 9773 section 5).</summary>
    public const string AlreadyReplaced = Namespace + "alreadyReplaced";

    /// <summary>The CSR is unacceptable (e.g., due to a short key).</summary>
    public const string BadCsr = Namespace + "badCSR";

    /// <summary>The client sent an unacceptable anti-replay nonce.</summary>
    public const string BadNonce = Namespace + "badNonce";

    /// <summary>The JWS was signed by a public key the server does not support.</summary>
    public const string BadPublicKey = Namespace + "badPublicKey";

    /// <summary>The revocation reason provided is not allowed by the server.</summary>
    public const string BadRevocationReason = Namespace + "badRevocationReason";

    /// <summary>The JWS was signed with an algorithm the server does not support.</summary>
    public const string BadSignatureAlgorithm = Namespace + "badSignatureAlgorithm";

    /// <summary>Certification Authority Authorization (CAA) records forbid the CA from issuing a certificate.</summary>
    public const string Caa = Namespace + "caa";

    /// <summary>Specific error conditions are indicated in the "subproblems" array.</summary>
    public const string Compound = Namespace + "compound";

    /// <summary>The server could not connect to validation target.</summary>
    public const string Connection = Namespace + "connection";

    /// <summary>There was a problem with a DNS query during identifier validation.</summary>
    public const string Dns = Namespace + "dns";

    /// <summary>The request must include a value for the "externalAccountBinding" field.</summary>
    public const string ExternalAccountRequired = Namespace + "externalAccountRequired";

    /// <summary>Response received didn't match the challenge's requirements.</summary>
    public const string IncorrectResponse = Namespace + "incorrectResponse";

    /// <summary>A contact URL for an account was invalid.</summary>
    public const string InvalidContact = Namespace + "invalidContact";

    /// <summary>The requested profile is not one the server offers (profiles draft).</summary>
    public const string InvalidProfile = Namespace + "invalidProfile";

    /// <summary>The request message was malformed.</summary>
    public const string Malformed = Namespace + "malformed";

    /// <summary>The request attempted to finalize an order that is not ready to be finalized.</summary>
    public const string OrderNotReady = Namespace + "orderNotReady";

    /// <summary>The request exceeds a rate limit.</summary>
    public const string RateLimited = Namespace + "rateLimited";

    /// <summary>The server will not issue certificates for the identifier.</summary>
    public const string RejectedIdentifier = Namespace + "rejectedIdentifier";

    /// <summary>The server experienced an internal error.</summary>
    public const string ServerInternal = Namespace + "serverInternal";

    /// <summary>The server received a TLS error during validation.</summary>
    public const string Tls = Namespace + "tls";

    /// <summary>The client lacks sufficient authorization.</summary>
    public const string Unauthorized = Namespace + "unauthorized";

    /// <summary>A contact URL for an account used an unsupported protocol scheme.</summary>
    public const string UnsupportedContact = Namespace + "unsupportedContact";

    /// <summary>An identifier is of an unsupported type.</summary>
    public const string UnsupportedIdentifier = Namespace + "unsupportedIdentifier";

    /// <summary>Visit the "instance" URL and take actions specified there.</summary>
    public const string UserActionRequired = Namespace + "userActionRequired";
}
