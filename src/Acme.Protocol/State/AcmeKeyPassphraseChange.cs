using System.Collections.Generic;

namespace Acme.Protocol.State;

/// <summary>
/// What Update-AcmeKeyPassphrase did to a state: the secrets it re-encrypted, those that already opened
/// with the new passphrase (a rerun after an interruption), and those it could not write; each by its
/// path from the state's root. No secret and no passphrase is in it.
/// </summary>
public sealed class AcmeKeyPassphraseChange
{
    internal AcmeKeyPassphraseChange(string statePath, bool encrypted, IReadOnlyList<string> rotated, IReadOnlyList<string> alreadyRotated,
        IReadOnlyList<string> failed, IReadOnlyList<string> droppedSecrets)
    {
        StatePath = statePath;
        Encrypted = encrypted;
        RotatedItems = rotated;
        AlreadyRotatedItems = alreadyRotated;
        FailedItems = failed;
        DroppedSecrets = droppedSecrets;
    }

    /// <summary>The state folder, or the database's address without its password.</summary>
    public string StatePath { get; }

    /// <summary>True when the secrets are now encrypted with a (new) passphrase, false when the passphrase was removed.</summary>
    public bool Encrypted { get; }

    public int Rotated => RotatedItems.Count;

    public int AlreadyRotated => AlreadyRotatedItems.Count;

    public int Failed => FailedItems.Count;

    /// <summary>The items re-encrypted by this run.</summary>
    public IReadOnlyList<string> RotatedItems { get; }

    /// <summary>The items that already opened with the new passphrase (or were already unencrypted), left as they were.</summary>
    public IReadOnlyList<string> AlreadyRotatedItems { get; }

    /// <summary>The items that could not be written (each also an error); they still open with the old passphrase.</summary>
    public IReadOnlyList<string> FailedItems { get; }

    /// <summary>Sealed DNS provider secrets left out when the passphrase was removed ("path: parameter"): give them again at the next renewal.</summary>
    public IReadOnlyList<string> DroppedSecrets { get; }
}
