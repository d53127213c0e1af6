#Requires -Version 7.2
<#
    Bad-nonce storms (Pester tag Stress; run by `build.ps1 Stress`, which CI runs after Test): 100
    issuances with Pebble rejecting 50% of good nonces all succeed; 20 with it rejecting 90% end each
    in a certificate or in a clear AcmeBadNonce error after the bounded retries, never in a hang.
#>
BeforeDiscovery {
    # These need a Pebble this harness configures (its nonce rejection rate); an external one is skipped.
    $script:external = [bool]$env:ACME_TEST_DIRECTORY
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $ErrorActionPreference = 'Continue'

    # Issues one certificate per name; returns each run's name, certificate, errors and seconds.
    function Invoke-Storm($Pebble, $Account, [string[]] $Names) {
        foreach ($name in $Names) {
            $run = Invoke-Captured { $Account | New-AcmeOrder -DnsName $name | Start-AcmeHttpChallenge -Port $Pebble.HttpPort -TimeoutSec 60 | Complete-AcmeOrder -TimeoutSec 60 }
            [pscustomobject]@{ Name = $name; Certificate = $run.Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] }; Errors = $run.Errors; Seconds = $run.Seconds }
        }
    }
}

Describe 'Bad-nonce storm at 50%' -Tag Stress -Skip:$external {
    BeforeAll { $script:pebble = Start-TestPebble -NonceRejectPercent 50 }
    AfterAll { if ($script:pebble) { Stop-TestPebble $script:pebble } }

    It 'issues 100 certificates without a single failure' {
        $account = New-TestAccount $pebble
        $connection = [Acme.Protocol.Transport.AcmeConnection]::Get($account.Server)
        $before = $connection.RequestCount

        $runs = @(Invoke-Storm $pebble $account (1..100 | ForEach-Object { "storm50-$_.test" }))

        $failed = @($runs | Where-Object { $_.Errors })
        $failed | ForEach-Object { Write-Host "    $($_.Name): $($_.Errors[0].FullyQualifiedErrorId) $($_.Errors[0])" }
        $failed.Count | Should -Be 0
        @($runs | Where-Object { $_.Certificate.Names -contains $_.Name }).Count | Should -Be 100
        $sent = $connection.RequestCount - $before
        Write-Host "    (100 issuances took $sent requests, badNonce retries included)"
        $sent | Should -BeGreaterThan 1200 -Because 'about half the signed requests were refused and retried (an issuance needs about 9 without retries)'
        Test-TcpPortFree $pebble.HttpPort | Should -BeTrue
    }
}

Describe 'Bad-nonce storm at 90%' -Tag Stress -Skip:$external {
    BeforeAll { $script:pebble = Start-TestPebble -NonceRejectPercent 90 }
    AfterAll { if ($script:pebble) { Stop-TestPebble $script:pebble } }

    It 'ends each of 20 issuances in a certificate or a clear AcmeBadNonce error, never a hang' {
        # Even creating the account may run out of retries at 90%; that too must be AcmeBadNonce.
        $account = $null
        for ($i = 0; -not $account -and $i -lt 10; $i++) {
            $attempt = Invoke-Captured { New-TestAccount $pebble }
            $account = $attempt.Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeAccount] }
            foreach ($e in $attempt.Errors) { $e.FullyQualifiedErrorId | Should -BeLike 'AcmeBadNonce,*' }
        }
        $account | Should -Not -BeNullOrEmpty

        $runs = @(Invoke-Storm $pebble $account (1..20 | ForEach-Object { "storm90-$_.test" }))

        $failed = @($runs | Where-Object { $_.Errors })
        Write-Host "    ($($runs.Count - $failed.Count) of 20 issued; $($failed.Count) ended in AcmeBadNonce; slowest $([Math]::Round(($runs.Seconds | Measure-Object -Maximum).Maximum, 1)) s)"
        $runs.Count | Should -Be 20
        foreach ($run in $runs) {
            $run.Seconds | Should -BeLessThan 60 -Because 'the retries are bounded'
            if ($run.Errors) {
                $run.Errors.Count | Should -Be 1
                $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'AcmeBadNonce,*'
                $run.Errors[0].CategoryInfo.Category | Should -Be 'ProtocolError'
                $run.Errors[0].ErrorDetails.Message | Should -BeLike '*nonce*(badNonce, HTTP 400)' -Because 'the CA''s own detail is shown'
                $run.Errors[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
            } else {
                $run.Certificate.Names | Should -Be @($run.Name)
            }
        }
        $failed.Count | Should -BeGreaterThan 0 -Because 'at 90% rejection some issuances exhaust the retries (the chance of none is below one in a billion)'
        [Acme.Protocol.Challenges.Http01.Http01PortLease]::ActiveCount | Should -Be 0
        Test-TcpPortFree $pebble.HttpPort | Should -BeTrue
    }
}
