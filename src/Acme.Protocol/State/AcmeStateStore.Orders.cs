using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;
using Acme.Protocol.Model;

namespace Acme.Protocol.State;

/// <summary>
/// Orders: &lt;server&gt;/certificates/&lt;name&gt;/order.json holds the name's latest order as it was
/// last seen, the key type it asked for, and which "order-key-*.pem" file holds the certificate key
/// saved for it before finalize.
/// </summary>
public sealed partial class AcmeStateStore
{
    private const string OrderFile = "order.json";

    /// <summary>
    /// The order saved under the name, as it was last seen (no request is sent), placed by the account
    /// <paramref name="accounts"/> returns for its saved name. Null when the name has no order.
    /// </summary>
    public AcmeOrder? ReadOrder(AcmeServer server, string name, Func<string, AcmeAccount?> accounts)
    {
        CheckName(name, "a certificate");
        string file = Path.Combine(CertificateFolder(server, name), OrderFile);
        JsonObject? json = ReadJson(file);
        if (json is null)
        {
            return null;
        }

        string accountName = json.GetString("account") ?? throw Corrupt(file, "it names no account");
        AcmeAccount account = accounts(accountName) ?? throw new AcmeArgumentException(AcmeErrorId.AccountNotFound,
            $"The order '{name}' was placed by the account '{accountName}', which is not in the state folder {Root}.");
        AcmeOrder order = OrderFromJson(file, json, account);
        order.Name = name;
        return order;
    }

    /// <summary>Saves the order as the certificate's latest, keeping the record of a key saved for this same order.</summary>
    internal void WriteOrder(AcmeOrder order)
    {
        string file = Path.Combine(CertificateFolder(order.Account.Server, order.Name!), OrderFile);
        JsonObject json = ReadJson(file) ?? new JsonObject();
        JsonObject? savedKey = json.GetObject("orderKey");
        json["name"] = order.Name;
        json["account"] = order.Account.Name;
        json["order"] = OrderToJson(order);
        json["savedAt"] = DateTimeOffset.UtcNow;
        if (order.KeyAlgorithm is AcmeKeyAlgorithm algorithm)
        {
            json["keyAlgorithm"] = algorithm.ToString();
        }

        if (savedKey is not null && savedKey.GetString("order") != order.Location.AbsoluteUri)
        {
            // A key for another order stays on disk (the CA may have seen it), but no longer belongs to this one.
            json.Remove("orderKey");
        }

        WriteJson(file, json);
    }

    /// <summary>
    /// Saves the certificate key of an order before finalize sends its CSR (RFC 8555 section 7.4), so
    /// a process that dies after finalize can still download the certificate and use it.
    /// </summary>
    internal void WriteOrderKey(AcmeOrder order, AcmeKey key)
    {
        string folder = CertificateFolder(order.Account.Server, order.Name!);
        string keyFile = "order-key-" + key.Thumbprint.Substring(0, 12) + ".pem";
        RemoveOrderKeys(folder, except: keyFile);
        WriteKey(Path.Combine(folder, keyFile), key);
        string file = Path.Combine(folder, OrderFile);
        JsonObject json = ReadJson(file) ?? new JsonObject { ["name"] = order.Name, ["account"] = order.Account.Name, ["order"] = OrderToJson(order) };
        json["orderKey"] = new JsonObject { ["order"] = order.Location.AbsoluteUri, ["file"] = keyFile, ["thumbprint"] = key.Thumbprint };
        WriteJson(file, json);
    }

    /// <summary>The certificate key saved for this order (by <see cref="WriteOrderKey"/>), if any.</summary>
    internal AcmeKey? ReadOrderKey(AcmeOrder order)
    {
        string folder = CertificateFolder(order.Account.Server, order.Name!);
        JsonObject? saved = ReadJson(Path.Combine(folder, OrderFile))?.GetObject("orderKey");
        if (saved is null || saved.GetString("order") != order.Location.AbsoluteUri || saved.GetString("file") is not { } keyFile)
        {
            return null;
        }

        return ReadKey(Path.Combine(folder, Path.GetFileName(keyFile)));
    }

