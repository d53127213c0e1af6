using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Crypto;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;
using Acme.Protocol.Model;
using Acme.Protocol.Transport;

namespace Acme.Protocol.Client;

/// <summary>
/// The plumbing: one method per RFC 8555 resource, data in and data out (after acmez's "acme"
/// package). Waiting, retry policy and challenge solving live in <see cref="Flow"/>.
/// </summary>
public sealed partial class AcmeClient
{
    private readonly IAcmeLog _log;

    public AcmeClient(AcmeServer server, IAcmeLog? log = null)
        : this(AcmeConnection.Get(server), log)
    {
    }

    public AcmeClient(AcmeConnection connection, IAcmeLog? log = null)
    {
        Connection = connection ?? throw new ArgumentNullException(nameof(connection));
        _log = log ?? NullAcmeLog.Instance;
    }

    public AcmeConnection Connection { get; }

    internal IAcmeLog Log => _log;

    public Task<AcmeDirectory> GetDirectoryAsync(CancellationToken cancellationToken = default) =>
        Connection.GetDirectoryAsync(_log, cancellationToken);

    /// <summary>
    /// newAccount (RFC 8555 section 7.3). With <paramref name="onlyReturnExisting"/> the server only
    /// looks the key up (section 7.3.1) and answers accountDoesNotExist when it knows no account for it.
    /// </summary>
    public async Task<AcmeAccount> NewAccountAsync(AcmeKey key, IReadOnlyList<string>? contact, bool termsOfServiceAgreed,
        ExternalAccountBinding? binding = null, bool onlyReturnExisting = false, CancellationToken cancellationToken = default)
    {
        AcmeDirectory directory = await GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        var payload = new JsonObject();
        if (onlyReturnExisting)
        {
            payload["onlyReturnExisting"] = true;
        }
        else
        {
            if (contact is { Count: > 0 })
            {
                payload["contact"] = contact.ToList();
            }

            if (termsOfServiceAgreed)
            {
                payload["termsOfServiceAgreed"] = true;
            }

            if (binding is not null)
            {
                payload["externalAccountBinding"] = JwsBuilder.SignExternalAccountBinding(key, directory.NewAccount, binding.KeyId,
                    binding.HmacKey, binding.Algorithm);
            }
        }

        AcmeResponse response = await Connection.PostAsync(directory.NewAccount, payload, key, null, _log, cancellationToken)
            .ConfigureAwait(false);

        // "The server returns this account object in a 201 (Created) response, with the account URL
        // in a Location header field" (section 7.3); an existing account comes back with 200.
        Uri location = response.Location ?? throw new AcmeProtocolException("newAccount answered without a Location header.");
        // The account object's "termsOfServiceAgreed" is optional (section 7.1.2) and some CAs (Pebble)
        // leave it out; agreeing in this request is then the record of it, kept with a saved account.
        var account = new AcmeAccount(Connection.Server, key, location) { TermsOfServiceAgreed = termsOfServiceAgreed && !onlyReturnExisting };
        account.Update(response.Json);
        if (account.CreatedAt is null && response.StatusCode == HttpStatusCode.Created)
        {
            // "createdAt" is no field of RFC 8555's account object (Boulder adds it; Pebble and step-ca
            // do not): the 201 of this request is when the account was created.
            account.CreatedAt = DateTimeOffset.UtcNow;
        }

        _log.Verbose($"Account {location.AbsoluteUri} is {AcmeStatusParser.ToWire(account.Status)}" +
            (response.StatusCode == HttpStatusCode.OK ? " (it already existed for this key)." : " (created)."));
        return account;
    }

