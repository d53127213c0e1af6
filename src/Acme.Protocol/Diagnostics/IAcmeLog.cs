namespace Acme.Protocol.Diagnostics;

/// <summary>
/// Where the core writes its trace. The cmdlet layer binds it to -Verbose and -Debug; the core never
/// sees PowerShell. Messages never hold private keys, HMAC keys or passwords.
/// </summary>
public interface IAcmeLog
{
    /// <summary>One line per request and per state change.</summary>
    void Verbose(string message);

    /// <summary>Request and response bodies, with signatures and binding material redacted.</summary>
    void Debug(string message);

    /// <summary>False lets the core skip building debug text nobody reads.</summary>
    bool IsDebugEnabled { get; }
}

/// <summary>A log that discards everything.</summary>
public sealed class NullAcmeLog : IAcmeLog
{
    public static readonly NullAcmeLog Instance = new();

    public void Verbose(string message) { }

    public void Debug(string message) { }

    public bool IsDebugEnabled => false;
}
