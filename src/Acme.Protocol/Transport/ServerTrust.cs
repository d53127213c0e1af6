using System;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Acme.Protocol.Transport;

/// <summary>Trust for a private CA's directory: chains that end in the given root, and no other name or time error.</summary>
internal static class ServerTrust
{
    public static bool Validate(X509Certificate2? certificate, X509Chain? presented, SslPolicyErrors errors, X509Certificate2 root)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
        chain.ChainPolicy.ExtraStore.Add(root);
        if (presented is not null)
        {
            foreach (X509ChainElement element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        if (!chain.Build(certificate))
        {
            return false;
        }

        X509Certificate2 top = chain.ChainElements[chain.ChainElements.Count - 1].Certificate;
        if (!string.Equals(top.Thumbprint, root.Thumbprint, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        foreach (X509ChainStatus status in chain.ChainStatus)
        {
            if (status.Status != X509ChainStatusFlags.UntrustedRoot && status.Status != X509ChainStatusFlags.NoError)
            {
                return false;
            }
        }

        return true;
    }
}
