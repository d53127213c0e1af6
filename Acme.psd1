@{
    RootModule             = 'Acme.psm1'
    NestedModules          = @('Acme.Runtime.ps1')
    ModuleVersion          = '0.1.0'
    CompatiblePSEditions   = @('Desktop', 'Core')
    GUID                   = '5f1f7c1e-3a0b-4d8e-9a55-0c7f0e4a9b21'
    Author                 = 'Acme contributors'
    CompanyName            = 'Acme contributors'
    Copyright              = '(c) Acme contributors. MIT License.'
    Description            = 'A complete ACME (RFC 8555) client: get, renew, export and revoke TLS certificates from Let''s Encrypt, ZeroSSL, Google Trust Services or any private ACME CA, as a pipeline of typed objects.'
    PowerShellVersion      = '5.1'
    DotNetFrameworkVersion = '4.7.2'
    FormatsToProcess       = @('Acme.format.ps1xml', 'Acme.Certificate.format.ps1xml')
    CmdletsToExport        = @(
        'Complete-AcmeOrder'
        'Export-AcmeCertificate'
        'Get-AcmeAuthorization'
        'Get-AcmeChallenge'
        'New-AcmeAccount'
        'New-AcmeOrder'
        'Start-AcmeDnsChallenge'
        'Start-AcmeHttpChallenge'
        'Start-AcmeTlsAlpnChallenge'
        'Submit-AcmeChallenge'
        'Wait-AcmeOrder'
        'Disable-AcmeAccount'
        'Disable-AcmeAuthorization'
        'Export-AcmeAccountKey'
        'Get-AcmeAccount'
        'Get-AcmeDirectory'
        'Get-AcmeDnsPersistRecord'
        'Get-AcmeOrder'
        'Get-AcmeRenewalInfo'
        'Revoke-AcmeCertificate'
        'Set-AcmeAccount'
        'Update-AcmeAccountKey'
        'Update-AcmeKeyPassphrase'
        'Start-AcmeChallengeResponder'
        'Get-AcmeCertificate'
        'New-AcmeCertificate'
        'Remove-AcmeAccount'
        'Remove-AcmeCertificate'
        'Remove-AcmeOrder'
        'Test-AcmeRenewal'
        'Get-AcmeDnsProvider'
        'Initialize-AcmeStateStore'
        'Start-AcmeRenewalWorker'
    )
    FunctionsToExport      = @()
    VariablesToExport      = @()
    AliasesToExport        = @()
    DscResourcesToExport   = @('AcmeCertificate')
    PrivateData            = @{
        PSData = @{
            Tags         = @('ACME', 'LetsEncrypt', 'Certificate', 'TLS', 'SSL', 'PKI', 'RFC8555', 'ZeroSSL', 'DSC', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            LicenseUri   = 'https://github.com/acme-powershell/Acme/blob/main/LICENSE'
            ProjectUri   = 'https://github.com/acme-powershell/Acme'
            ReleaseNotes = 'First release: the whole RFC 8555 lifecycle as a pipeline (accounts with EAB and key rollover, DNS and IP identifiers, profiles, http-01, dns-01 and tls-alpn-01, alternate chains, PEM/PFX/Windows store export, ARI renewal, revocation), a state folder for runbooks, a shared challenge store (directory or Redis) for responders behind a load balancer, and the AcmeCertificate DSC resource.'
        }
    }
}
