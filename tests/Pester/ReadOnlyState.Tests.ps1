#Requires -Version 7.2
# A state folder on a really read-only file system (a tmpfs remounted read-only; the tests run as root,
# whom file modes do not stop), against a real Pebble: reading commands and a New-AcmeCertificate with
# nothing to do work, anything that must write fails at once with AcmeStateReadOnly rather than
# waiting out the lock timeout and blaming another process.
BeforeDiscovery {
    # mount needs Linux and root with CAP_SYS_ADMIN (not every container grants it): tried once here,
    # and where it fails these tests are skipped.
    $script:canMount = $false
    if ($IsLinux -and (& id -u) -eq '0' -and (Get-Command mount -ErrorAction Ignore)) {
        $probe = Join-Path ([System.IO.Path]::GetTempPath()) ("acme-mount-probe-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $null = New-Item -ItemType Directory -Path $probe
        & mount -t tmpfs -o size=1m acme-test-probe $probe 2>$null
        if ($LASTEXITCODE -eq 0) { $script:canMount = $true; & umount $probe }
        Remove-Item -LiteralPath $probe -Force
    }
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
}

Describe 'A read-only state folder' -Skip:(-not $canMount) {
    BeforeAll {
        $script:pebble = Start-TestPebble
        $script:ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath }
        $script:mount = Join-Path $TestDrive 'ro'
        $null = New-Item -ItemType Directory -Path $mount
        & mount -t tmpfs -o size=16m acme-test-ro $mount
        if ($LASTEXITCODE -ne 0) { throw "mount -t tmpfs failed ($LASTEXITCODE)." }
        $script:mounted = $true
        $script:sp = Join-Path $mount 'state'
        $script:oneShot = @{ StatePath = $sp; HttpPort = $pebble.HttpPort; AcceptTermsOfService = $true } + $ca
        $script:issued = New-AcmeCertificate -DnsName ro.test @oneShot
        $script:pending = Get-AcmeAccount -StatePath $sp -Name default | New-AcmeOrder -DnsName pending-ro.test
        & mount -o remount,ro $mount
        if ($LASTEXITCODE -ne 0) { throw "mount -o remount,ro failed ($LASTEXITCODE)." }
        # The default (300 seconds): a failure that waited for the lock would show in the time taken.
        Remove-Item Env:ACME_STATE_LOCK_TIMEOUT -ErrorAction Ignore

        function Get-Failure([scriptblock] $Script) {
            $r = Invoke-Captured $Script
            $r.Seconds | Should -BeLessThan 30 -Because 'a folder nobody can write fails at once, not after the lock timeout'
            $r.Errors | Should -Not -BeNullOrEmpty
            $r.Errors[0]
        }
    }

    AfterAll {
        if ($script:mounted) { & umount $mount }
        if ($script:pebble) { Stop-TestPebble $script:pebble }
    }

    It 'is really read-only, even for root' {
        { Set-Content -LiteralPath (Join-Path $sp 'probe') 'x' -ErrorAction Stop } | Should -Throw '*Read-only file system*'
    }

    It 'reads the saved certificate (Get-AcmeCertificate) and checks its renewal (Test-AcmeRenewal)' {
        (Get-AcmeCertificate -StatePath $sp -Name ro.test).Thumbprint | Should -Be $issued.Thumbprint
        $check = Get-AcmeCertificate -StatePath $sp -Name ro.test | Test-AcmeRenewal -ErrorAction Stop
        $check.Due | Should -BeFalse
        (Get-AcmeAccount -StatePath $sp -Name default).Name | Should -Be 'default'
    }

    It 'runs New-AcmeCertificate with nothing to do: the valid certificate comes back, nothing is written' {
        $r = Invoke-Captured { New-AcmeCertificate -DnsName ro.test @oneShot -ErrorAction Stop }
        $r.Errors | Should -BeNullOrEmpty
        $r.Seconds | Should -BeLessThan 30
        $r.Output[-1].Thumbprint | Should -Be $issued.Thumbprint
    }

    It 'fails at once with AcmeStateReadOnly when New-AcmeCertificate must issue (-Force)' {
        $e = Get-Failure { New-AcmeCertificate -DnsName ro.test @oneShot -Force -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeStateReadOnly,*'
        $e.CategoryInfo.Category | Should -Be 'PermissionDenied'
        $e.Exception.Message | Should -BeLike '*read-only file system*'
        $e.Exception.Message | Should -Not -BeLike '*another process*'
        $e.ErrorDetails.RecommendedAction | Should -BeLike '*writable*ACME_STATE_PATH*'
        (Get-AcmeCertificate -StatePath $sp -Name ro.test).Thumbprint | Should -Be $issued.Thumbprint
    }

    It 'fails at once with AcmeStateReadOnly for a certificate not saved yet (its folder cannot be made)' {
        $e = Get-Failure { New-AcmeCertificate -DnsName new-ro.test @oneShot -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeStateReadOnly,*'
    }

    It 'fails at once with AcmeStateReadOnly for a new account and for removing an order' {
        (Get-Failure { New-AcmeAccount @ca -Name other -StatePath $sp -AcceptTermsOfService -ErrorAction Stop }).FullyQualifiedErrorId |
            Should -BeLike 'AcmeStateReadOnly,*'
        (Get-Failure { Get-AcmeOrder -StatePath $sp -Name pending-ro.test | Remove-AcmeOrder -Confirm:$false -ErrorAction Stop }).FullyQualifiedErrorId |
            Should -BeLike 'AcmeStateReadOnly,*'
        Get-AcmeOrder -StatePath $sp -Name pending-ro.test | Should -Not -BeNullOrEmpty
    }
}