    /// <summary>newOrder (RFC 8555 section 7.4), then each authorization it lists.</summary>
    public async Task<AcmeOrder> NewOrderAsync(AcmeAccount account, IReadOnlyList<AcmeIdentifier> identifiers,
        DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, string? profile = null, string? replaces = null,
        CancellationToken cancellationToken = default)
    {
        if (identifiers is null || identifiers.Count == 0)
        {
            throw new AcmeArgumentException(AcmeErrorId.NoIdentifier, "An order needs at least one identifier.");
        }

        AcmeDirectory directory = await GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        profile = profile is null ? null : directory.ResolveProfile(profile);
        replaces = replaces is null ? null : ReplacesFor(directory, replaces);
        var payload = new JsonObject { ["identifiers"] = identifiers.Select(i => i.ToJson()).ToList() };
        if (notBefore is DateTimeOffset nb)
        {
            payload["notBefore"] = nb;
        }

        if (notAfter is DateTimeOffset na)
        {
            payload["notAfter"] = na;
        }

        if (profile is not null)
        {
            payload["profile"] = profile;
        }

        if (replaces is not null)
        {
            payload["replaces"] = replaces;
        }

        AcmeResponse response;
        try
        {
            response = await Connection.PostAsync(directory.NewOrder, payload, account.Key, account.Location, _log, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (AcmeProblemException e) when (e.Problem.Type == AcmeProblemTypes.InvalidProfile && e is not AcmeInvalidProfileException)
        {
            // The CA's detail rarely lists its profiles; its directory does (the local check above uses it too).
            throw new AcmeInvalidProfileException(e.Problem, directory.Profiles);
        }

        Uri location = response.Location ?? throw new AcmeProtocolException("newOrder answered without a Location header.");
        var order = new AcmeOrder(account, location) { Profile = profile, Replaces = replaces };
        order.Update(response.Json);
        order.RetryAfter = response.RetryAfter;
        _log.Verbose($"Order {location.AbsoluteUri} for {string.Join(", ", order.Names)} is {AcmeStatusParser.ToWire(order.Status)}.");
        await RefreshAuthorizationsAsync(order, cancellationToken).ConfigureAwait(false);
        return order;
    }

    /// <summary>POST-as-GET on the order URL (RFC 8555 section 7.4); the object is updated in place and returned.</summary>
    public async Task<AcmeOrder> GetOrderAsync(AcmeOrder order, CancellationToken cancellationToken = default)
    {
        AcmeResponse response = await Connection.PostAsync(order.Location, null, order.Account.Key, order.Account.Location, _log, cancellationToken)
            .ConfigureAwait(false);
        AcmeOrderStatus before = order.Status;
        order.Update(response.Json);
        order.RetryAfter = response.RetryAfter;
        if (before != order.Status)
        {
            _log.Verbose($"Order {order.Location.AbsoluteUri} is now {AcmeStatusParser.ToWire(order.Status)}.");
        }

        return order;
    }

    /// <summary>Re-reads every authorization the order lists.</summary>
    public async Task<AcmeOrder> RefreshAuthorizationsAsync(AcmeOrder order, CancellationToken cancellationToken = default)
    {
        var authorizations = new AcmeAuthorization[order.AuthorizationUrls.Count];
        for (int i = 0; i < authorizations.Length; i++)
        {
            authorizations[i] = (await GetAuthorizationAsync(order.Account, order.AuthorizationUrls[i], cancellationToken).ConfigureAwait(false))
                .Attach(order.Account, order);
        }

        order.Authorizations = authorizations;
        return order;
    }

    /// <summary>POST-as-GET on an authorization URL (RFC 8555 section 7.5).</summary>
    public async Task<AcmeAuthorization> GetAuthorizationAsync(AcmeAccount account, Uri url, CancellationToken cancellationToken = default)
    {
        AcmeResponse response = await Connection.PostAsync(url, null, account.Key, account.Location, _log, cancellationToken).ConfigureAwait(false);
        AcmeAuthorization authorization = AcmeAuthorization.FromJson(url, response.Json, account.KeyThumbprint);
        authorization.RetryAfter = response.RetryAfter;
        return authorization.Attach(account, null);
    }

    /// <summary>
    /// Tells the CA a challenge is ready: "The client indicates to the server that it is ready for the
    /// challenge validation by sending an empty JSON body ('{}')" (RFC 8555 section 7.5.1).
    /// </summary>
    public async Task<AcmeChallenge> RespondToChallengeAsync(AcmeAccount account, AcmeChallenge challenge,
        CancellationToken cancellationToken = default)
    {
        AcmeResponse response = await Connection.PostAsync(challenge.Url, new JsonObject(), account.Key, account.Location, _log, cancellationToken)
            .ConfigureAwait(false);
        _log.Verbose($"Told the CA the {challenge.Type} challenge for {challenge.Identifier.Value} is ready.");
        AcmeChallenge updated = AcmeChallenge.FromJson(challenge.Identifier, response.Json, account.KeyThumbprint);
        updated.Account = account;
        updated.Order = challenge.Order;
        updated.Authorization = challenge.Authorization;
        return updated;
    }

    /// <summary>finalize (RFC 8555 section 7.4): "csr (required, string): A CSR encoding the parameters ... base64url-encoded DER".</summary>
    public async Task<AcmeOrder> FinalizeAsync(AcmeOrder order, byte[] csrDer, CancellationToken cancellationToken = default)
    {
        var payload = new JsonObject { ["csr"] = Base64Url.Encode(csrDer) };
        AcmeResponse response = await Connection.PostAsync(order.Finalize, payload, order.Account.Key, order.Account.Location, _log, cancellationToken)
            .ConfigureAwait(false);
        order.Update(response.Json);
        order.RetryAfter = response.RetryAfter;
        _log.Verbose($"Finalized order {order.Location.AbsoluteUri}; it is {AcmeStatusParser.ToWire(order.Status)}.");
        return order;
    }

    /// <summary>
    /// Downloads the certificate chain (RFC 8555 section 7.4.2) and, with <paramref name="includeAlternates"/>,
    /// every alternate chain the server links with rel="alternate".
    /// </summary>
    public async Task<IReadOnlyList<AcmeCertificate>> DownloadCertificateChainsAsync(AcmeOrder order, bool includeAlternates,
        CancellationToken cancellationToken = default)
    {
        Uri url = order.Certificate ?? throw new AcmeArgumentException(AcmeErrorId.OrderNotValid,
            $"The order {order.Location} has no certificate yet (it is {AcmeStatusParser.ToWire(order.Status)}).");
        var chains = new List<AcmeCertificate>();
        AcmeResponse response = await DownloadOneAsync(order, url, cancellationToken).ConfigureAwait(false);
        chains.Add(ToCertificate(order, url, response));
        if (includeAlternates)
        {
            foreach (Uri alternate in response.GetLinks("alternate").Distinct().Take(10).ToList())
            {
                AcmeResponse alt = await DownloadOneAsync(order, alternate, cancellationToken).ConfigureAwait(false);
                chains.Add(ToCertificate(order, alternate, alt));
            }
        }

        return chains;
    }

    private async Task<AcmeResponse> DownloadOneAsync(AcmeOrder order, Uri url, CancellationToken cancellationToken)
    {
        AcmeResponse response = await Connection.PostAsync(url, null, order.Account.Key, order.Account.Location, _log, cancellationToken)
            .ConfigureAwait(false);
        if (response.ContentType is not null && !response.ContentType.Equals("application/pem-certificate-chain", StringComparison.OrdinalIgnoreCase))
        {
            throw new AcmeProtocolException($"The certificate at {url} came as '{response.ContentType}', not application/pem-certificate-chain.");
        }

        return response;
    }

    private static AcmeCertificate ToCertificate(AcmeOrder order, Uri url, AcmeResponse response)
    {
        AcmeCertificate certificate = AcmeCertificate.FromCaPem(response.Text, url);
        certificate.Location = url;
        certificate.Order = order;
        return certificate;
    }
}
