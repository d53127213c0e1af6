using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Client;
using Acme.Protocol.Crypto;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;

namespace Acme.Protocol.Issuance;

/// <summary>
/// The porcelain over <see cref="AcmeClient"/>: answer an order's challenges, wait for the CA,
/// finalize and download (RFC 8555 section 7.1, the flow in figure 1).
/// </summary>
public static class OrderFlow
{
    /// <summary>
    /// Answers every pending authorization of the order that offers the solver's challenge type, waits
    /// until each is valid (or one is invalid), withdraws the answers, and refreshes the order.
    /// Authorizations that are already valid are left alone (the CA reused them); pending ones
    /// without this challenge type are left for another solver, so mixed orders pass through several.
    /// </summary>
    public static async Task<AcmeOrder> SolveAsync(AcmeClient client, AcmeOrder order, IChallengeSolver solver, RetryPolicy policy,
        IProgress<AcmeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (order.Authorizations.Count != order.AuthorizationUrls.Count)
        {
            await client.RefreshAuthorizationsAsync(order, cancellationToken).ConfigureAwait(false);
        }

        List<AcmeAuthorization> pending = order.Authorizations.Where(a => a.Status == AcmeAuthorizationStatus.Pending).ToList();
        if (pending.Count == 0)
        {
            client.Log.Verbose($"No authorization of order {order.Location} is pending; nothing to answer.");
            return order;
        }

        List<AcmeAuthorization> mine = pending.Where(a => a.GetChallenge(solver.ChallengeType) is not null).ToList();
        if (mine.Count == 0 && order.Authorizations.Any(a => a.Status == AcmeAuthorizationStatus.Valid))
        {
            // A mixed order whose part for this type is already valid (a reused authorization): the
            // pending rest belongs to the next solver in the pipeline, so pass the order on.
            client.Log.Verbose($"No pending authorization of order {order.Location} offers {solver.ChallengeType}; " +
                $"{string.Join(", ", pending.Select(a => a.Identifier.Value))} left for another challenge type.");
            return order;
        }

        if (mine.Count == 0)
        {
            string offered = string.Join("; ", pending.Select(a =>
                $"{a.Identifier.Value} offers {string.Join(", ", a.Challenges.Select(c => c.Type))}"));
            throw new AcmeArgumentException(AcmeErrorId.ChallengeTypeUnavailable,
                $"No pending authorization offers {solver.ChallengeType} ({offered})." +
                (pending.Any(a => a.Wildcard)
                    ? $" Wildcard names ({string.Join(", ", pending.Where(a => a.Wildcard).Select(a => a.Identifier.Value))}) can only be validated with dns-01."
                    : string.Empty));
        }

        foreach (AcmeAuthorization other in pending.Except(mine))
        {
            client.Log.Verbose($"{other.Identifier.Value} offers no {solver.ChallengeType} challenge; left for another challenge type.");
        }

        List<AcmeChallenge> challenges = mine.Select(a => a.GetChallenge(solver.ChallengeType)!).ToList();
        try
        {
            progress?.Report(new AcmeProgress("Answering challenges", $"Publishing {challenges.Count} {solver.ChallengeType} answer(s)"));
            await solver.PresentAsync(challenges, cancellationToken).ConfigureAwait(false);
            await Failpoint.HitAsync(Failpoint.ChallengeReady, client.Log, cancellationToken).ConfigureAwait(false);
            foreach (AcmeChallenge challenge in challenges)
            {
                // A challenge already processing (answered before, by an earlier attempt) needs no new POST.
                if (challenge.Status == AcmeChallengeStatus.Pending)
                {
                    await client.RespondToChallengeAsync(order.Account, challenge, cancellationToken).ConfigureAwait(false);
                }
            }

            await WaitForAuthorizationsAsync(client, order, mine, policy, progress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Withdraw even when cancelled: the token is already cancelled, so cleanup gets its own.
            using var cleanup = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await solver.CleanupAsync(challenges, cleanup.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                client.Log.Verbose($"Cleaning up the {solver.ChallengeType} answers failed: {e.Message}");
            }

            progress?.Report(new AcmeProgress("Answering challenges", "Done", completed: true));
        }

        if (order.Status == AcmeOrderStatus.Pending && order.Authorizations.Count == order.AuthorizationUrls.Count
            && order.Authorizations.All(a => a.Status == AcmeAuthorizationStatus.Valid))
        {
            // RFC 8555 section 7.1.6, order states: "pending -> ready: All authz 'valid'". The state
            // machine already says what a fetch would show, so no request is spent on it; finalize
            // re-reads the order should the server disagree (orderNotReady).
            order.Status = AcmeOrderStatus.Ready;
            client.Log.Verbose($"Every authorization of order {order.Location} is valid: the order is ready.");
            return order;
        }

        return await client.GetOrderAsync(order, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Polls the given authorizations until each is valid; the first one found invalid ends the wait
    /// with its challenge's error (RFC 8555 section 7.5.1: "the client SHOULD ... poll the
    /// authorization resource ... honoring the Retry-After header").
    /// </summary>
    public static async Task WaitForAuthorizationsAsync(AcmeClient client, AcmeOrder order, IReadOnlyList<AcmeAuthorization> authorizations,
        RetryPolicy policy, IProgress<AcmeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        DateTimeOffset start = DateTimeOffset.UtcNow;
        DateTimeOffset deadline = start + policy.Timeout;
        var current = authorizations.ToDictionary(a => a.Location);
        for (int attempt = 0; ; attempt++)
        {
            List<AcmeAuthorization> waiting = current.Values.Where(a => a.Status == AcmeAuthorizationStatus.Pending).ToList();
            int done = current.Count - waiting.Count;
            AcmeAuthorization? failed = current.Values.FirstOrDefault(a => a.Status != AcmeAuthorizationStatus.Pending && a.Status != AcmeAuthorizationStatus.Valid);
            if (failed is not null)
            {
                ReplaceInOrder(order, current.Values);
                throw AuthorizationFailure(failed);
            }

            if (waiting.Count == 0)
            {
                ReplaceInOrder(order, current.Values);
                return;
            }

            TimeSpan? retryAfter = waiting.Select(a => a.RetryAfter).Where(r => r is not null).DefaultIfEmpty(null).Max();
            DateTimeOffset now = DateTimeOffset.UtcNow;
            TimeSpan? delay = attempt == 0 && retryAfter is null ? policy.InitialDelay : policy.NextDelay(attempt, retryAfter, now, deadline);
            if (delay is null || now >= deadline)
            {
                string names = CaText.Clean(string.Join(", ", waiting.Select(a => a.Identifier.Value)), CaText.MaxDetail);
                throw WaitEnded($"The CA had not validated {names}", start, now, deadline, policy, retryAfter);
            }

            progress?.Report(new AcmeProgress("Waiting for the CA to validate",
                $"{done} of {current.Count} authorization(s) valid", current.Count == 0 ? -1 : done * 100 / current.Count,
                (int)Math.Max(0, (deadline - now).TotalSeconds)));
            if (retryAfter is TimeSpan asked)
            {
                client.Log.Verbose($"Authorization pending; waiting {delay.Value.TotalSeconds:0.#} s before asking again, as the CA asked (Retry-After {asked.TotalSeconds:0} s).");
            }

            await Task.Delay(delay.Value, cancellationToken).ConfigureAwait(false);
            foreach (AcmeAuthorization authorization in waiting)
            {
                AcmeAuthorization refreshed = await client.GetAuthorizationAsync(order.Account, authorization.Location, cancellationToken).ConfigureAwait(false);
                if (refreshed.Status != authorization.Status)
                {
                    client.Log.Verbose($"Authorization for {refreshed.Identifier.Value} is now {AcmeStatusParser.ToWire(refreshed.Status)}.");
                }

                current[authorization.Location] = refreshed.Attach(order.Account, order);
                if (refreshed.Status == AcmeAuthorizationStatus.Invalid)
                {
                    break;
                }
            }
        }
    }

    /// <summary>
    /// The timeout that ends a poll, worded for why it ended: the wait ran to its end, or the server's
    /// Retry-After named a time past the end (then nothing was waited for, and saying "after 300
    /// seconds" would be untrue: the message names the time the server asked for instead).
    /// </summary>
    private static AcmeTimeoutException WaitEnded(string what, DateTimeOffset start, DateTimeOffset now, DateTimeOffset deadline,
        RetryPolicy policy, TimeSpan? retryAfter)
    {
        DateTimeOffset? retryAt = retryAfter is TimeSpan ra ? now + ra : null;
        if (retryAt is DateTimeOffset at && now < deadline && at > deadline)
        {
            string when = at.ToString("u", CultureInfo.InvariantCulture);
            return new AcmeTimeoutException(
                $"{what}; the server asked to come back at {when} (Retry-After: {Math.Ceiling((at - now).TotalSeconds):0} seconds), " +
                $"later than this wait of {policy.Timeout.TotalSeconds:0} seconds allows, so it stopped after " +
                $"{(now - start).TotalSeconds:0.0} seconds without asking again. Run the command again after {when}.",
                at);
        }

        return new AcmeTimeoutException($"{what} after {policy.Timeout.TotalSeconds:0} seconds.", retryAt);
    }

    private static void ReplaceInOrder(AcmeOrder order, IEnumerable<AcmeAuthorization> updated)
    {
        var map = updated.ToDictionary(a => a.Location);
        order.Authorizations = order.Authorizations.Select(a => map.TryGetValue(a.Location, out AcmeAuthorization? u) ? u : a).ToArray();
    }

    private static AcmeAuthorizationFailedException AuthorizationFailure(AcmeAuthorization authorization)
    {
        AcmeChallenge? failed = authorization.Challenges.FirstOrDefault(c => c.Status == AcmeChallengeStatus.Invalid && c.Error is not null)
            ?? authorization.Challenges.FirstOrDefault(c => c.Error is not null);
        AcmeProblem problem = failed?.Error ?? new AcmeProblem(AcmeProblemTypes.Unauthorized,
            $"The authorization for {authorization.Identifier.Value} is {AcmeStatusParser.ToWire(authorization.Status)}.");
        problem.Identifier ??= authorization.Identifier;
        return new AcmeAuthorizationFailedException(authorization, problem);
    }

    /// <summary>
    /// Polls the order until <paramref name="isDone"/> holds for its status or it is invalid, honouring
    /// Retry-After (RFC 8555 section 7.4: "the client SHOULD ... poll the order ... honoring the
    /// Retry-After header field").
    /// </summary>
    public static async Task<AcmeOrder> WaitForOrderAsync(AcmeClient client, AcmeOrder order, Func<AcmeOrderStatus, bool> isDone, RetryPolicy policy,
        IProgress<AcmeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        DateTimeOffset start = DateTimeOffset.UtcNow;
        DateTimeOffset deadline = start + policy.Timeout;
        for (int attempt = 0; ; attempt++)
        {
            if (isDone(order.Status))
            {
                return order;
            }

            if (order.Status == AcmeOrderStatus.Invalid)
            {
                // The copy's authorizations predate the failure; read them again to name the one that failed.
                await client.RefreshAuthorizationsAsync(order, cancellationToken).ConfigureAwait(false);
                throw OrderFailure(order);
            }

            DateTimeOffset now = DateTimeOffset.UtcNow;
            TimeSpan? delay = attempt == 0 && order.RetryAfter is null ? policy.InitialDelay : policy.NextDelay(attempt, order.RetryAfter, now, deadline);
            if (delay is null || now >= deadline)
            {
                throw WaitEnded($"The order {order.Location} was still {AcmeStatusParser.ToWire(order.Status)}", start, now, deadline, policy, order.RetryAfter);
            }

            progress?.Report(new AcmeProgress("Waiting for the order", $"The order is {AcmeStatusParser.ToWire(order.Status)}", -1,
                (int)Math.Max(0, (deadline - now).TotalSeconds)));
            if (order.RetryAfter is TimeSpan asked)
            {
                client.Log.Verbose($"Order {AcmeStatusParser.ToWire(order.Status)}; waiting {delay.Value.TotalSeconds:0.#} s before asking again, as the CA asked (Retry-After {asked.TotalSeconds:0} s).");
            }

            await Task.Delay(delay.Value, cancellationToken).ConfigureAwait(false);
            await client.GetOrderAsync(order, cancellationToken).ConfigureAwait(false);
        }
    }

    internal static AcmeProblemException OrderFailure(AcmeOrder order)
    {
        AcmeAuthorization? failedAuthorization = order.Authorizations.FirstOrDefault(a => a.Status == AcmeAuthorizationStatus.Invalid);
        if (failedAuthorization is not null)
        {
            return AuthorizationFailure(failedAuthorization);
        }

        return new AcmeOrderFailedException(order, order.Error ?? new AcmeProblem("about:blank", $"The order {order.Location} is invalid."));
    }

    /// <summary>
    /// Finalizes a ready order with a CSR for <paramref name="key"/> (or the given CSR), waits while it
    /// is processing, and downloads the certificate with its alternate chains. A processing or valid
    /// order is resumed, not finalized again.
    /// </summary>
    public static Task<IReadOnlyList<AcmeCertificate>> FinalizeAsync(AcmeClient client, AcmeOrder order, AcmeKey? key, byte[]? csr,
        RetryPolicy policy, IProgress<AcmeProgress>? progress = null, CancellationToken cancellationToken = default) =>
        FinalizeAsync(client, order, key, csr, policy, (Func<AcmeOrder, CancellationToken, Task>?)null, progress, cancellationToken);

    /// <summary>
    /// <see cref="FinalizeAsync(AcmeClient, AcmeOrder, AcmeKey?, byte[]?, RetryPolicy, IProgress{AcmeProgress}?, CancellationToken)"/>,
    /// calling <paramref name="finalized"/> once the CA has accepted the CSR (the state folder records
    /// the order as processing before the wait and the download).
    /// </summary>
    public static async Task<IReadOnlyList<AcmeCertificate>> FinalizeAsync(AcmeClient client, AcmeOrder order, AcmeKey? key, byte[]? csr,
        RetryPolicy policy, Func<AcmeOrder, CancellationToken, Task>? finalized, IProgress<AcmeProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (order.Status == AcmeOrderStatus.Pending)
        {
            // The pipeline may carry a stale copy; ask once before refusing.
            await client.GetOrderAsync(order, cancellationToken).ConfigureAwait(false);
        }

        switch (order.Status)
        {
            case AcmeOrderStatus.Pending:
                throw new AcmeArgumentException(AcmeErrorId.OrderNotReady,
                    $"The order for {string.Join(", ", order.Names)} is still pending: its challenges are not answered yet.");
            case AcmeOrderStatus.Invalid:
                throw OrderFailure(order);
            case AcmeOrderStatus.Ready:
                if (csr is not null)
                {
                    CsrBuilder.EnsureMatchesOrder(csr, order.Identifiers);
                }

                byte[] request = csr ?? CsrBuilder.Build(key ?? throw new ArgumentNullException(nameof(key)), order.Identifiers,
                    CsrBuilder.IncludesCommonName(order.Profile));
                progress?.Report(new AcmeProgress("Finalizing the order", "Sending the certificate request"));
                try
                {
                    await client.FinalizeAsync(order, request, cancellationToken).ConfigureAwait(false);
                }
                catch (AcmeProblemException e) when (e.Problem.Type == AcmeProblemTypes.OrderNotReady)
                {
                    // Another client, or an earlier attempt, may have finalized it, or the server had not
                    // yet moved the order to ready: see where it stands, and finalize once more if ready.
                    await client.GetOrderAsync(order, cancellationToken).ConfigureAwait(false);
                    if (order.Status == AcmeOrderStatus.Ready)
                    {
                        await client.FinalizeAsync(order, request, cancellationToken).ConfigureAwait(false);
                    }
                    else if (order.Status is not (AcmeOrderStatus.Processing or AcmeOrderStatus.Valid))
                    {
                        throw;
                    }
                }

                if (finalized is not null)
                {
                    await finalized(order, cancellationToken).ConfigureAwait(false);
                }

                break;
        }

        await WaitForOrderAsync(client, order, s => s == AcmeOrderStatus.Valid, policy, progress, cancellationToken).ConfigureAwait(false);
        progress?.Report(new AcmeProgress("Finalizing the order", "Downloading the certificate"));
        IReadOnlyList<AcmeCertificate> chains = await client.DownloadCertificateChainsAsync(order, includeAlternates: true, cancellationToken)
            .ConfigureAwait(false);
        progress?.Report(new AcmeProgress("Finalizing the order", "Done", completed: true));
        return chains;
    }
}
