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

namespace Acme.Protocol.State;

/// <summary>
/// Certificates: &lt;server&gt;/certificates/&lt;name&gt;/ holds the latest order (order.json), the
/// certificate key saved before finalize, and each issued version in a folder named by its thumbprint,
/// with "current" naming the one in use.
/// </summary>
public sealed partial class AcmeStateStore
{
    private const string CurrentFile = "current";
    private const string CertificateFile = "certificate.json";
    private const string ChainFile = "fullchain.pem";
    private const string KeyFile = "key.pem";

    private static readonly Regex s_thumbprint = new("^[0-9A-F]{40}$", RegexOptions.CultureInvariant);

    /// <summary>How many versions of a certificate a renewal keeps (the current one among them) when nobody says otherwise.</summary>
    public const int DefaultKeepVersions = 3;

    /// <summary>The saved certificates' (and orders') servers and names, of one server or of all.</summary>
    public IReadOnlyList<(AcmeServer Server, string Name)> GetCertificateNames(AcmeServer? server = null) =>
        Servers(server)
            .SelectMany(s => ItemNames(Path.Combine(ServerFolder(s), CertificatesFolder)).Select(n => (s, n)))
            .ToList();

    /// <summary>
    /// Saves an issued certificate as a new version and makes it current: the version folder is
    /// written under a temporary name and renamed whole, then "current" is replaced, then the order is
    /// updated and the order key it no longer needs is removed. Last, the oldest versions beyond
    /// <paramref name="keepVersions"/> (the current one counts, and is never removed) are deleted with
    /// their keys; their thumbprints are returned.
    /// </summary>
    internal IReadOnlyList<string> WriteCertificate(AcmeCertificate certificate, int keepVersions = DefaultKeepVersions)
    {
        AcmeOrder order = certificate.Order ?? throw new InvalidOperationException("The certificate has no order.");
        string name = order.Name ?? throw new InvalidOperationException("The order has no name.");
        string folder = CertificateFolder(order.Account.Server, name);
        string thumbprint = certificate.Thumbprint.ToUpperInvariant();
        string version = Path.Combine(folder, thumbprint);
        CreateFolder(folder);

        // Left by a process that died mid-write (taking the lock sweeps them too); this one holds the
        // certificate's lock, so nobody is writing them.
        _files.SweepTemporary(folder);
        if (!_files.FolderExists(version))
        {
            string temp = Path.Combine(folder, "." + thumbprint + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp");
            try
            {
                CreateFolder(temp);
                WriteVersion(temp, certificate, order);
                _files.MoveFolder(temp, version);
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
            if (certificate.Key is not null && !_files.FileExists(Path.Combine(version, KeyFile)))
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
        return PruneVersions(folder, thumbprint, keepVersions);
    }

    /// <summary>
    /// Deletes the oldest versions (by the end of their validity, then when they were saved) so that at
    /// most <paramref name="keep"/> remain, <paramref name="current"/> always among them.
    /// </summary>
    private IReadOnlyList<string> PruneVersions(string folder, string current, int keep)
    {
        var older = _files.Folders(folder)
            .Where(n => n is not null && s_thumbprint.IsMatch(n) && n != current)
            .Select(n => (Name: n!, Json: TryReadJson(Path.Combine(folder, n!, CertificateFile))))
            .OrderByDescending(v => v.Json?.GetTimestamp("notAfter") ?? DateTimeOffset.MinValue)
            .ThenByDescending(v => v.Json?.GetTimestamp("savedAt") ?? DateTimeOffset.MinValue)
            // Versions issued within one second tie on both: the file's own time (finer) decides.
            .ThenByDescending(v => _files.LastWriteTimeUtc(Path.Combine(folder, v.Name, CertificateFile)))
            .Skip(Math.Max(0, keep - 1))
            .Select(v => v.Name)
            .ToList();
        foreach (string version in older)
        {
            _files.DeleteFolder(Path.Combine(folder, version));
        }

        return older;
    }

    private JsonObject? TryReadJson(string path)
    {
        try
        {
            return ReadJson(path);
        }
        catch (AcmeLocalException)
        {
            // An unreadable version sorts as the oldest.
            return null;
        }
    }

    /// <summary>
    /// The thumbprint the name's current pointer names (without reading the version), or null when the
    /// name has no issued certificate: a host holding the name's lease checks it was not renewed meanwhile.
    /// </summary>
    public string? ReadCurrentThumbprint(AcmeServer server, string name)
    {
        string currentFile = Path.Combine(CertificateFolder(server, CheckName(name, "a certificate")), CurrentFile);
        return _files.ReadText(currentFile)?.Trim();
    }

    /// <summary>The thumbprints of the saved versions under the name, the current one included.</summary>
    public IReadOnlyList<string> GetVersionThumbprints(AcmeServer server, string name)
    {
        string folder = CertificateFolder(server, CheckName(name, "a certificate"));
        return _files.Folders(folder).Where(n => s_thumbprint.IsMatch(n)).OrderBy(n => n, StringComparer.Ordinal).ToList();
    }

    private void TryDeleteFolder(string folder)
    {
        try
        {
            _files.DeleteFolder(folder);
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
        if (_files.ReadText(currentFile) is not { } currentText)
        {
            return null;
        }

        string thumbprint = currentText.Trim();
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
            certificate = AcmeCertificate.FromPem(_files.ReadText(chainFile) ?? throw new FileNotFoundException("The file is missing.", chainFile));
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
        for (int i = 1; _files.ReadText(Path.Combine(version, $"alternate-{i}.pem")) is { } alternate; i++)
        {
            alternates.Add(AcmeCertificate.FromPem(alternate));
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
            c.SavedAt = json.GetTimestamp("savedAt");
        }

        foreach (CertificateExport export in ReadExports(json))
        {
            certificate.SetExport(export);
        }

        certificate.AlternateChains = alternates;
        return certificate;
    }

    /// <summary>The key of a saved version, to attach to the same certificate downloaded again.</summary>
    internal AcmeKey? ReadVersionKey(AcmeServer server, string name, string thumbprint) =>
        ReadKey(Path.Combine(CertificateFolder(server, name), thumbprint.ToUpperInvariant(), KeyFile));

    /// <summary>Removes everything saved under the certificate's name: every version and key, and its order.</summary>
    internal void DeleteCertificate(AcmeServer server, string name) => DeleteFolderExceptLock(CertificateFolder(server, name));

    /// <summary>
    /// Deletes a folder's content while its lock is held; the lock file goes last, after the lock is
    /// released, by <see cref="DeleteEmptyFolder"/>.
    /// </summary>
    private void DeleteFolderExceptLock(string folder)
    {
        foreach (string file in _files.Files(folder))
        {
            _files.DeleteFile(Path.Combine(folder, file));
        }

        foreach (string sub in _files.Folders(folder))
        {
            _files.DeleteFolder(Path.Combine(folder, sub));
        }
    }

    /// <summary>Removes a certificate's folder when nothing but its lock file is left in it.</summary>
    internal void DeleteEmptyFolder(AcmeServer server, string name) => DeleteFolderIfOnlyLock(CertificateFolder(server, name));

    private void DeleteFolderIfOnlyLock(string folder)
    {
        try
        {
            if (_files.FolderExists(folder) && _files.Files(folder).Count == 0 && _files.Folders(folder).Count == 0)
            {
                _files.DeleteFolder(folder);
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
}
