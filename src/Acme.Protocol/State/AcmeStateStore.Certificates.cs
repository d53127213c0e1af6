using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Acme.Protocol.Crypto;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;
using Acme.Protocol.Model;
using Acme.Protocol.Renewal;

namespace Acme.Protocol.State;

/// <summary>
/// Certificates: &lt;server&gt;/certificates/&lt;name&gt;/ holds the latest order (order.json), the
/// certificate key saved before finalize, and each issued version in a folder named by its thumbprint,
/// with "current" naming the one in use.
/// </summary>
public sealed partial class AcmeStateStore
{
    private const string OrderFile = "order.json";
    private const string CurrentFile = "current";
    private const string CertificateFile = "certificate.json";
    private const string ChainFile = "fullchain.pem";
    private const string KeyFile = "key.pem";

    private static readonly Regex s_thumbprint = new("^[0-9A-F]{40}$", RegexOptions.CultureInvariant);

    /// <summary>The saved certificates' (and orders') servers and names, of one server or of all.</summary>
    public IReadOnlyList<(AcmeServer Server, string Name)> GetCertificateNames(AcmeServer? server = null) =>
        Servers(server)
            .SelectMany(s => ItemNames(Path.Combine(ServerFolder(s), CertificatesFolder)).Select(n => (s, n)))
            .ToList();

    // ----- orders -----

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

    // ----- certificates -----

