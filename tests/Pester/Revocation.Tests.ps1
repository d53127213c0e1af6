#Requires -Version 7.2
# Revocation (RFC 8555 section 7.6) against a real Pebble, checked in Pebble's management API
# (/cert-status-by-serial/<serial>), which reports the status and the reason code it recorded.
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:pebble = Start-TestPebble
    $script:account = New-TestAccount $pebble

    function Get-Issued([string] $Name) {
        $account | New-AcmeOrder -DnsName $Name | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
    }

    function Get-PebbleCertificateStatus([Acme.Protocol.Model.AcmeCertificate] $Certificate) {
        Invoke-RestMethod -Uri "$($pebble.ManagementUrl)/cert-status-by-serial/$($Certificate.SerialNumber)" -SkipCertificateCheck
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'Revoke-AcmeCertificate' {
    It 'revokes with the account key that ordered the certificate' {
        $cert = Get-Issued 'revoke-account.test'
        (Get-PebbleCertificateStatus $cert).Status | Should -Be 'Valid'
        $cert | Revoke-AcmeCertificate -Reason KeyCompromise -Confirm:$false | Should -BeNullOrEmpty
        $status = Get-PebbleCertificateStatus $cert
        $status.Status | Should -Be 'Revoked'
        $status.Reason | Should -Be 1
    }

    It 'revokes with the certificate''s own key (-UseCertificateKey)' {
        $cert = Get-Issued 'revoke-certkey.test'
        $cert | Revoke-AcmeCertificate -UseCertificateKey -Reason Superseded -Confirm:$false -PassThru | Should -Be $cert
        $status = Get-PebbleCertificateStatus $cert
        $status.Status | Should -Be 'Revoked'
        $status.Reason | Should -Be 4
    }

    It 'revokes a certificate file with its key file and no account at all' {
        $cert = Get-Issued 'revoke-files.test'
        $folder = Join-Path $TestDrive 'files'
        $cert | Export-AcmeCertificate -Path $folder | Out-Null
        Revoke-AcmeCertificate -CertificatePath (Join-Path $folder 'fullchain.pem') -CertificateKey (Join-Path $folder 'key.pem') `
            -Server $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath -Reason CessationOfOperation -Confirm:$false
        $status = Get-PebbleCertificateStatus $cert
        $status.Status | Should -Be 'Revoked'
        $status.Reason | Should -Be 5
    }

    It 'revokes with the key from a PFX file and its password (-CertificateKeyPath)' {
        $cert = Get-Issued 'revoke-pfx.test'
        $pfx = Join-Path $TestDrive 'revoke.pfx'
        $password = ConvertTo-SecureString 'revoke-pfx-password' -AsPlainText -Force
        $cert | Export-AcmeCertificate -PfxPath $pfx -Password $password | Out-Null
        $cert | Revoke-AcmeCertificate -CertificateKeyPath $pfx -CertificateKeyPassword $password -Reason KeyCompromise -Confirm:$false
        $status = Get-PebbleCertificateStatus $cert
        $status.Status | Should -Be 'Revoked'
        $status.Reason | Should -Be 1
    }

    It 'sends no reason when none is given' {
        $cert = Get-Issued 'revoke-noreason.test'
        $cert | Revoke-AcmeCertificate -Confirm:$false
        $status = Get-PebbleCertificateStatus $cert
        $status.Status | Should -Be 'Revoked'
        $status.PSObject.Properties.Name | Should -Not -Contain 'Reason'
    }

    It 'sends reason <Reason> as code <Code>' -ForEach @(
        @{ Reason = 'Unspecified'; Code = 0 }
        @{ Reason = 'CACompromise'; Code = 2 }
        @{ Reason = 'AffiliationChanged'; Code = 3 }
        @{ Reason = 'CertificateHold'; Code = 6 }
        @{ Reason = 'RemoveFromCRL'; Code = 8 }
        @{ Reason = 'PrivilegeWithdrawn'; Code = 9 }
        @{ Reason = 'AACompromise'; Code = 10 }
    ) {
        $cert = Get-Issued "revoke-reason-$Code.test"
        $cert | Revoke-AcmeCertificate -Reason $Reason -Confirm:$false
        $status = Get-PebbleCertificateStatus $cert
        $status.Status | Should -Be 'Revoked'
        $status.Reason | Should -Be $Code
    }

    It 'reports a certificate that is already revoked' {
        $cert = Get-Issued 'revoke-twice.test'
        $cert | Revoke-AcmeCertificate -Confirm:$false
        $e = { $cert | Revoke-AcmeCertificate -Confirm:$false -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeAlreadyRevoked,*'
        $e.CategoryInfo.Category | Should -Be 'ResourceExists'
        $e.ErrorDetails.Message | Should -BeLike '*already been revoked*'
    }

    It 'refuses a key that is not the certificate''s before any request' {
        $cert = Get-Issued 'revoke-wrongkey.test'
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        $e = { $cert | Revoke-AcmeCertificate -CertificateKey ([Acme.Protocol.Crypto.AcmeKey]::Generate('EC256')) -Confirm:$false -ErrorAction Stop } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeCertificateKeyMismatch,*'
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before
        (Get-PebbleCertificateStatus $cert).Status | Should -Be 'Valid'
    }

    It 'asks for an account or a server when a certificate file says neither' {
        $folder = Join-Path $TestDrive 'orphan'
        Get-Issued 'revoke-orphan.test' | Export-AcmeCertificate -Path $folder | Out-Null
        $e = { Revoke-AcmeCertificate -CertificatePath (Join-Path $folder 'cert.pem') -Confirm:$false -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeNoAccount,*'
        $e = { Revoke-AcmeCertificate -CertificatePath (Join-Path $folder 'cert.pem') -CertificateKey (Join-Path $folder 'key.pem') -Confirm:$false -ErrorAction Stop } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeServerRequired,*'
    }

    It 'revokes nothing with -WhatIf' {
        $cert = Get-Issued 'revoke-whatif.test'
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        $cert | Revoke-AcmeCertificate -Reason KeyCompromise -WhatIf | Should -BeNullOrEmpty
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before
        (Get-PebbleCertificateStatus $cert).Status | Should -Be 'Valid'
    }
}
