using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Acme.Protocol.State;

/// <summary>
/// What <see cref="AcmeStateStore"/> calls on the place it keeps its items: the seam between the
/// store's layout (servers, accounts, orders, certificate versions and their records, all named by
/// paths under <see cref="PathRoot"/>) and a backend. The state folder is one backend
/// (<see cref="FolderStateFiles"/>), PostgreSQL another (Acme.Postgres, loaded from "postgres/").
/// Every write is whole (a reader never sees half an item), keys are given already encrypted when a
/// passphrase is set, and an item is committed when the call returns.
/// </summary>
public interface IStateFiles : IDisposable
{
    /// <summary>Where the state is, for messages and StatePath: a folder, or an address without its password.</summary>
    string Root { get; }

    /// <summary>The path the store's item paths start with (the folder itself, or a virtual root).</summary>
    string PathRoot { get; }

    /// <summary>
    /// Whether keys may be written unencrypted when no passphrase is given: always in a folder (owner-only
    /// files), in a database only when it was initialized so (Initialize-AcmeStateStore -AllowPlaintextKeys).
    /// </summary>
    bool AllowsPlaintextKeys { get; }

    /// <summary>The item's text, or null when there is none.</summary>
    string? ReadText(string path);

    /// <summary>Writes the item whole, replacing any; <paramref name="ownerOnly"/> marks a key.</summary>
    void WriteText(string path, string content, bool ownerOnly);

    bool FileExists(string path);

    bool FolderExists(string path);

    /// <summary>Makes the folder (and the ones above it) exist, empty when new.</summary>
    void CreateFolder(string path);

    /// <summary>The names of the folders directly in <paramref name="folder"/> (none when it does not exist).</summary>
    IReadOnlyList<string> Folders(string folder);

    /// <summary>The names of the items directly in <paramref name="folder"/>, but the lock, whose name starts with <paramref name="prefix"/>.</summary>
    IReadOnlyList<string> Files(string folder, string prefix = "");

    void DeleteFile(string path);

    /// <summary>Deletes the folder and everything in it; nothing when it does not exist.</summary>
    void DeleteFolder(string path);

    /// <summary>Renames a folder whole (a version written under a temporary name).</summary>
    void MoveFolder(string from, string to);

    /// <summary>When the item was last written.</summary>
    DateTime LastWriteTimeUtc(string path);

    /// <summary>Removes what a writer that died left half-done in <paramref name="folder"/> (temporary names).</summary>
    void SweepTemporary(string folder);

    /// <summary>
    /// Takes the exclusive lock of <paramref name="folder"/> for this process, waiting up to
    /// <paramref name="timeout"/> (then AcmeStateLocked); released by disposing what is returned, and
    /// by the backend when this process dies. Null: the backend locks through <see cref="StateLock"/> (files).
    /// </summary>
    Task<IDisposable>? LockAsync(string folder, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// Where this backend keeps certificate leases that New-AcmeOrder takes without a lock store of its
    /// own (the database); null for a folder, whose orders take no lease unless given a lock store.
    /// </summary>
    Acme.Protocol.ChallengeStores.IChallengeStore? Leases { get; }
}
