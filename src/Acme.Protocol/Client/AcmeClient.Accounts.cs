using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;
using Acme.Protocol.Model;
using Acme.Protocol.Transport;

namespace Acme.Protocol.Client;

/// <summary>The account resource after newAccount: lookup by key, update, key change, deactivation (RFC 8555 section 7.3).</summary>
public sealed partial class AcmeClient
{
    /// <summary>
    /// RFC 8555 section 7.3.1: "If the client wishes to find the URL for an existing account and does
    /// not want an account to be created if one does not already exist, then it SHOULD do so by sending
    /// a POST request to the newAccount URL with a JWS whose payload has an 'onlyReturnExisting' field
    /// set to 'true'". An unknown key ends in an accountDoesNotExist problem.
    /// </summary>
    public Task<AcmeAccount> FindAccountAsync(AcmeKey key, CancellationToken cancellationToken = default) =>
        NewAccountAsync(key, null, termsOfServiceAgreed: false, binding: null, onlyReturnExisting: true, cancellationToken);

    /// <summary>
    /// RFC 8555 section 7.3.2: "If the client wishes to update this information in the future, it
    /// sends a POST request with updated information to the account URL." Only "contact" is sent; an
    /// empty list removes every contact. The account object is updated in place and returned.
    /// </summary>
    public async Task<AcmeAccount> UpdateAccountContactAsync(AcmeAccount account, IReadOnlyList<string> contact,
        CancellationToken cancellationToken = default)
    {
        var payload = new JsonObject { ["contact"] = (contact ?? Array.Empty<string>()).ToList() };
        AcmeResponse response = await Connection.PostAsync(account.Location, payload, account.Key, account.Location, _log, cancellationToken)
            .ConfigureAwait(false);
        account.Update(response.Json);
        _log.Verbose($"Account {account.Location.AbsoluteUri} now has the contacts: " +
            (account.Contact.Length == 0 ? "(none)" : string.Join(", ", account.Contact)) + ".");
        return account;
    }

    /// <summary>
    /// RFC 8555 section 7.3.6: "A client can deactivate an account by posting a signed update to the
    /// account URL with a status field of 'deactivated'." ... "Once an account is deactivated, the
    /// server MUST NOT accept further requests authorized by that account's key." There is no way back.
    /// </summary>
    public async Task<AcmeAccount> DeactivateAccountAsync(AcmeAccount account, CancellationToken cancellationToken = default)
    {
        var payload = new JsonObject { ["status"] = "deactivated" };
        AcmeResponse response = await Connection.PostAsync(account.Location, payload, account.Key, account.Location, _log, cancellationToken)
            .ConfigureAwait(false);
        account.Update(response.Json);
        _log.Verbose($"Account {account.Location.AbsoluteUri} is {AcmeStatusParser.ToWire(account.Status)}.");
        return account;
    }

    /// <summary>
    /// Key change (RFC 8555 section 7.3.5): "the client sends a request to the server containing
    /// signatures by both the old and new keys". The inner JWS carries the new key as "jwk", the same
    /// "url" as the outer one and no nonce; its payload names the account and the old key. The outer
    /// JWS is an ordinary request signed by the old key. Returns a new account object holding the new
    /// key; the one passed in keeps the old key, which the CA no longer accepts.
    /// </summary>
    public async Task<AcmeAccount> ChangeAccountKeyAsync(AcmeAccount account, AcmeKey newKey, CancellationToken cancellationToken = default)
    {
        if (newKey is null)
        {
            throw new ArgumentNullException(nameof(newKey));
        }

        if (newKey.Thumbprint == account.Key.Thumbprint)
        {
            throw new AcmeArgumentException(AcmeErrorId.SameAccountKey, "The new account key is the key the account already has.");
        }

        AcmeDirectory directory = await GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        Uri keyChange = directory.KeyChange ?? throw new AcmeArgumentException(AcmeErrorId.KeyChangeUnsupported,
            $"{Connection.Server} does not offer account key changes (its directory has no keyChange URL).");

        // A key that already controls an account cannot take over another. Servers should answer 409
        // (below), but some (Pebble 2.4) fail with a 500; asking first gives one clear answer everywhere.
        AcmeAccount? holder = await TryFindAccountAsync(newKey, cancellationToken).ConfigureAwait(false);
        if (holder is not null)
        {
            throw KeyInUse(account, holder.Location, null);
        }

        // "The inner JWS MUST omit the 'nonce' header parameter" and "MUST have the same 'url' header
        // parameter as the outer JWS"; its payload is {"account": <account URL>, "oldKey": <old JWK>}.
        var innerPayload = new JsonObject { ["account"] = account.Location.AbsoluteUri, ["oldKey"] = new RawJson(account.Key.CanonicalJwk) };
        var inner = new RawJson(JwsBuilder.Sign(newKey, keyChange, nonce: null, kid: null, innerPayload));
        try
        {
            await Connection.PostAsync(keyChange, inner, account.Key, account.Location, _log, cancellationToken).ConfigureAwait(false);
        }
        catch (AcmeProblemException e) when (e.Problem.Status == 409)
        {
            // "If there is an existing account registered with the newKey, then the server SHOULD use
            // status code 409 (Conflict) and provide the URL of that account in the Location header field."
            throw KeyInUse(account, null, e);
        }

        _log.Verbose($"Account {account.Location.AbsoluteUri} now uses the key {newKey}.");
        return account.WithKey(newKey);
    }

    private async Task<AcmeAccount?> TryFindAccountAsync(AcmeKey key, CancellationToken cancellationToken)
    {
        try
        {
            return await FindAccountAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (AcmeProblemException e) when (e.Problem.Type == AcmeProblemTypes.AccountDoesNotExist)
        {
            return null;
        }
    }

    private AcmeArgumentException KeyInUse(AcmeAccount account, Uri? holder, Exception? inner) =>
        new(AcmeErrorId.AccountKeyInUse, $"The new key already belongs to {(holder is null ? "another account" : "the account " + holder)} on " +
            $"{Connection.Server}; the key of {account.Location} was not changed.", inner);
}
