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

    private static AcmeArgumentException NotSaved(string what, string names) =>
        new(AcmeErrorId.NotSaved, $"The {what} for {names} is not saved in a state folder, so there is nothing to remove.");
}
