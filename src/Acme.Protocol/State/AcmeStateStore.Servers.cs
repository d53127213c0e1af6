using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using Acme.Protocol.Crypto;
using Acme.Protocol.Errors;
using Acme.Protocol.Json;
using Acme.Protocol.Model;

namespace Acme.Protocol.State;

/// <summary>
/// Servers: &lt;server&gt;/server.json records the directory URL and how to trust it, and
/// trusted-root.pem a private CA's root given once, so accounts read back reconnect the same way.
/// </summary>
public sealed partial class AcmeStateStore
{
    private const string ServerFile = "server.json";
    private const string TrustedRootFile = "trusted-root.pem";

    /// <summary>Every server with a folder here, each with the trust saved for it.</summary>
    public IReadOnlyList<AcmeServer> GetServers()
    {
        var servers = new List<AcmeServer>();
        foreach (string folder in _files.Folders(_files.PathRoot).OrderBy(f => f, StringComparer.Ordinal).Select(f => Path.Combine(_files.PathRoot, f)))
        {
            if (ReadServerFile(folder) is { } server)
            {
                servers.Add(server);
            }
        }

        return servers;
    }

    /// <summary>
    /// The server as saved here, when the caller gave no trust of its own: a private CA's root given
    /// once (to New-AcmeAccount) is used again for the same directory.
    /// </summary>
    public AcmeServer WithSavedTrust(AcmeServer server)
    {
        if (server.TrustedRoot is not null || server.SkipCertificateCheck)
        {
            return server;
        }

        AcmeServer? saved = ReadServerFile(ServerFolder(server));
        return saved is not null && saved.DirectoryUrl == server.DirectoryUrl ? saved : server;
    }

    /// <summary>Writes server.json (and the private root) for the server, so accounts read back reconnect the same way.</summary>
    internal void WriteServer(AcmeServer server)
    {
        string folder = ServerFolder(server);
        CreateRoot();
        AcmeServer? saved = ReadServerFile(folder);
        if (saved is not null && saved.DirectoryUrl != server.DirectoryUrl)
        {
            throw new AcmeLocalException(AcmeErrorId.StateConflict,
                $"The folder {folder} belongs to {saved.DirectoryUrl}, not {server.DirectoryUrl}; use another state folder for this server.");
        }

        if (server.TrustedRoot is null && !server.SkipCertificateCheck && saved is not null)
        {
            return;
        }

        var json = new JsonObject { ["directoryUrl"] = server.DirectoryUrl.AbsoluteUri, ["name"] = server.Name };
        if (server.SkipCertificateCheck)
        {
            json["skipCertificateCheck"] = true;
        }

        if (server.TrustedRoot is not null)
        {
            WriteFile(Path.Combine(folder, TrustedRootFile), Pem.Encode("CERTIFICATE", server.TrustedRoot.RawData), ownerOnly: false);
            json["trustedRoot"] = TrustedRootFile;
        }

        WriteJson(Path.Combine(folder, ServerFile), json);
    }

    private AcmeServer? ReadServerFile(string folder)
    {
        JsonObject? json = ReadJson(Path.Combine(folder, ServerFile));
        if (json is null)
        {
            return null;
        }

        Uri url = json.GetUri("directoryUrl") ?? throw Corrupt(Path.Combine(folder, ServerFile), "it names no directoryUrl");
        X509Certificate2? root = null;
        if (json.GetString("trustedRoot") is { } rootFile)
        {
            string path = Path.Combine(folder, Path.GetFileName(rootFile));
            try
            {
                root = AcmeCertificate.FromPem(_files.ReadText(path) ?? throw new FileNotFoundException("The file is missing.", path)).Certificate;
            }
            catch (Exception e) when (e is IOException or AcmeException)
            {
                throw Corrupt(path, e.Message, e);
            }
        }

        return new AcmeServer(url, root, json.GetBoolean("skipCertificateCheck") ?? false);
    }

    /// <summary>The saved servers that <paramref name="server"/> selects: all of them when null.</summary>
    private IEnumerable<AcmeServer> Servers(AcmeServer? server) =>
        server is null ? GetServers() : GetServers().Where(s => s.DirectoryUrl == server.DirectoryUrl);
}
