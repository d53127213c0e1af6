#Requires -Version 7.2
# A CA that forgot its accounts (a reset, a staging wipe), for real: Pebble keeps accounts in memory, so
# Restart-TestPebble (same ports, same API certificate) gives one that knows none of the saved ones.
# New-AcmeCertificate and the DSC resource register the saved key again, say so, and issue; the
# pipeline cmdlets fail with AcmeAccountDoesNotExist and say what to run.
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:pebble = Start-TestPebble
    $script:ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath }

    function Read-SavedAccount([string] $StatePath, [string] $Name) {
        $file = Get-StateFile $StatePath 'account.json' | Where-Object { $_.Directory.Name -eq $Name }
        Get-Content -Raw $file[0].FullName | ConvertFrom-Json
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'A CA that forgot the saved account' -Skip:$pebble.External {
    BeforeAll {
        $script:sp = Join-Path $TestDrive 'state'
        $script:oneShot = @{ StatePath = $sp; HttpPort = $pebble.HttpPort } + $ca
    }

    It 'New-AcmeCertificate registers the saved key again, warns naming the account and the server, saves the new URL, and issues' {
        $first = New-AcmeCertificate -DnsName reset.test @oneShot -AcceptTermsOfService -Contact 'reset@acme.test'
        $before = Read-SavedAccount $sp 'default'
        Restart-TestPebble $pebble

        # No -AcceptTermsOfService now: the saved account recorded agreeing to them.
        $warnings = $null
        $again = New-AcmeCertificate -DnsName reset.test @oneShot -Force -WarningVariable warnings -WarningAction SilentlyContinue -ErrorAction Stop
        $again.Thumbprint | Should -Not -Be $first.Thumbprint
        Test-CertificateChain -Certificate $again.Certificate -Intermediate @($again.Chain) -Root (Get-PebbleRootCertificate $pebble) |
            Should -BeTrue -Because 'the restarted Pebble issued it'
        $warnings.Count | Should -Be 1
        "$($warnings[0])" | Should -BeLike "*account 'default'*$($before.location)*127.0.0.1*"

        $after = Read-SavedAccount $sp 'default'
        $after.location | Should -Not -Be $before.location -Because 'the CA gave the key a new account URL'
        "$($warnings[0])" | Should -BeLike "*$($after.location)*"
        $after.keyThumbprint | Should -Be $before.keyThumbprint -Because 'the same saved key was registered again'
        $after.contact | Should -Be @('mailto:reset@acme.test') -Because 'the saved contacts were sent again'
        (Get-AcmeAccount -StatePath $sp -Name default).Location | Should -Be $after.location
        (Get-AcmeCertificate -StatePath $sp -Name reset.test).Thumbprint | Should -Be $again.Thumbprint
        @(Get-AcmeAccount -StatePath $sp).Name | Should -Be @('default') -Because 'no second account was made'
        Assert-StateIntact $sp

        # The next run uses the account as saved now, with nothing to warn about.
        $warnings = $null
        $third = New-AcmeCertificate -DnsName reset.test @oneShot -Force -WarningVariable warnings -WarningAction SilentlyContinue -ErrorAction Stop
        $third.Thumbprint | Should -Not -Be $again.Thumbprint
        $warnings | Should -BeNullOrEmpty
        (Read-SavedAccount $sp 'default').location | Should -Be $after.location
    }

    It 'New-AcmeOrder with the saved account fails with AcmeAccountDoesNotExist, saying New-AcmeCertificate or New-AcmeAccount -Name registers it again' {
        $account = New-AcmeAccount @ca -Name pipeline -StatePath $sp -AcceptTermsOfService
        Restart-TestPebble $pebble
        $err = $null
        Get-AcmeAccount -StatePath $sp -Name pipeline | New-AcmeOrder -DnsName pipeline.test -ErrorVariable err -ErrorAction SilentlyContinue |
            Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeAccountDoesNotExist,*'
        $err[0].ErrorDetails.RecommendedAction | Should -BeLike '*New-AcmeCertificate*New-AcmeAccount -Name*'
        (Read-SavedAccount $sp 'pipeline').location | Should -Be $account.Location -Because 'New-AcmeOrder changes no saved account'

        # The advice works: New-AcmeAccount with the same name registers the saved key again.
        $again = New-AcmeAccount @ca -Name pipeline -StatePath $sp -AcceptTermsOfService
        $again.KeyThumbprint | Should -Be $account.KeyThumbprint
        $again.Location | Should -Not -Be $account.Location
        $again | New-AcmeOrder -DnsName pipeline.test | Should -Not -BeNullOrEmpty
    }

    It 'the DSC resource registers the saved key again and issues' {
        $resourceType = & ([scriptblock]::Create("using module '$env:ACME_TEST_MODULE'`n[AcmeCertificate]"))
        $state = Join-Path $TestDrive 'dsc-state'
        $out = Join-Path $TestDrive 'dsc-out'
        $resource = $resourceType::new()
        $resource.Server = $pebble.Directory
        $resource.TrustedRootCertificate = $pebble.ApiRootPath
        $resource.HttpPort = $pebble.HttpPort
        $resource.AcceptTermsOfService = $true
        $resource.Name = 'dsc'
        $resource.DnsName = @('dsc.reset.test')
        $resource.StatePath = $state
        $resource.Path = $out
        $resource.Set()
        $before = Read-SavedAccount $state 'default'
        $first = Get-AcmeCertificate -StatePath $state -Name dsc

        Restart-TestPebble $pebble
        $resource.DnsName = @('dsc.reset.test', 'www.dsc.reset.test')
        $resource.Test() | Should -BeFalse
        $warnings = @(& { $resource.Set() } 3>&1 | Where-Object { $_ -is [System.Management.Automation.WarningRecord] })
        "$warnings" | Should -BeLike "*account 'default'*"
        $issued = Get-AcmeCertificate -StatePath $state -Name dsc
        $issued.Thumbprint | Should -Not -Be $first.Thumbprint
        @($issued.Names | Sort-Object) | Should -Be @('dsc.reset.test', 'www.dsc.reset.test')
        $after = Read-SavedAccount $state 'default'
        $after.location | Should -Not -Be $before.location
        $after.keyThumbprint | Should -Be $before.keyThumbprint
        $resource.Test() | Should -BeTrue
    }
}
