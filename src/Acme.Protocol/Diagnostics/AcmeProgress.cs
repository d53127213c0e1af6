using System.Threading;
using System.Threading.Tasks;

namespace Acme.Protocol.Diagnostics;

/// <summary>What a wait reports, so the cmdlet layer can show Write-Progress.</summary>
public sealed class AcmeProgress
{
    public AcmeProgress(string activity, string status, int percentComplete = -1, int secondsRemaining = -1, bool completed = false)
    {
        Activity = activity;
        Status = status;
        PercentComplete = percentComplete;
        SecondsRemaining = secondsRemaining;
        Completed = completed;
    }

    public string Activity { get; }

    public string Status { get; }

    public int PercentComplete { get; }

    public int SecondsRemaining { get; }

    public bool Completed { get; }
}
