using System;

namespace Acme.Protocol.Model;

/// <summary>
/// One export of a certificate version: the PEM files written (cert.pem, chain.pem, fullchain.pem and
/// key.pem, when the certificate carried its key), or the PFX file, and when. Full paths.
/// </summary>
public sealed class CertificateExport
{
    public CertificateExport(DateTimeOffset at, string? certFile, string? chainFile, string? fullChainFile, string? keyFile, string? pfxFile)
    {
        At = at;
        CertFile = certFile;
        ChainFile = chainFile;
        FullChainFile = fullChainFile;
        KeyFile = keyFile;
        PfxFile = pfxFile;
    }

    public DateTimeOffset At { get; }

    public string? CertFile { get; }

    public string? ChainFile { get; }

    public string? FullChainFile { get; }

    public string? KeyFile { get; }

    public string? PfxFile { get; }
}