    /// <summary>The key type saved for the certificate's next order (the one its last order asked for).</summary>
    internal AcmeKeyAlgorithm? ReadKeyAlgorithm(AcmeServer server, string name) =>
        ReadJson(Path.Combine(CertificateFolder(server, name), OrderFile))?.GetString("keyAlgorithm") is { } text
            && Enum.TryParse(text, out AcmeKeyAlgorithm algorithm) ? algorithm : null;


    /// <summary>
    /// Deletes the saved order keys of a certificate but <paramref name="except"/>: each is the key of
    /// an order this name no longer has. Called under the certificate's lock.
    /// </summary>
    private void RemoveOrderKeys(string folder, string? except)
    {
        foreach (string file in _files.Files(folder, "order-key-"))
        {
            if (file.EndsWith(".pem", StringComparison.Ordinal) && !string.Equals(file, except, StringComparison.Ordinal))
            {
                _files.DeleteFile(Path.Combine(folder, file));
            }
        }
    }

    /// <summary>Removes the saved order and its unused keys; the certificate's issued versions stay.</summary>
    internal void DeleteOrder(AcmeOrder order)
    {
        string folder = CertificateFolder(order.Account.Server, order.Name!);
        DeleteFile(Path.Combine(folder, OrderFile));
        RemoveOrderKeys(folder, except: null);

        if (!_files.FileExists(Path.Combine(folder, CurrentFile)))
        {
            DeleteFolderExceptLock(folder);
        }
    }

    private static JsonObject OrderToJson(AcmeOrder order)
    {
        var json = new JsonObject
        {
            ["location"] = order.Location.AbsoluteUri,
            ["status"] = AcmeStatusParser.ToWire(order.Status),
            ["identifiers"] = order.Identifiers.Select(i => (object?)i.ToJson()).ToList(),
            ["authorizations"] = order.AuthorizationUrls.Select(u => (object?)u.AbsoluteUri).ToList(),
            ["finalize"] = order.Finalize.AbsoluteUri,
        };
        Put(json, "expires", order.Expires);
        Put(json, "notBefore", order.NotBefore);
        Put(json, "notAfter", order.NotAfter);
        Put(json, "certificate", order.Certificate?.AbsoluteUri);
        Put(json, "profile", order.Profile);
        Put(json, "replaces", order.Replaces);
        Put(json, "authorized", order.Authorized is int authorized ? (object)(long)authorized : null);
        IReadOnlyList<AcmePersistentRecord> persistent = order.PersistentRecords;
        Put(json, "persistentRecords", persistent.Count == 0 ? null : persistent.Select(r => (object?)r.ToJson()).ToList());
        return json;
    }

    private static void Put(JsonObject json, string key, object? value)
    {
        if (value is not null)
        {
            json[key] = value;
        }
    }

    /// <summary>An order from its saved wire form ("order") and URL ("location" or the order's own "location").</summary>
    private static AcmeOrder OrderFromJson(string file, JsonObject json, AcmeAccount account)
    {
        JsonObject wire = json.GetObject("order") ?? throw Corrupt(file, "it holds no order");
        Uri location = json.GetUri("location") ?? wire.GetUri("location") ?? throw Corrupt(file, "the order has no URL");
        var order = new AcmeOrder(account, location);
        try
        {
            order.Update(wire);
        }
        catch (AcmeProtocolException e)
        {
            throw Corrupt(file, e.Message, e);
        }

        if (json.GetString("keyAlgorithm") is { } text && Enum.TryParse(text, out AcmeKeyAlgorithm algorithm))
        {
            order.KeyAlgorithm = algorithm;
        }

        if (wire.GetInt64("authorized") is { } authorized)
        {
            order.Authorized = (int)authorized;
        }

        if (wire.GetArray("persistentRecords") is { } persistent)
        {
            order.PersistentRecords = persistent.OfType<JsonObject>().Select(AcmePersistentRecord.FromJson)
                .Where(r => r is not null).Select(r => r!).ToList();
        }

        return order;
    }
}
