#Requires -Version 7.2
# A failed renewal backs off (RenewalBackoff: 1 h, 2 h, 4 h ... up to a day, always before expiry),
# against a real Pebble whose http-01 validation fails: the module answers on another port, and on
# Pebble's own port a web server without the token answers 404. Nothing
# sleeps: the schedule shows in the NextAttempt values saved with the certificate (the schedule itself,
# with a clock given to it, is in tests/Acme.Protocol.Tests/RenewalBackoffTests.cs).
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    # As little authorization reuse as Pebble allows; it still reuses one now and then, so the issuance's own
    # authorization is deactivated below as well (Disable-SavedAuthorization), and no renewal here passes unvalidated.
    $script:pebble = Start-TestPebble -AuthzReusePercent 0
    $script:ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath }
    $script:sp = Join-Path $TestDrive 'state'
    $script:oneShot = @{ StatePath = $sp; AcceptTermsOfService = $true; TimeoutSec = 60 } + $ca
    # A port nobody tells Pebble about: Pebble validates on its own http port, not there.
    $script:deafPort = Get-FreeTcpPort -Except $pebble.HttpPort
    $script:emptyRoot = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'no-tokens')).FullName

    function Invoke-WithWrongAnswer([scriptblock] $Script) {
        <# Runs the script while Pebble's http port is held by a web server without the token: its validation gets
           404 whatever else this machine runs, and the port cannot be taken by another process meanwhile. #>
        $server = Start-TestFileServer -Root $emptyRoot -Port $pebble.HttpPort
        try { & $Script } finally { Stop-TestFileServer $server }
    }

    function Get-PebbleCount([string] $Pattern) {
        $pebble.Processes[-1].Log.Flush()
        @(Select-String -LiteralPath $pebble.PebbleLog -Pattern $Pattern).Count
    }

    function Invoke-FailingRenewal([hashtable] $Extra = @{}) {
        try {
            Invoke-WithWrongAnswer { New-AcmeCertificate -DnsName backoff.test @oneShot -HttpPort $deafPort @Extra -ErrorAction Stop }
            throw 'the renewal was expected to fail'
        } catch [System.Management.Automation.RuntimeException] {
            if ($_.Exception.Message -eq 'the renewal was expected to fail') { throw }
            $_
        }
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'A failed renewal backs off' {
    BeforeAll {
        $script:issued = New-AcmeCertificate -DnsName backoff.test @oneShot -HttpPort $pebble.HttpPort
        # The account gives up its valid authorization, which Pebble would otherwise reuse now and then (see above).
        Disable-SavedAuthorization -StatePath $sp -Name backoff.test | Should -Be 1
        # Revoked: due at once (reason Revoked), so the backoff is what holds it back below.
        Get-AcmeCertificate -StatePath $sp -Name backoff.test | Revoke-AcmeCertificate -Confirm:$false
    }

    It 'is due before any failure and reports no error' {
        $check = Get-AcmeCertificate -StatePath $sp -Name backoff.test | Test-AcmeRenewal
        $check.Due | Should -BeTrue
        $check.Reason | Should -Be 'Revoked'
        $check.LastError | Should -BeNullOrEmpty
        $check.NextAttempt | Should -BeNullOrEmpty
        $check.Failures | Should -Be 0
    }

    It 'records the failure, then says not due until NextAttempt (an hour later)' {
        $before = Get-Date
        $failed = Invoke-FailingRenewal
        $failed.FullyQualifiedErrorId | Should -Match '^AcmeAuthorizationFailed'
        $failed.Exception.Message | Should -Match 'returned 404' -Because "the CA's detail says what its validation got"

        $check = Get-AcmeCertificate -StatePath $sp -Name backoff.test | Test-AcmeRenewal
        $check.Due | Should -BeFalse
        $check.Reason | Should -Be 'Backoff'
        $check.LastError | Should -Be $failed.Exception.Message
        $check.LastErrorId | Should -Not -BeNullOrEmpty
        $check.Failures | Should -Be 1
        $check.LastAttempt | Should -BeGreaterOrEqual ([DateTimeOffset]$before.AddSeconds(-1))
        $check.LastAttempt | Should -BeLessOrEqual ([DateTimeOffset]::UtcNow)
        ($check.NextAttempt - $check.LastAttempt) | Should -Be ([TimeSpan]::FromHours(1))
        $check.RenewAt | Should -Be $check.NextAttempt
        (Get-AcmeCertificate -StatePath $sp -Name backoff.test | Test-AcmeRenewal -Force).Due | Should -BeTrue -Because '-Force ignores the backoff'
        # Filterable: an hourly runbook's Where-Object Due passes nothing on.
        @(Get-AcmeCertificate -StatePath $sp | Test-AcmeRenewal | Where-Object Due).Count | Should -Be 0
    }

    It 'does not ask the CA again while the backoff holds (New-AcmeCertificate without -Force)' {
        $orders = Get-PebbleCount 'Added order "'
        $again = New-AcmeCertificate -DnsName backoff.test @oneShot -HttpPort $deafPort -ErrorAction Stop
        $again.Thumbprint | Should -Be $issued.Thumbprint
        Get-PebbleCount 'Added order "' | Should -Be $orders -Because 'the backoff holds: no new order, no validation'
    }

    It 'doubles the wait after the next failure in a row (-Force tries at once)' {
        $orders = Get-PebbleCount 'Added order "'
        $null = Invoke-FailingRenewal @{ Force = $true }
        Get-PebbleCount 'Added order "' | Should -Be ($orders + 1)
        $check = Get-AcmeCertificate -StatePath $sp -Name backoff.test | Test-AcmeRenewal
        $check.Failures | Should -Be 2
        ($check.NextAttempt - $check.LastAttempt) | Should -Be ([TimeSpan]::FromHours(2))
        $check.Due | Should -BeFalse
    }

    It 'records a failure of the renewal pipeline (Start-AcmeHttpChallenge) as well' {
        $account = Get-AcmeAccount -StatePath $sp
        $pipelineErrors = Invoke-WithWrongAnswer {
            $null = Get-AcmeCertificate -StatePath $sp -Name backoff.test | Test-AcmeRenewal -Force | New-AcmeOrder -Account $account |
                Start-AcmeHttpChallenge -Port $deafPort -TimeoutSec 60 -ErrorAction SilentlyContinue -ErrorVariable raised
            $raised
        }
        $pipelineErrors | Should -Not -BeNullOrEmpty
        $check = Get-AcmeCertificate -StatePath $sp -Name backoff.test | Test-AcmeRenewal
        $check.Failures | Should -Be 3
        ($check.NextAttempt - $check.LastAttempt) | Should -Be ([TimeSpan]::FromHours(4))
    }

    It 'forgets the failures once a renewal succeeds' {
        $renewed = New-AcmeCertificate -DnsName backoff.test @oneShot -HttpPort $pebble.HttpPort -Force
        $renewed.Thumbprint | Should -Not -Be $issued.Thumbprint
        $check = Get-AcmeCertificate -StatePath $sp -Name backoff.test | Test-AcmeRenewal
        $check.Due | Should -BeFalse
        $check.Reason | Should -Be 'NotDue'
        $check.LastError | Should -BeNullOrEmpty
        $check.NextAttempt | Should -BeNullOrEmpty
        $check.Failures | Should -Be 0
    }
}