    /// <summary>
    /// Saves an issued certificate as a new version and makes it current: the version folder is
    /// written under a temporary name and renamed whole, then "current" is replaced, then the order is
    /// updated and the order key it no longer needs is removed.
    /// </summary>
    internal void WriteCertificate(AcmeCertificate certificate)
    {
        AcmeOrder order = certificate.Order ?? throw new InvalidOperationException("The certificate has no order.");
        string name = order.Name ?? throw new InvalidOperationException("The order has no name.");
        string folder = CertificateFolder(order.Account.Server, name);
        string thumbprint = certificate.Thumbprint.ToUpperInvariant();
        string version = Path.Combine(folder, thumbprint);
        CreateFolder(folder);

        // Left by a process that died mid-write (taking the lock sweeps them too); this one holds the
        // certificate's lock, so nobody is writing them.
        StateLock.SweepTemporary(folder, NullAcmeLog.Instance);
        if (!Directory.Exists(version))
        {
            string temp = Path.Combine(folder, "." + thumbprint + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp");
            try
            {
                CreateFolder(temp);
                WriteVersion(temp, certificate, order);
                Directory.Move(temp, version);
            }
            catch
            {
                // Never leave a half-written version (and the key in it) for a later sweep.
                TryDeleteFolder(temp);
                throw;
            }
        }
        else
        {
            if (certificate.Key is not null && !File.Exists(Path.Combine(version, KeyFile)))
            {
                WriteKey(Path.Combine(version, KeyFile), certificate.Key);
            }

            JsonObject json = ReadJson(Path.Combine(version, CertificateFile)) ?? new JsonObject();
            FillCertificateJson(json, certificate, order);
            WriteJson(Path.Combine(version, CertificateFile), json);
        }

        WriteFile(Path.Combine(folder, CurrentFile), thumbprint + "\n", ownerOnly: false);
        WriteOrder(order);

        // The order's key now lives in the version; keys of orders abandoned before it (a failed
        // validation, Ctrl+C after finalize) will never be used, so none stays on disk.
        RemoveOrderKeys(folder, except: null);
    }

    /// <summary>
    /// Deletes the saved order keys of a certificate but <paramref name="except"/>: each is the key of
    /// an order this name no longer has. Called under the certificate's lock.
    /// </summary>
    private static void RemoveOrderKeys(string folder, string? except)
    {
        foreach (string file in Directory.Exists(folder) ? Directory.GetFiles(folder, "order-key-*.pem") : Array.Empty<string>())
        {
            if (!string.Equals(Path.GetFileName(file), except, StringComparison.Ordinal))
            {
                File.Delete(file);
            }
        }
    }

    private static void TryDeleteFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The lock's sweep removes it on the next run.
        }
    }

    private void WriteVersion(string folder, AcmeCertificate certificate, AcmeOrder order)
    {
        if (certificate.Key is not null)
        {
            WriteKey(Path.Combine(folder, KeyFile), certificate.Key);
        }

        WriteFile(Path.Combine(folder, ChainFile), certificate.Pem, ownerOnly: false);
        for (int i = 0; i < certificate.AlternateChains.Count; i++)
        {
            WriteFile(Path.Combine(folder, $"alternate-{i + 1}.pem"), certificate.AlternateChains[i].Pem, ownerOnly: false);
        }

        var json = new JsonObject();
        FillCertificateJson(json, certificate, order);
        WriteJson(Path.Combine(folder, CertificateFile), json);
    }

    private static void FillCertificateJson(JsonObject json, AcmeCertificate certificate, AcmeOrder order)
    {
        json["name"] = order.Name;
        json["account"] = order.Account.Name;
        json["thumbprint"] = certificate.Thumbprint;
        json["names"] = certificate.Names.Cast<object?>().ToList();
        json["notAfter"] = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        json["orderLocation"] = order.Location.AbsoluteUri;
        json["order"] = OrderToJson(order);
        if (certificate.Location is not null)
        {
            json["location"] = certificate.Location.AbsoluteUri;
        }

        if (certificate.Key is not null)
        {
            json["keyType"] = certificate.Key.Name;
        }

        json["savedAt"] = DateTimeOffset.UtcNow;
    }

    /// <summary>
    /// The certificate version in use under the name, with its key, chains and the order it came from
    /// (placed by the account <paramref name="accounts"/> returns; without one, Order is null). Null
    /// when the name has no issued certificate yet.
    /// </summary>
    public AcmeCertificate? ReadCertificate(AcmeServer server, string name, Func<string, AcmeAccount?> accounts)
    {
        CheckName(name, "a certificate");
        string folder = CertificateFolder(server, name);
        string currentFile = Path.Combine(folder, CurrentFile);
        if (!File.Exists(currentFile))
        {
            return null;
        }

        string thumbprint = File.ReadAllText(currentFile).Trim();
        if (!s_thumbprint.IsMatch(thumbprint))
        {
            throw Corrupt(currentFile, "it does not hold a certificate thumbprint");
        }

        return ReadVersion(ReadServerFile(ServerFolder(server)) ?? server, name, Path.Combine(folder, thumbprint), accounts);
    }

    private AcmeCertificate ReadVersion(AcmeServer server, string name, string version, Func<string, AcmeAccount?> accounts)
    {
        string chainFile = Path.Combine(version, ChainFile);
        string jsonFile = Path.Combine(version, CertificateFile);
        AcmeCertificate certificate;
        try
        {
            certificate = AcmeCertificate.FromPem(File.ReadAllText(chainFile));
        }
        catch (Exception e) when (e is IOException or AcmeProtocolException)
        {
            throw Corrupt(chainFile, e.Message, e);
        }

        JsonObject json = ReadJson(jsonFile) ?? throw Corrupt(jsonFile, "the file is missing");
        AcmeKey? key = ReadKey(Path.Combine(version, KeyFile));
        if (key is not null && !key.MatchesCertificate(certificate.Certificate))
        {
            throw Corrupt(Path.Combine(version, KeyFile), "the key is not the certificate's");
        }

        AcmeOrder? order = null;
        if (json.GetString("account") is { } accountName && accounts(accountName) is { } account
            && json.GetObject("order") is { } orderJson && json.GetUri("orderLocation") is { } orderLocation)
        {
            order = OrderFromJson(jsonFile, new JsonObject { ["order"] = orderJson, ["location"] = orderLocation.AbsoluteUri }, account);
            order.Name = name;
        }

        var alternates = new List<AcmeCertificate>();
        for (int i = 1; File.Exists(Path.Combine(version, $"alternate-{i}.pem")); i++)
        {
            alternates.Add(AcmeCertificate.FromPem(File.ReadAllText(Path.Combine(version, $"alternate-{i}.pem"))));
        }

        foreach (AcmeCertificate c in alternates.Prepend(certificate))
        {
            c.Key = key;
            c.Order = order;
            c.Location = json.GetUri("location");
            c.Name = name;
            c.SavedIn = this;
            c.SavedServer = server;
            c.RevokedAt = json.GetObject("revoked")?.GetTimestamp("at");
        }

        certificate.AlternateChains = alternates;
        return certificate;
    }

    /// <summary>The key of a saved version, to attach to the same certificate downloaded again.</summary>
    internal AcmeKey? ReadVersionKey(AcmeServer server, string name, string thumbprint) =>
        ReadKey(Path.Combine(CertificateFolder(server, name), thumbprint.ToUpperInvariant(), KeyFile));

    /// <summary>The ARI answer saved with a certificate version, if any.</summary>
    internal RenewalState? ReadRenewalState(AcmeCertificate certificate)
    {
        string file = VersionFile(certificate);
        JsonObject? renewal = ReadJson(file)?.GetObject("renewal");
        if (renewal is null)
        {
            return null;
        }

        DateTimeOffset? start = renewal.GetTimestamp("windowStart"), end = renewal.GetTimestamp("windowEnd"), selected = renewal.GetTimestamp("selected");
        DateTimeOffset? checkedAt = renewal.GetTimestamp("checkedAt"), nextCheck = renewal.GetTimestamp("nextCheck");
        if (renewal.GetString("certificateId") is not { } id || start is null || end is null || selected is null || checkedAt is null
            || nextCheck is null || end < start)
        {
            throw Corrupt(file, "its renewal information is incomplete");
        }

        return new RenewalState(id, new RenewalWindow(start.Value, end.Value, selected.Value), renewal.GetUri("explanationUrl"), checkedAt.Value,
            nextCheck.Value);
    }

    internal void WriteRenewalState(AcmeCertificate certificate, RenewalState state)
    {
        string file = VersionFile(certificate);
        JsonObject json = ReadJson(file) ?? throw Corrupt(file, "the file is missing");
        // Round-trip timestamps, not the whole seconds JsonCodec writes: every run must read back exactly the moment chosen.
        var renewal = new JsonObject
        {
            ["certificateId"] = state.CertificateId,
            ["windowStart"] = Exact(state.Window.Start),
            ["windowEnd"] = Exact(state.Window.End),
            ["selected"] = Exact(state.Window.Selected),
            ["checkedAt"] = Exact(state.CheckedAt),
            ["nextCheck"] = Exact(state.NextCheck),
        };
        if (state.ExplanationUrl is not null)
        {
            renewal["explanationUrl"] = state.ExplanationUrl.AbsoluteUri;
        }

        json["renewal"] = renewal;
        WriteJson(file, json);
    }

    internal void WriteRevocation(AcmeCertificate certificate, DateTimeOffset at, string? reason)
    {
        string file = VersionFile(certificate);
        JsonObject json = ReadJson(file) ?? throw Corrupt(file, "the file is missing");
        var revoked = new JsonObject { ["at"] = at };
        if (reason is not null)
        {
            revoked["reason"] = reason;
        }

        json["revoked"] = revoked;
        WriteJson(file, json);
    }

    /// <summary>Removes the saved order and its unused keys; the certificate's issued versions stay.</summary>
    internal void DeleteOrder(AcmeOrder order)
    {
        string folder = CertificateFolder(order.Account.Server, order.Name!);
        DeleteFile(Path.Combine(folder, OrderFile));
        RemoveOrderKeys(folder, except: null);

        if (!File.Exists(Path.Combine(folder, CurrentFile)))
        {
            DeleteFolderExceptLock(folder);
        }
    }

    /// <summary>Removes everything saved under the certificate's name: every version and key, and its order.</summary>
    internal void DeleteCertificate(AcmeServer server, string name) => DeleteFolderExceptLock(CertificateFolder(server, name));

    /// <summary>
    /// Deletes a folder's content while its lock is held; the lock file goes last, after the lock is
    /// released, by <see cref="DeleteEmptyFolder"/>.
    /// </summary>
    private static void DeleteFolderExceptLock(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return;
        }

        foreach (string file in Directory.GetFiles(folder).Where(f => Path.GetFileName(f) != StateLock.FileName))
        {
            File.Delete(file);
        }

        foreach (string sub in Directory.GetDirectories(folder))
        {
            Directory.Delete(sub, recursive: true);
        }
    }

    /// <summary>Removes a certificate's folder when nothing but its lock file is left in it.</summary>
    internal void DeleteEmptyFolder(AcmeServer server, string name)
    {
        string folder = CertificateFolder(server, name);
        try
        {
            if (Directory.Exists(folder) && Directory.GetFileSystemEntries(folder).All(e => Path.GetFileName(e) == StateLock.FileName))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // Another process took the lock again in the meantime; the folder stays for it.
        }
    }

    private string VersionFile(AcmeCertificate certificate)
    {
        AcmeServer server = certificate.SavedServer ?? throw new AcmeArgumentException(AcmeErrorId.NotSaved,
            $"The certificate {certificate.Thumbprint} is not saved in a state folder.");
        return Path.Combine(CertificateFolder(server, certificate.Name!), certificate.Thumbprint.ToUpperInvariant(), CertificateFile);
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
        return json;
    }

    private static string Exact(DateTimeOffset value) => value.UtcDateTime.ToString("o", System.Globalization.CultureInfo.InvariantCulture);

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

        return order;
    }
}
