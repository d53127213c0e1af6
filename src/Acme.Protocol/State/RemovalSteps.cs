using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Diagnostics;
using Acme.Protocol.Errors;
using Acme.Protocol.Model;
using static Acme.Protocol.State.StepSupport;

namespace Acme.Protocol.State;

/// <summary>
/// Removing what is saved: an order, or everything saved under a certificate's name, each under the
/// certificate's lock, then the folder when it is left empty.
/// </summary>
public static class RemovalSteps
{
    /// <summary>Removes a saved order (the certificate's issued versions stay).</summary>
    public static async Task RemoveOrderAsync(AcmeOrder order, IAcmeLog log, CancellationToken cancellationToken = default)
    {
        AcmeStateStore store = order.Store() ?? throw NotSaved("order", string.Join(", ", order.Names));
        using (await store.LockCertificateAsync(order.Account.Server, order.Name!, log, cancellationToken).ConfigureAwait(false))
        {
            Write("the order's removal", () => store.DeleteOrder(order));
        }

        store.DeleteEmptyFolder(order.Account.Server, order.Name!);
    }

    /// <summary>Removes everything saved under the certificate's name: its versions, keys and order.</summary>
    public static async Task RemoveCertificateAsync(AcmeCertificate certificate, IAcmeLog log, CancellationToken cancellationToken = default)
    {
        AcmeStateStore store = certificate.Store() ?? throw NotSaved("certificate", string.Join(", ", certificate.Names));
        AcmeServer server = certificate.SavedServer ?? throw NotSaved("certificate", string.Join(", ", certificate.Names));
        using (await store.LockCertificateAsync(server, certificate.Name!, log, cancellationToken).ConfigureAwait(false))
        {
            Write("the certificate's removal", () => store.DeleteCertificate(server, certificate.Name!));
        }

        store.DeleteEmptyFolder(server, certificate.Name!);
    }

    /// <summary>
    /// Removes a saved account (its data and key; nothing is sent to the CA). While certificates or orders
    /// saved on its server name it, it is refused (AcmeAccountInUse) unless <paramref name="force"/>; then
    /// they stay, and renewing them needs another account. Returns the certificates that named it.
    /// </summary>
    public static async Task<IReadOnlyList<string>> RemoveAccountAsync(AcmeAccount account, bool force, IAcmeLog log, CancellationToken cancellationToken = default)
    {
        AcmeStateStore store = account.Store() is { } saved && account.Name is not null ? saved : throw NotSaved("account", account.Location.AbsoluteUri);
        IReadOnlyList<string> users;
        using (await store.LockAccountAsync(account.Server, account.Name!, log, cancellationToken).ConfigureAwait(false))
        {
            users = store.GetCertificatesOfAccount(account.Server, account.Name!);
            if (users.Count > 0 && !force)
            {
                throw new AcmeArgumentException(AcmeErrorId.AccountInUse,
                    $"The account '{account.Name}' is used by {users.Count} saved certificate(s) or order(s): {string.Join(", ", users)}. Its key is what renews and revokes them.");
            }

            Write("the account's removal", () => store.DeleteAccount(account.Server, account.Name!));
        }

        store.DeleteEmptyAccountFolder(account.Server, account.Name!);
        if (users.Count > 0)
        {
            Warn(log, $"The account '{account.Name}' was removed; {string.Join(", ", users)} still name it: renewing or revoking them needs another account.");
        }

        return users;
    }

    private static AcmeArgumentException NotSaved(string what, string names) =>
        new(AcmeErrorId.NotSaved, $"The {what} for {names} is not saved in a state folder, so there is nothing to remove.");
}
