using Acme.Protocol.Model;

namespace Acme.Protocol.State;

/// <summary>The state store a model object was read from or saved to (<see cref="IStateLocation"/>), as the store it is.</summary>
internal static class SavedIn
{
    public static AcmeStateStore? Store(this AcmeAccount account) => (AcmeStateStore?)account.SavedIn;

    public static AcmeStateStore? Store(this AcmeOrder order) => (AcmeStateStore?)order.SavedIn;

    public static AcmeStateStore? Store(this AcmeCertificate certificate) => (AcmeStateStore?)certificate.SavedIn;
}
