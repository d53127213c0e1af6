using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Model;

namespace Acme.Protocol.Issuance;

/// <summary>
/// Chooses among the chains a CA offers for one certificate (RFC 8555 section 7.4.2: "the server MAY
/// provide one or more link relation header fields [RFC8288] with relation 'alternate'. Each such
/// field SHOULD express an alternative certificate chain").
/// </summary>
public static class ChainSelector
{
    /// <summary>
    /// The chain whose topmost certificate was issued by <paramref name="preferredIssuer"/> (its issuer's
    /// common name or whole distinguished name, ignoring case), as certbot's and lego's
    /// --preferred-chain match. When no topmost issuer matches, a chain in which a lower certificate's
    /// issuer matches is taken, the nearest to the top winning; when nothing matches, the CA's default
    /// chain (the first) is kept and the log says so. The result lists the other chains in
    /// <see cref="AcmeCertificate.AlternateChains"/>.
    /// </summary>
    public static AcmeCertificate Choose(IReadOnlyList<AcmeCertificate> chains, string? preferredIssuer, IAcmeLog? log = null)
    {
        if (chains is null || chains.Count == 0)
        {
            throw new ArgumentException("There is no chain to choose from.", nameof(chains));
        }

        AcmeCertificate chosen = chains[0];
        if (!string.IsNullOrWhiteSpace(preferredIssuer))
        {
            string wanted = preferredIssuer!.Trim();
            AcmeCertificate? match = chains
                .Select(chain => (Chain: chain, Distance: DistanceFromTop(chain, wanted)))
                .Where(c => c.Distance >= 0)
                .OrderBy(c => c.Distance)
                .Select(c => c.Chain)
                .FirstOrDefault();
            if (match is null)
            {
                log?.Verbose($"No chain the CA offered is issued by '{wanted}' (offered: " +
                    string.Join("; ", chains.Select(c => c.ChainIssuer ?? c.Issuer)) + "); the default chain was kept.");
            }
            else
            {
                chosen = match;
                log?.Verbose($"Chose the chain up to '{chosen.ChainIssuer ?? chosen.Issuer}'.");
            }
        }

        chosen.AlternateChains = chains.Where(c => !ReferenceEquals(c, chosen)).ToArray();
        return chosen;
    }

    /// <summary>How far below the top of the chain the first certificate issued by <paramref name="issuer"/> sits, or -1.</summary>
    private static int DistanceFromTop(AcmeCertificate chain, string issuer)
    {
        var fromTop = chain.Chain.Reverse().Concat(new[] { chain.Certificate }).ToList();
        for (int i = 0; i < fromTop.Count; i++)
        {
            if (IssuedBy(fromTop[i], issuer))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IssuedBy(X509Certificate2 certificate, string issuer) =>
        string.Equals(certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: true), issuer, StringComparison.OrdinalIgnoreCase)
        || string.Equals(certificate.Issuer, issuer, StringComparison.OrdinalIgnoreCase);
}
