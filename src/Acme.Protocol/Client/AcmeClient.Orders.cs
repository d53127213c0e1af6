using System;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;
using Acme.Protocol.Model;
using Acme.Protocol.Transport;

namespace Acme.Protocol.Client;

/// <summary>Orders and authorizations reached by URL: resuming an order, giving up an authorization.</summary>
public sealed partial class AcmeClient
{
    /// <summary>
    /// Resumes an order from its URL (the Location newOrder returned, RFC 8555 section 7.4) with a
    /// POST-as-GET, then reads its authorizations, so the result can go on through the pipeline.
    /// </summary>
    public async Task<AcmeOrder> GetOrderAsync(AcmeAccount account, Uri url, CancellationToken cancellationToken = default)
    {
        if (account is null)
        {
            throw new ArgumentNullException(nameof(account));
        }

        if (url is null || !url.IsAbsoluteUri)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidOrderUrl, "The order URL must be an absolute https URL.");
        }

        if (url.Scheme != Uri.UriSchemeHttps)
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidOrderUrl, $"The order URL '{url}' is not https.");
        }

        var order = new AcmeOrder(account, url);
        try
        {
            await GetOrderAsync(order, cancellationToken).ConfigureAwait(false);
        }
        catch (AcmeProblemException e) when (e.Problem.Status == 404)
        {
            throw new AcmeArgumentException(AcmeErrorId.OrderNotFound, $"{Connection.Server} knows no order at {url}.", e);
        }

        return await RefreshAuthorizationsAsync(order, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// RFC 8555 section 7.5.2: "If the client wishes to relinquish its authorization to issue
    /// certificates for an identifier, then it may request that the server deactivate each
    /// authorization associated with it by sending POST requests with the static object
    /// {"status": "deactivated"} to each authorization URL." Returns the authorization as the CA now
    /// shows it, still linked to its account and order.
    /// </summary>
    public async Task<AcmeAuthorization> DeactivateAuthorizationAsync(AcmeAuthorization authorization, CancellationToken cancellationToken = default)
    {
        AcmeAccount account = authorization?.Account ?? throw new AcmeArgumentException(AcmeErrorId.NoAccount,
            "The authorization carries no account to sign the request with; fetch it through its order.");
        var payload = new JsonObject { ["status"] = "deactivated" };
        AcmeResponse response = await Connection.PostAsync(authorization.Location, payload, account.Key, account.Location, _log, cancellationToken)
            .ConfigureAwait(false);
        AcmeAuthorization updated = AcmeAuthorization.FromJson(authorization.Location, response.Json, account.KeyThumbprint)
            .Attach(account, authorization.Order);
        _log.Verbose($"Authorization for {updated.Identifier.Value} is {AcmeStatusParser.ToWire(updated.Status)}.");
        return updated;
    }
}
