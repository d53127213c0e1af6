using System;
using System.IO;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;

namespace Acme.Protocol.State;

/// <summary>What the state steps (<see cref="AccountSteps"/>, <see cref="OrderSteps"/>, <see cref="CertificateSteps"/>, <see cref="RemovalSteps"/>) share.</summary>
internal static class StepSupport
{
    /// <summary>A file system failure while saving, as AcmeStateWriteFailed naming what was being saved.</summary>
    internal static void Write(string what, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AcmeLocalException(AcmeErrorId.StateWriteFailed, $"Could not save {what} in the state folder: {e.Message}", e);
        }
    }

    /// <summary>A warning where the log can warn, else a verbose line.</summary>
    internal static void Warn(IAcmeLog log, string message)
    {
        if (log is IAcmeWarningLog warnings)
        {
            warnings.Warning(message);
        }
        else
        {
            log.Verbose(message);
        }
    }
}
