namespace Acme.Protocol.Diagnostics;

/// <summary>
/// A log that can also warn: what a user should see without -Verbose (a renewal check that fell back
/// to the lifetime rule because the CA's renewal information failed). Logs without it get a verbose line.
/// </summary>
public interface IAcmeWarningLog : IAcmeLog
{
    void Warning(string message);
}
