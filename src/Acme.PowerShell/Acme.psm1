# The module's root script: the AcmeCertificate DSC resource (Get-Help about_Acme_Dsc). The cmdlets come
# from Acme.PowerShell.dll, a nested module loaded before this file. The class lives here, in the root
# module, because `using module Acme` and the DSC engines (the Windows PowerShell LCM, Invoke-DscResource,
# DSC v3's PowerShell adapter) look for class resources in the root module only.
#
# The resource holds no ACME logic: its steps (AcmeDsc.ps1) call the module's cmdlets. Every Import-Module
# Acme parses this file and defines the class, so it holds only the properties and three one-line methods;
# the steps are read on first use (bench/NOTES.md has what the class costs an import).

[DscResource()]
class AcmeCertificate {
    # The certificate's name in the state folder.
    [DscProperty(Key)] [string] $Name

    [DscProperty()] [string[]] $DnsName

    # A shortcut (LetsEncrypt, LetsEncryptStaging, ZeroSSL, GoogleTrust, GoogleTrustStaging) or an https directory URL.
    [DscProperty()] [string] $Server = 'LetsEncrypt'

    [DscProperty()] [string[]] $Contact

    [DscProperty()] [bool] $AcceptTermsOfService

    # External account binding, for a CA that requires it (ZeroSSL, Google): the user name is the key id, the password the HMAC key.
    [DscProperty()] [pscredential] $ExternalAccountCredential

    [DscProperty()] [ValidateSet('Present', 'Absent')] [string] $Ensure = 'Present'

    [DscProperty()] [ValidateSet('Http', 'WebRoot', 'Dns', 'TlsAlpn')] [string] $ChallengeType = 'Http'

    [DscProperty()] [int] $HttpPort = 80

    [DscProperty()] [int] $TlsAlpnPort = 443

    [DscProperty()] [string] $WebRoot

    # A script file defining Add-AcmeDnsRecord and Remove-AcmeDnsRecord (a DSC property cannot hold a script block).
    [DscProperty()] [string] $DnsScriptPath

    [DscProperty()] [string[]] $DnsServer

    # dns-01 through a DNS provider (Get-AcmeDnsProvider) instead of DnsScriptPath; saved with the certificate for renewals.
    [DscProperty()] [string] $DnsProvider

    # The provider's non-secret parameters; a secret only as a reference ('env:VAR', 'secret:Name').
    [DscProperty()] [hashtable] $DnsProviderParameter

    # The provider's secret: its password fills the secret parameter its user name names, or the provider's only secret parameter.
    [DscProperty()] [pscredential] $DnsProviderCredential
    [DscProperty()] [ValidateSet('dns-01', 'dns-account-01', 'dns-persist-01')] [string] $DnsChallengeType = 'dns-01'

    [DscProperty()] [string] $StatePath

    # A folder for cert.pem, chain.pem, fullchain.pem and key.pem.
    [DscProperty()] [string] $Path

    [DscProperty()] [string] $PfxPath

    # The PFX password (the user name is not used).
    [DscProperty()] [pscredential] $PfxCredential

    # A Windows certificate store such as Cert:\LocalMachine\My, for a web server's binding.
    [DscProperty()] [string] $CertStoreLocation

    [DscProperty()] [ValidateSet('EC256', 'EC384', 'RSA2048', 'RSA3072', 'RSA4096')] [string] $KeyAlgorithm

    [DscProperty()] [string] $Profile

    [DscProperty()] [bool] $RevokeOnAbsent

    # A private CA's root (a PEM or DER file) that its directory's https certificate chains to.
    [DscProperty()] [string] $TrustedRootCertificate

    [DscProperty(NotConfigurable)] [string] $Thumbprint

    [DscProperty(NotConfigurable)] [Nullable[datetime]] $NotAfter

    [DscProperty(NotConfigurable)] [bool] $RenewalDue

    [AcmeCertificate] Get() { return Invoke-AcmeDscStep Get $this }

    [bool] Test() { return Invoke-AcmeDscStep Test $this }

    [void] Set() { Invoke-AcmeDscStep Set $this }
}

function Invoke-AcmeDscStep([string] $Step, $Resource) {
    if (-not $script:dscSteps) {
        # Its functions are declared in the script: scope, so they stay in this module once loaded.
        . (Join-Path $PSScriptRoot 'AcmeDsc.ps1')
        $script:dscSteps = $true
    }

    & "$Step-AcmeDscState" $Resource
}
