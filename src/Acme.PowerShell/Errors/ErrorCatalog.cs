using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Acme.Protocol.Errors;

namespace Acme.PowerShell.Errors;

/// <summary>One error of the catalogue: its id, the ErrorCategory PowerShell shows, and what to do.</summary>
public sealed class ErrorCatalogRow
{
    internal ErrorCatalogRow(AcmeErrorId id, ErrorCategory category, string? action, bool shownWithMessage)
    {
        Id = id;
        Category = category;
        RecommendedAction = action;
        ShownWithMessage = shownWithMessage;
    }

    public AcmeErrorId Id { get; }

    /// <summary>The ErrorId of the ErrorRecord: "Acme" and the name, such as AcmeInvalidIdentifier.</summary>
    public string ErrorId => "Acme" + Id;

    public ErrorCategory Category { get; }

    /// <summary>The parameter, cmdlet or step that helps; null where the message says all there is.</summary>
    public string? RecommendedAction { get; }

    /// <summary>
    /// True where the action is part of what the user must read (the parameter to pass): it is added
    /// to the error's displayed message (ErrorDetails.Message), not only to RecommendedAction, which
    /// PowerShell's default error view does not show.
    /// </summary>
    public bool ShownWithMessage { get; }
}

/// <summary>
/// Every error id of the module (<see cref="AcmeErrorId"/>) with its category and recommended action:
/// the one table the error records are made from. The core says what happened; this says which
/// parameter or cmdlet to use. The switch below has no default arm, so an id without a row does not
/// compile (CS8509 is an error here).
/// </summary>
public static class ErrorCatalog
{
    internal const string ExternalAccountAction =
        "This CA requires external account binding: pass -ExternalAccountBinding (a PSCredential whose user name is the key id and " +
        "whose password is the HMAC key the CA issued), or -ExternalAccountKeyId with -ExternalAccountKeyPath (a file holding the HMAC key).";

    private const string ProfileAction = "Use one of the profiles Get-AcmeDirectory lists, or leave out -Profile.";

    // The errors whose core message says what happened and whose row says the parameter to use.
    private static readonly HashSet<AcmeErrorId> s_shownWithMessage = new()
    {
        AcmeErrorId.ListenerPortInUse,
        AcmeErrorId.ListenerAddressNotAvailable,
        AcmeErrorId.DnsZoneNotFound,
        AcmeErrorId.TermsOfServiceNotAccepted,
        AcmeErrorId.AccountExists,
        AcmeErrorId.KeyPasswordRequired,
        AcmeErrorId.NoAccount,
        AcmeErrorId.ChallengeTypeUnavailable,
        AcmeErrorId.OrderNotReady,
        AcmeErrorId.ExportPathIsFile,
    };

    private static readonly Dictionary<AcmeErrorId, ErrorCatalogRow> s_rows =
        Enum.GetValues(typeof(AcmeErrorId)).Cast<AcmeErrorId>().ToDictionary(id => id, Build);

    /// <summary>Every row, in the order of the ids.</summary>
    public static IReadOnlyCollection<ErrorCatalogRow> Rows => s_rows.Values;

