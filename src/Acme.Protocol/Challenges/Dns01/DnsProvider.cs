using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Acme.Protocol.Challenges.Dns01;

/// <summary>
/// The contract of a built-in DNS provider (docs/ARCHITECTURE.md, "A DNS provider"): add the TXT values of
/// one record name, remove them, optionally one save step for providers that batch, and the zone a name is
/// in. <see cref="AddAsync"/> and <see cref="RemoveAsync"/> turn the solver's records into those calls, so a
/// provider writes only what its DNS needs. Providers live in <c>Challenges/Dns01/Providers/</c>, one file
/// each, and are listed in <see cref="Providers.DnsProviderCatalog"/>.
/// </summary>
public abstract class DnsProvider : IDnsRecordPublisher, IDisposable
{
    /// <summary>The provider's name as the user types it (-Provider), e.g. "RFC2136".</summary>
    public abstract string Name { get; }

    /// <summary>Adds <paramref name="values"/> to the TXT record set at <paramref name="recordName"/> (no trailing dot), keeping values already there.</summary>
    protected abstract Task AddTxtAsync(string recordName, IReadOnlyList<string> values, CancellationToken cancellationToken);

    /// <summary>Removes <paramref name="values"/> from the TXT record set at <paramref name="recordName"/>; a value that is not there is not an error.</summary>
    protected abstract Task RemoveTxtAsync(string recordName, IReadOnlyList<string> values, CancellationToken cancellationToken);

    /// <summary>
    /// For providers that batch (one RFC 2136 UPDATE, one Route 53 change batch): called once after every
    /// add (<paramref name="adding"/> true) or every remove of one call. Providers with an "in sync" signal
    /// (Route 53 INSYNC) wait for it here.
    /// </summary>
    protected virtual Task SaveAsync(bool adding, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The zone <paramref name="recordName"/> is in (no trailing dot), when the provider can tell; null otherwise.</summary>
    public virtual Task<string?> FindZoneAsync(string recordName, CancellationToken cancellationToken) => Task.FromResult<string?>(null);

    public async Task AddAsync(IReadOnlyList<DnsTxtRecord> records, CancellationToken cancellationToken)
    {
        foreach (IGrouping<string, DnsTxtRecord> name in Group(records))
        {
            await AddTxtAsync(name.Key, Values(name), cancellationToken).ConfigureAwait(false);
        }

        await SaveAsync(true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes every name's values, going on after a failure so that one bad name leaves no others behind; the first failure is thrown at the end.</summary>
    public async Task RemoveAsync(IReadOnlyList<DnsTxtRecord> records, CancellationToken cancellationToken)
    {
        Exception? first = null;
        foreach (IGrouping<string, DnsTxtRecord> name in Group(records))
        {
            try
            {
                await RemoveTxtAsync(name.Key, Values(name), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                first ??= e;
            }
        }

        try
        {
            await SaveAsync(false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            first ??= e;
        }

        if (first is not null)
        {
            throw first;
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    private static IEnumerable<IGrouping<string, DnsTxtRecord>> Group(IReadOnlyList<DnsTxtRecord> records) =>
        records.GroupBy(r => DnsMessage.Normalize(r.Name), StringComparer.Ordinal);

    private static IReadOnlyList<string> Values(IGrouping<string, DnsTxtRecord> name) => name.Select(r => r.Value).Distinct(StringComparer.Ordinal).ToList();
}
