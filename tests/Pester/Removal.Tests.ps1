#Requires -Version 7.2
# Deletes that protect keys (prompt, -WhatIf, -Force, -PassThru, -Name), Remove-AcmeAccount refusing while
# certificates use the account, versions pruned to -KeepVersions, and a state folder that tells the truth
# (a failed validation saved Invalid, Get-AcmeOrder -Refresh, the Authorized count, CreatedAt), against Pebble.
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:pebble = Start-TestPebble
    $script:ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath }
    $script:sp = Join-Path $TestDrive 'state'
    $script:account = New-AcmeAccount @ca -Name main -StatePath $sp -AcceptTermsOfService
    function New-Issued([string] $Name, [int] $Keep = 3) {
        $account | New-AcmeOrder -DnsName $Name | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder -KeepVersions $Keep
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'Remove-AcmeCertificate' {
    It 'prompts by default, and a No deletes nothing' {
        $null = New-Issued 'prompt.test'
        # A runspace with no host UI, where every confirmation is declined (as a No); ConfirmPreference is High.
        $ps = [PowerShell]::Create()
        $null = $ps.AddScript("Import-Module '$env:ACME_TEST_MODULE'; `$ConfirmPreference = 'High'; Remove-AcmeCertificate -StatePath '$sp' prompt.test -PassThru")
        try { $written = $ps.Invoke() } catch { $written = @() } finally { $ps.Dispose() }
        @($written).Count | Should -Be 0 -Because 'nothing was removed, so nothing is passed through'
        Get-AcmeCertificate -StatePath $sp -Name prompt.test | Should -Not -BeNullOrEmpty -Because 'nothing was confirmed'
    }

    It '-WhatIf deletes nothing, -Force deletes without a prompt and writes nothing, -PassThru writes' {
        $first = New-Issued 'force.test'
        Remove-AcmeCertificate -StatePath $sp -Name force.test -Force -WhatIf
        Get-AcmeCertificate -StatePath $sp -Name force.test | Should -Not -BeNullOrEmpty
        Remove-AcmeCertificate -StatePath $sp force.test -Force | Should -BeNullOrEmpty
        Get-AcmeCertificate -StatePath $sp -Name 'force*' | Should -BeNullOrEmpty
        $null = New-Issued 'pass.test'
        (Remove-AcmeCertificate -StatePath $sp pass.test -Force -PassThru).Name | Should -Be 'pass.test'
        $first.Name | Should -Be 'force.test'
    }

    It 'names a certificate that is not saved by its ErrorId' {
        $err = $null
        Remove-AcmeCertificate -StatePath $sp nothing.test -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeCertificateNotFound,*'
    }
}

Describe 'Remove-AcmeOrder -Name' {
    It 'removes the order saved under the name' {
        $null = $account | New-AcmeOrder -DnsName order-gone.test
        Remove-AcmeOrder -StatePath $sp -Name order-gone.test -Force
        Get-AcmeOrder -StatePath $sp -Name 'order-gone*' | Should -BeNullOrEmpty
    }
}

Describe 'Remove-AcmeAccount' {
    It 'refuses while a certificate uses the account, and removes it with -Force' {
        $other = New-AcmeAccount @ca -Name other -StatePath $sp -AcceptTermsOfService
        $null = $other | New-AcmeOrder -DnsName used.test | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
        $err = $null
        Remove-AcmeAccount -StatePath $sp other -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeAccountInUse,*'
        $err[0].Exception.Message | Should -BeLike '*used.test*'
        Get-AcmeAccount -StatePath $sp -Name other | Should -Not -BeNullOrEmpty
        (Remove-AcmeAccount -StatePath $sp other -Force -PassThru -WarningAction SilentlyContinue).Name | Should -Be 'other'
        Get-AcmeAccount -StatePath $sp -Name 'other*' | Should -BeNullOrEmpty
        Get-AcmeCertificate -StatePath $sp -Name used.test -WarningAction SilentlyContinue | Should -Not -BeNullOrEmpty -Because 'the certificates stay'
    }
}

Describe 'Versions pruned to -KeepVersions' {
    It 'keeps the newest versions, the current one among them' {
        $versions = 1..4 | ForEach-Object { New-Issued 'prune.test' -Keep 2 }
        $server = Join-Path $sp ($pebble.Directory -replace '^https://', '' -replace '[:/]', '-')
        $folder = Join-Path $server 'certificates/prune.test'
        $left = @(Get-ChildItem $folder -Directory | Where-Object Name -Match '^[0-9A-F]{40}$').Name
        $left.Count | Should -Be 2
        $left | Should -Contain $versions[-1].Thumbprint
        $left | Should -Contain $versions[-2].Thumbprint
        (Get-AcmeCertificate -StatePath $sp -Name prune.test).Thumbprint | Should -Be $versions[-1].Thumbprint
    }
}

Describe 'A truthful state folder' {
    It 'saves an order whose validation failed as Invalid, with its Authorized count' {
        # Nothing answers on this port, so Pebble's validation fails.
        $dead = Get-FreeTcpPort
        $null = $account | New-AcmeOrder -DnsName failed.test
        $err = $null
        Get-AcmeOrder -StatePath $sp -Name failed.test | Start-AcmeHttpChallenge -Port $dead -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -Not -BeNullOrEmpty
        $saved = Get-AcmeOrder -StatePath $sp -Name failed.test
        $saved.Status | Should -Be 'Invalid'
        $saved.Authorized | Should -Be 0
    }

    It 'Get-AcmeOrder -Refresh re-reads the order from the CA and saves it' {
        $null = New-Issued 'refresh.test'
        $saved = Get-AcmeOrder -StatePath $sp -Name refresh.test
        $saved.Status | Should -Be 'Valid'
        $saved.Authorized | Should -Be 1 -Because 'the count is saved'
        $refreshed = Get-AcmeOrder -StatePath $sp -Name refresh.test -Refresh
        $refreshed.Authorizations.Count | Should -Be 1 -Because 'the authorizations were fetched'
        $refreshed.Authorizations[0].Status | Should -Be 'Valid'
        ($refreshed | Format-Table | Out-String) | Should -Match '1 of 1'
    }

    It 'records TermsOfServiceAgreed and CreatedAt, which Pebble does not echo' {
        $before = [DateTimeOffset]::UtcNow.AddMinutes(-1)
        $fresh = New-AcmeAccount @ca -Name dated -StatePath $sp -AcceptTermsOfService
        $fresh.CreatedAt | Should -BeGreaterThan $before
        $saved = Get-AcmeAccount -StatePath $sp -Name dated
        $saved.TermsOfServiceAgreed | Should -BeTrue
        [Math]::Abs(($saved.CreatedAt - $fresh.CreatedAt).TotalSeconds) | Should -BeLessThan 1 -Because 'the time it was created is saved'
    }
}