    public static ErrorCatalogRow For(AcmeErrorId id) => s_rows[id];

#pragma warning disable CS8524 // only named values reach here; a missing named one is CS8509, an error
    private static ErrorCatalogRow Build(AcmeErrorId id)
    {
        (ErrorCategory category, string? action) = id switch
        {
            // ----- input refused before any request -----
            AcmeErrorId.InvalidIdentifier or AcmeErrorId.NoIdentifier or AcmeErrorId.UnsupportedIdentifier or AcmeErrorId.InvalidDnsName
                or AcmeErrorId.InvalidDnsAlias or AcmeErrorId.InvalidServer or AcmeErrorId.InvalidContact or AcmeErrorId.InvalidKey
                or AcmeErrorId.UnsupportedKey or AcmeErrorId.InvalidPassword or AcmeErrorId.InvalidCertificate or AcmeErrorId.InvalidCertificateId
                or AcmeErrorId.InvalidCsr or AcmeErrorId.InvalidBinding or AcmeErrorId.InvalidBindingAlgorithm or AcmeErrorId.InvalidCertStoreLocation
                or AcmeErrorId.InvalidCheckUrl or AcmeErrorId.InvalidDnsServer or AcmeErrorId.InvalidInterval or AcmeErrorId.InvalidLockName or AcmeErrorId.InvalidName
                or AcmeErrorId.InvalidOrderUrl or AcmeErrorId.InvalidPort or AcmeErrorId.InvalidRevocationReason or AcmeErrorId.InvalidStatePath
                or AcmeErrorId.InvalidStore or AcmeErrorId.InvalidToken or AcmeErrorId.InvalidValidity or AcmeErrorId.ConflictingParameters
                or AcmeErrorId.ExportPathIsFolder or AcmeErrorId.NoExportTarget or AcmeErrorId.PfxPasswordRequired
                or AcmeErrorId.NotAttached or AcmeErrorId.SameAccountKey
                or AcmeErrorId.CertificateIdUnavailable or AcmeErrorId.CertificateKeyMissing or AcmeErrorId.CertificateKeyUnavailable
                => (ErrorCategory.InvalidArgument, null),
            AcmeErrorId.ListenerAddressNotAvailable => (ErrorCategory.InvalidArgument,
                "Give a local address to -ListenAddress, or leave it out to listen on all addresses."),
            AcmeErrorId.UnknownProfile => (ErrorCategory.InvalidArgument, ProfileAction),
            AcmeErrorId.ExportPathIsFile => (ErrorCategory.InvalidArgument, "Give -Path a folder (it is created when missing), or -PfxPath for one file."),
            AcmeErrorId.NoAccount => (ErrorCategory.InvalidArgument, "Give -Account (the account that ordered the certificate)."),
            AcmeErrorId.TermsOfServiceNotAccepted => (ErrorCategory.InvalidArgument, "Read them, then pass -AcceptTermsOfService."),
            AcmeErrorId.ServerRequired => (ErrorCategory.InvalidArgument, "Pass -Account (the account that ordered the certificate) or -Server."),
            AcmeErrorId.KeyPasswordRequired => (ErrorCategory.InvalidArgument,
                "Give the passphrase with -KeyPassphrase (the state folder's keys), -KeyPassword or -CertificateKeyPassword (a key or PFX file), or set ACME_KEY_PASSPHRASE."),
            AcmeErrorId.KeyPasswordIncorrect => (ErrorCategory.AuthenticationError, null),
            AcmeErrorId.KeyPassphraseChanged => (ErrorCategory.AuthenticationError,
                "Get the new key passphrase (from whoever ran Update-AcmeKeyPassphrase) and give it with -KeyPassphrase or ACME_KEY_PASSPHRASE; after an interrupted change, run Update-AcmeKeyPassphrase again with the same old and new passphrases."),
            AcmeErrorId.ExternalAccountRequired => (ErrorCategory.AuthenticationError, ExternalAccountAction),
            AcmeErrorId.CsrMismatch => (ErrorCategory.InvalidData, "Make the CSR name exactly the order's identifiers, or order exactly the CSR's names."),
            AcmeErrorId.CertificateKeyMismatch => (ErrorCategory.InvalidData, null),
            AcmeErrorId.DnsScriptInvalid => (ErrorCategory.InvalidData,
                "Define the functions Add-AcmeDnsRecord and Remove-AcmeDnsRecord, each with param($RecordName, $Value, $Identifier), in the script (Get-Help about_Acme_Dsc)."),
            AcmeErrorId.FileExists => (ErrorCategory.ResourceExists, "Choose another path, or pass -Force to replace the file."),
            AcmeErrorId.ExportCollision => (ErrorCategory.ResourceExists,
                "Give each certificate its own place: Export-AcmeCertificate -Path ./certs -PerCertificateFolder, or a script block such as -Path { \"./certs/$($_.Name)\" }."),
            AcmeErrorId.AccountExists => (ErrorCategory.ResourceExists,
                "Choose another -Name, or leave out -KeyPath to use the saved account (Get-AcmeAccount -Name)."),
            AcmeErrorId.AccountKeyInUse => (ErrorCategory.ResourceExists, null),
            AcmeErrorId.AccountInUse => (ErrorCategory.ResourceBusy,
                "Remove or move its certificates first (Remove-AcmeCertificate), or pass -Force to remove the account and keep them."),
            AcmeErrorId.AccountNotFound => (ErrorCategory.ObjectNotFound, "List the saved accounts with Get-AcmeAccount, or create this one with New-AcmeAccount -Name."),
            AcmeErrorId.CertificateNotFound or AcmeErrorId.OrderNotFound or AcmeErrorId.RenewalInfoNotFound or AcmeErrorId.KeyFileNotFound
                or AcmeErrorId.CertificateFileNotFound or AcmeErrorId.CsrFileNotFound or AcmeErrorId.DnsScriptNotFound or AcmeErrorId.WebRootNotFound
                or AcmeErrorId.StoreNotFound => (ErrorCategory.ObjectNotFound, null),
            AcmeErrorId.OrderNotValid or AcmeErrorId.ChallengeAlreadySubmitted or AcmeErrorId.NotSaved
                => (ErrorCategory.InvalidOperation, null),
            AcmeErrorId.DnsPersistIssuerUnknown => (ErrorCategory.ObjectNotFound,
                "Give the issuer domain name the CA documents for dns-persist-01 with -IssuerDomainName."),
            AcmeErrorId.ChallengeTypeUnavailable => (ErrorCategory.InvalidOperation,
                "Answer with a challenge type the CA offers (Start-AcmeHttpChallenge, Start-AcmeDnsChallenge, Start-AcmeTlsAlpnChallenge); wildcard names need Start-AcmeDnsChallenge."),
            AcmeErrorId.KeyChangeUnsupported or AcmeErrorId.RevocationUnsupported or AcmeErrorId.RenewalInfoUnsupported
                => (ErrorCategory.NotImplemented, null),

            // ----- local steps -----
            AcmeErrorId.ListenerPortInUse => (ErrorCategory.ResourceBusy,
                "Stop what holds it or choose another -Port, or answer another way (-WebRoot, a shared -Store); " +
                "if another renewal on this machine holds it, give it longer with -PortWaitSec."),
            AcmeErrorId.ListenerAccessDenied => (ErrorCategory.PermissionDenied, null),
            AcmeErrorId.WebRootNotWritable => (ErrorCategory.WriteError, null),
            AcmeErrorId.SelfCheckFailed => (ErrorCategory.ConnectionError, null),
            AcmeErrorId.ListenerFailed => (ErrorCategory.ResourceUnavailable, null),
            AcmeErrorId.DnsPropagationTimeout => (ErrorCategory.OperationTimeout, null),
            AcmeErrorId.DnsProviderUnknown => (ErrorCategory.InvalidArgument, "Get-AcmeDnsProvider lists the providers and their parameters."),
            AcmeErrorId.DnsProviderParameterUnknown or AcmeErrorId.DnsProviderParameterMissing or AcmeErrorId.DnsProviderParameterInvalid =>
                (ErrorCategory.InvalidArgument, "Get-AcmeDnsProvider <name> lists the provider's parameters; pass them in -ProviderParameter (Get-Help about_Acme_DnsProviders)."),
            AcmeErrorId.DnsProviderAuthenticationFailed => (ErrorCategory.AuthenticationError, "Check the provider's credentials in -ProviderParameter (a TSIG key, an API token, a key id and secret)."),
            AcmeErrorId.DnsProviderRefused => (ErrorCategory.PermissionDenied, "Give the credentials the right to change TXT records in that zone, or name the zone with -ProviderParameter."),
            AcmeErrorId.DnsProviderUnreachable => (ErrorCategory.ConnectionError, "Check the provider's server or API address in -ProviderParameter and that this host can reach it."),
            AcmeErrorId.DnsProviderZoneNotFound => (ErrorCategory.ObjectNotFound, "Name the zone in -ProviderParameter (Zone or ZoneId), or check that the credentials can see the zone the name is in."),
            AcmeErrorId.DnsProviderFailed => (ErrorCategory.InvalidResult, null),
            AcmeErrorId.DnsProviderUnsupportedRecord => (ErrorCategory.InvalidOperation,
                "Answer this challenge type through another provider or your own record scripts (the table in about_Acme_DnsProviders says which provider takes which type)."),
            AcmeErrorId.DnsProviderNotSaved => (ErrorCategory.ObjectNotFound, "Give -Provider and -ProviderParameter (Start-AcmeDnsChallenge) or -DnsProvider (New-AcmeCertificate) once; the provider is then saved with the certificate for its renewals."),
            AcmeErrorId.DnsProviderSecretUnavailable => (ErrorCategory.ObjectNotFound, "Set the environment variable, install Microsoft.PowerShell.SecretManagement and register the secret, or give the value in -ProviderParameter (Get-Help about_Acme_DnsProviders)."),
            AcmeErrorId.PoshAcmeNotInstalled => (ErrorCategory.NotInstalled, "Install Posh-ACME for the current user (Install-Module Posh-ACME), or set $env:ACME_POSHACME_PATH to its Posh-ACME.psd1."),
            AcmeErrorId.DnsProviderSetupRequired => (ErrorCategory.ResourceUnavailable, "Create the DNS record the message names at your DNS host, then run the command again (Get-Help about_Acme_DnsProviders)."),
            AcmeErrorId.DnsZoneNotFound => (ErrorCategory.ObjectNotFound, "Name the servers to ask with -DnsServer."),
            AcmeErrorId.DnsRecordAddFailed or AcmeErrorId.DnsRecordRemoveFailed => (ErrorCategory.WriteError, null),
            AcmeErrorId.ManualNotInteractive => (ErrorCategory.InvalidOperation, null),
            AcmeErrorId.StoreUnavailable => (ErrorCategory.ResourceUnavailable,
                "Check that this host reaches the challenge store (Redis running, its address, password and TLS; the PostgreSQL database up and reachable; the folder mounted and writable), then run the pipeline again."),
            AcmeErrorId.CertificateLeaseLost => (ErrorCategory.ResourceBusy,
                "Another host took this certificate's lease after it lapsed and orders it now: let it finish (Get-AcmeCertificate shows the result); run the pipeline again only if it fails."),
            AcmeErrorId.CertificateLocked => (ErrorCategory.ResourceBusy, "Another host or process is ordering this certificate: let it finish, or wait for it with -LockTimeoutSec."),
            AcmeErrorId.StateLocked => (ErrorCategory.ResourceBusy,
                "Another process is changing this item of the state folder: run again once it is done, or wait longer with ACME_STATE_LOCK_TIMEOUT (seconds)."),
            AcmeErrorId.StateReadOnly => (ErrorCategory.PermissionDenied,
                "Make the state folder writable for this user (remount it read-write, or fix its permissions), or point -StatePath or ACME_STATE_PATH at a writable folder."),
            AcmeErrorId.StateCorrupt => (ErrorCategory.InvalidData,
                "Restore the file from a backup, or remove the item (Remove-AcmeOrder, Remove-AcmeCertificate) and order again."),
            AcmeErrorId.StateConflict => (ErrorCategory.ResourceExists, null),
            AcmeErrorId.StateDatabaseAuthenticationFailed => (ErrorCategory.AuthenticationError,
                "Check the user and password in the postgres:// address given to -StatePath or ACME_STATE_PATH (and pg_hba.conf on the server)."),
            AcmeErrorId.StateDatabaseUnavailable => (ErrorCategory.ConnectionError,
                "Check the host, port and database of the postgres:// address (-StatePath, ACME_STATE_PATH), that PostgreSQL runs and that this host reaches it; then run again."),
            AcmeErrorId.StateDatabaseFailed => (ErrorCategory.ResourceUnavailable, "Check the database's log; the step can be run again once PostgreSQL answers."),
            AcmeErrorId.StateSchemaMissing => (ErrorCategory.ObjectNotFound, "Create the schema once with Initialize-AcmeStateStore -StatePath postgres://..., then run again."),
            AcmeErrorId.StateSchemaNewer => (ErrorCategory.InvalidOperation,
                "A newer version of the module made this database's schema: update the module on this host (Update-Module Acme) before using it."),
            AcmeErrorId.StatePlaintextKeyRefused => (ErrorCategory.SecurityError,
                "Give a key passphrase (-KeyPassphrase or ACME_KEY_PASSPHRASE), or allow unencrypted keys in this database once with Initialize-AcmeStateStore -AllowPlaintextKeys."),
            AcmeErrorId.StateWriteFailed => (ErrorCategory.WriteError, "Check that the state folder (-StatePath, ACME_STATE_PATH) is writable and has space."),
            AcmeErrorId.CertificateStoreFailed => (ErrorCategory.WriteError, null),
            AcmeErrorId.CertificateStoreUnavailable => (ErrorCategory.NotImplemented, null),
            AcmeErrorId.AccessDenied => (ErrorCategory.PermissionDenied, null),
            AcmeErrorId.FileError => (ErrorCategory.WriteError, null),

            // ----- the CA and the connection -----
            AcmeErrorId.ProtocolViolation => (ErrorCategory.ProtocolError, null),
            AcmeErrorId.NotADirectory => (ErrorCategory.InvalidArgument,
                "Give -Server the CA's directory URL itself (Let's Encrypt: https://acme-v02.api.letsencrypt.org/directory) or a shortcut name " +
                "such as LetsEncrypt or LetsEncryptStaging; the CA's documentation names its directory URL."),
            AcmeErrorId.ChainTooLong => (ErrorCategory.InvalidData,
                "The CA sent a certificate chain no CA needs; nothing was saved or exported. Report it to the CA, " +
                "or download the certificate again later (Complete-AcmeOrder resumes the order)."),
            AcmeErrorId.Timeout => (ErrorCategory.OperationTimeout, "Retry with a longer -TimeoutSec."),
            AcmeErrorId.ConnectionFailed => (ErrorCategory.ConnectionError,
                "Check the server URL, the network and the server's TLS certificate (use -TrustedRootCertificate for a private CA)."),
            AcmeErrorId.ServerUnavailable or AcmeErrorId.ServerInternal => (ErrorCategory.ResourceUnavailable, "The CA had a server error; retry later."),
            AcmeErrorId.ServerError => (ErrorCategory.InvalidOperation, null),
            AcmeErrorId.NotImplementedByServer => (ErrorCategory.NotImplemented,
                "Retrying does not help: this CA does not offer it. For a key rollover, create a new account (New-AcmeAccount) and use it instead; otherwise use a CA that offers it."),
            AcmeErrorId.AuthorizationFailed => (ErrorCategory.InvalidOperation, null),
            AcmeErrorId.OrderFailed => (ErrorCategory.InvalidOperation, null),
            AcmeErrorId.UnexpectedError => (ErrorCategory.NotSpecified, null),

            // ----- the CA's refusals by problem type (RFC 8555 section 6.7 and later drafts) -----
            AcmeErrorId.Malformed or AcmeErrorId.BadCsr or AcmeErrorId.BadPublicKey or AcmeErrorId.BadSignatureAlgorithm
                or AcmeErrorId.BadRevocationReason or AcmeErrorId.InvalidContact or AcmeErrorId.UnsupportedContact => (ErrorCategory.InvalidArgument, null),
            AcmeErrorId.InvalidProfile => (ErrorCategory.InvalidArgument, ProfileAction),
            AcmeErrorId.RejectedIdentifier => (ErrorCategory.PermissionDenied, "The CA will not issue for this name; check its policy."),
            AcmeErrorId.Caa => (ErrorCategory.PermissionDenied, "Add the CA to the domain's CAA records, or remove the records that forbid it."),
            AcmeErrorId.Unauthorized => (ErrorCategory.PermissionDenied, null),
            AcmeErrorId.AccountDoesNotExist => (ErrorCategory.ObjectNotFound,
                "No account exists for this key on this server (a CA that was reset forgets its accounts). " +
                "New-AcmeCertificate registers a saved account's key again by itself; or run New-AcmeAccount -Name <the same name> to register the saved key again, " +
                "or New-AcmeAccount to create another account."),
            AcmeErrorId.RateLimited => (ErrorCategory.LimitsExceeded, "Wait before retrying; see the CA's rate limit documentation."),
            AcmeErrorId.OrderNotReady => (ErrorCategory.InvalidOperation,
                "Answer its challenges first (Start-AcmeHttpChallenge, Start-AcmeDnsChallenge or Start-AcmeTlsAlpnChallenge)."),
            AcmeErrorId.UserActionRequired => (ErrorCategory.InvalidOperation, "Visit the CA's website and follow its instructions."),
            AcmeErrorId.AlreadyRevoked => (ErrorCategory.ResourceExists, "Nothing to do: the CA already lists the certificate as revoked."),
            AcmeErrorId.AlreadyReplaced => (ErrorCategory.ResourceExists,
                "Another order already replaces this certificate: finish that order, or order again without -Replaces."),
            AcmeErrorId.Connection or AcmeErrorId.Dns or AcmeErrorId.Tls => (ErrorCategory.ConnectionError, null),
            AcmeErrorId.IncorrectResponse => (ErrorCategory.InvalidResult, null),
            AcmeErrorId.BadNonce => (ErrorCategory.ProtocolError, "The CA rejected every retry's nonce; try again later."),
            AcmeErrorId.Compound => (ErrorCategory.InvalidOperation, null),
        };
        return new ErrorCatalogRow(id, category, action, s_shownWithMessage.Contains(id));
    }
#pragma warning restore CS8524

    /// <summary>The row of an ErrorId string ("AcmeRateLimited", or "AcmeBadCSR" as made from the problem type badCSR), when the catalogue has one.</summary>
    public static ErrorCatalogRow? Find(string errorId) =>
        errorId.StartsWith("Acme", StringComparison.Ordinal) && Enum.TryParse(errorId.Substring(4), ignoreCase: true, out AcmeErrorId id)
            && Enum.IsDefined(typeof(AcmeErrorId), id) ? s_rows[id] : null;
}
