using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Model;

namespace Acme.Protocol.Issuance;

/// <summary>
/// Presents and withdraws the answers for one challenge type (after acmez's Solver). Implementations
/// must honour cancellation, and <see cref="CleanupAsync"/> must undo whatever
/// <see cref="PresentAsync"/> managed to do, even when it failed half-way.
/// </summary>
public interface IChallengeSolver
{
    /// <summary>The challenge type this solver answers, such as "http-01".</summary>
    string ChallengeType { get; }

    /// <summary>Makes every answer visible to the CA; returns only when they are (checked where it can be).</summary>
    Task PresentAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken);

    /// <summary>Withdraws the answers. Called once, after success, failure or cancellation.</summary>
    Task CleanupAsync(IReadOnlyList<AcmeChallenge> challenges, CancellationToken cancellationToken);
}
