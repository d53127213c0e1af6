using Acme.Protocol.Model;

namespace Acme.Protocol.State;

/// <summary>The schema of a state database after Initialize-AcmeStateStore: its address (without password) and versions.</summary>
public sealed class AcmeStateSchema
{
    public AcmeStateSchema(string statePath, int previousVersion, int version, bool allowsPlaintextKeys)
    {
        StatePath = statePath;
        PreviousVersion = previousVersion;
        Version = version;
        AllowsPlaintextKeys = allowsPlaintextKeys;
    }

    /// <summary>The database, as postgres://user@host:port/database (never the password).</summary>
    public string StatePath { get; }

    /// <summary>The schema's version before (0: there was none).</summary>
    public int PreviousVersion { get; }

    /// <summary>The schema's version now.</summary>
    public int Version { get; }

    /// <summary>True when the schema was created or migrated by this call.</summary>
    public bool Changed => PreviousVersion != Version;

    /// <summary>True when keys may be stored unencrypted (no passphrase given) in this database.</summary>
    public bool AllowsPlaintextKeys { get; }

    /// <summary>Creates or migrates the schema of a postgres:// state address.</summary>
    public static AcmeStateSchema Initialize(string address, bool allowPlaintextKeys)
    {
        if (!PostgresUrl.IsAddress(address))
        {
            throw new Errors.AcmeArgumentException(Errors.AcmeErrorId.InvalidStatePath,
                $"'{address}' is not a postgres:// address; a state folder needs no initialization.");
        }

        int[] versions = PostgresStateLoader.Initialize(address, allowPlaintextKeys);
        bool plaintext = PostgresStateLoader.Open(address).AllowsPlaintextKeys;
        return new AcmeStateSchema(PostgresUrl.Mask(address), versions[0], versions[1], plaintext);
    }
}
