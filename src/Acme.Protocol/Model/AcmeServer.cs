using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using Acme.Protocol.Errors;

namespace Acme.Protocol.Model;

/// <summary>
/// Which ACME server to talk to and how to trust its TLS certificate. Plain data, so an account
/// read back later reconnects the same way.
/// </summary>
public sealed class AcmeServer
{
    private static readonly Dictionary<string, Uri> s_shortcuts = new(StringComparer.OrdinalIgnoreCase)
    {
        ["LetsEncrypt"] = new Uri("https://acme-v02.api.letsencrypt.org/directory"),
        ["LetsEncryptStaging"] = new Uri("https://acme-staging-v02.api.letsencrypt.org/directory"),
        ["ZeroSSL"] = new Uri("https://acme.zerossl.com/v2/DV90"),
        ["GoogleTrust"] = new Uri("https://dv.acme-v02.api.pki.goog/directory"),
        ["GoogleTrustStaging"] = new Uri("https://dv.acme-v02.test-api.pki.goog/directory"),
    };

    public AcmeServer(Uri directoryUrl, X509Certificate2? trustedRoot = null, bool skipCertificateCheck = false)
    {
        DirectoryUrl = directoryUrl ?? throw new ArgumentNullException(nameof(directoryUrl));
        TrustedRoot = trustedRoot;
        SkipCertificateCheck = skipCertificateCheck;
        Name = s_shortcuts.FirstOrDefault(p => p.Value == directoryUrl).Key ?? directoryUrl.Host;
    }

    /// <summary>The server's shortcut names and their directory URLs.</summary>
    public static IReadOnlyDictionary<string, Uri> Shortcuts => s_shortcuts;

    /// <summary>The shortcut name of a well-known CA, otherwise the directory's host name.</summary>
    public string Name { get; }

    public Uri DirectoryUrl { get; }

    /// <summary>A private CA's root: the directory connection trusts chains ending in it (and only it).</summary>
    public X509Certificate2? TrustedRoot { get; }

    /// <summary>For tests against throwaway CAs only: the directory connection accepts any certificate.</summary>
    public bool SkipCertificateCheck { get; }

    /// <summary>
    /// Resolves a shortcut name or a directory URL. Only https URLs are accepted: RFC 8555 section 6.1
    /// says "Each ACME function is accomplished by the client sending a sequence of HTTPS requests".
    /// </summary>
    public static Uri ResolveDirectoryUrl(string nameOrUrl)
    {
        if (string.IsNullOrWhiteSpace(nameOrUrl))
        {
            throw new AcmeArgumentException(AcmeErrorId.InvalidServer, "The server is empty; give a shortcut name (" +
                string.Join(", ", s_shortcuts.Keys) + ") or an https directory URL.");
        }

        string trimmed = nameOrUrl.Trim();
        if (s_shortcuts.TryGetValue(trimmed, out Uri? known))
        {
            return known;
        }

        if (Uri.TryCreate(trimmed, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            if (uri.Scheme != Uri.UriSchemeHttps)
            {
                throw new AcmeArgumentException(AcmeErrorId.InvalidServer,
                    $"The directory URL '{trimmed}' is not https. RFC 8555 requires HTTPS for every ACME request.");
            }

            return uri;
        }

        throw new AcmeArgumentException(AcmeErrorId.InvalidServer, $"'{trimmed}' is neither a known server (" +
            string.Join(", ", s_shortcuts.Keys) + ") nor an https directory URL.");
    }

    /// <summary>The key that identifies one connection (and one nonce pool) in the connection cache.</summary>
    internal string ConnectionKey =>
        DirectoryUrl.AbsoluteUri + "|" + (TrustedRoot?.Thumbprint ?? "-") + "|" + (SkipCertificateCheck ? "insecure" : "checked");

    public override string ToString() => Name;
}
