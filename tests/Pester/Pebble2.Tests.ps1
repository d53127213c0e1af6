#Requires -Version 7.2
# Against Pebble 2.10.1 (profiles, ACME Renewal Information, replaces/alreadyReplaced, Retry-After,
# -strict): what the fakes stood in for with Debian's Pebble 2.4.0. Runs only when the harness finds
# Pebble 2.10.1 (ACME_TEST_PEBBLE, or ../shared/servers/pebble-2.10.1); otherwise one skipped test says so.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:currentPebble = Find-CurrentPebble
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    if (Find-CurrentPebble) {
        # Retry-After of 2 s on authorizations and orders, so a test can see the client wait for it.
        $script:pebble = Start-TestPebble -Current -RetryAfterAuthz 2 -RetryAfterOrder 2
        $script:account = New-TestAccount $pebble
    }

    function Get-Issued([string] $Name, [string] $Profile) {
        $p = if ($Profile) { @{ Profile = $Profile } } else { @{} }
        $account | New-AcmeOrder -DnsName $Name @p | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
    }

    # Pebble's management API: the ARI answer for one certificate (Pebble 2.8+).
    function Set-PebbleRenewalInfo($Certificate, [datetime] $Start, [datetime] $End) {
        $window = @{ suggestedWindow = @{ start = $Start.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ'); end = $End.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ') } }
        $leaf = [System.Security.Cryptography.PemEncoding]::WriteString('CERTIFICATE', $Certificate.Certificate.RawData)
        $body = @{ certificate = [string]::new($leaf); ariResponse = ($window | ConvertTo-Json -Compress -Depth 4) } | ConvertTo-Json -Compress
        Invoke-RestMethod -Method Post -Uri "$($pebble.ManagementUrl)/set-renewal-info/" -Body $body -SkipCertificateCheck | Out-Null
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'Pebble 2.10.1 is absent' -Skip:([bool]$currentPebble) {
    It 'is reported, not silently passed' {
        Set-ItResult -Skipped -Because 'Pebble 2.10.1 was not found: set ACME_TEST_PEBBLE to its binary or put it at <repo>/../shared/servers/pebble-2.10.1/pebble'
    }
}

Describe 'Against Pebble 2.10.1' -Skip:(-not $currentPebble) {
    It 'is the Pebble the harness started, with two profiles' {
        $pebble.Version | Should -Be '2.10.1'
        $pebble.Profiles | Should -Be @('default', 'shortlived')
        (Get-AcmeDirectory -Server $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath).Profiles.Keys | Sort-Object | Should -Be @('default', 'shortlived')
    }

    It 'saves the profile Pebble picked for an order without -Profile, and a renewal keeps it' {
        $cert = Get-Issued 'noprofile.test'
        $cert.Order.Profile | Should -BeIn @('default', 'shortlived') -Because 'Pebble picks a profile at random and says which in the order'
        $saved = Get-AcmeCertificate -Name 'noprofile.test'
        $saved.Order.Profile | Should -Be $cert.Order.Profile
        $lifetime = ($cert.NotAfter - $cert.NotBefore).TotalSeconds
        $expected = if ($cert.Order.Profile -eq 'shortlived') { 518400 } else { 7776000 }
        [math]::Abs($lifetime - $expected) | Should -BeLessOrEqual 2 -Because 'the certificate has the picked profile''s validity'

        $renewed = $saved | New-AcmeOrder | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
        $renewed.Order.Profile | Should -Be $cert.Order.Profile
        $other = if ($cert.Order.Profile -eq 'shortlived') { 'default' } else { 'shortlived' }
        $told = $renewed | New-AcmeOrder -Profile $other | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
        $told.Order.Profile | Should -Be $other
    }

    It 'issues certificates without a CN from a CSR without a CN for the shortlived profile, and without EKU in the CSR' {
        $cert = Get-Issued 'shortlived.test' -Profile shortlived
        $cert.Subject | Should -BeNullOrEmpty
        $cert.Names | Should -Be @('shortlived.test')
        ($cert.NotAfter - $cert.NotBefore).TotalHours | Should -BeLessOrEqual 144.1
        (Get-AcmeCertificate -Name 'shortlived.test' | Test-AcmeRenewal).RenewAt |
            Should -BeLessOrEqual $cert.NotAfter.ToUniversalTime().AddHours(-24) -Because 'the renewal time (the ARI window, or half the lifetime) leaves at least a day'
    }

    It 'names the offered profiles when the CA refuses one (invalidProfile)' {
        # The directory (edited by the proxy) lists a profile Pebble does not have, so the local check lets it through and Pebble refuses it.
        Import-TestKit
        $proxy = Start-TestFaultProxy $pebble
        try {
            $directory = New-ProxyConnection $proxy -TimeoutSec 5
            $meta = '{"profiles":{"default":"The profile you know and love","shortlived":"A short-lived cert profile","classic":"gone"}}'
            $null = $proxy.Add([Acme.TestKit.FaultRule]@{ Kind = 'EditJson'; Path = '^/dir$'; JsonField = 'meta'; JsonValue = $meta; Times = 0 })
            $viaProxy = New-AcmeAccount -Server $directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService
            $e = { $viaProxy | New-AcmeOrder -DnsName invalid-profile.test -Profile classic -ErrorAction Stop } | Should -Throw -PassThru
            $e.FullyQualifiedErrorId | Should -BeLike 'AcmeInvalidProfile,*'
            "$($e.ErrorDetails.Message)" | Should -BeLike '*invalidProfile*The CA offers the profiles: *default*shortlived*'
            $e.Exception.Offered | Should -Contain 'shortlived'
        } finally {
            $proxy.Dispose()
        }
    }

    It 'follows a window moved with POST /set-renewal-info/ (Test-AcmeRenewal)' {
        $later = Get-Issued 'ari-later.test'
        Set-PebbleRenewalInfo $later ([datetime]::UtcNow.AddDays(20)) ([datetime]::UtcNow.AddDays(21))
        $check = Get-AcmeCertificate -Name 'ari-later.test' | Test-AcmeRenewal
        $check.Due | Should -BeFalse
        $check.WindowStart.UtcDateTime | Should -BeGreaterThan ([datetime]::UtcNow.AddDays(19))
        $check.RenewAt.UtcDateTime | Should -BeLessOrEqual ([datetime]::UtcNow.AddDays(21.01))

        $now = Get-Issued 'ari-now.test'
        Set-PebbleRenewalInfo $now ([datetime]::UtcNow.AddHours(-2)) ([datetime]::UtcNow.AddHours(-1))
        $due = Get-AcmeCertificate -Name 'ari-now.test' | Test-AcmeRenewal
        $due.Due | Should -BeTrue
        "$($due.Reason)" | Should -Be 'Ari'
    }

    It 'renews with replaces, and a second replacement of the same certificate warns (alreadyReplaced)' {
        $first = Get-Issued 'replaces.test'
        $renewal = $first | New-AcmeOrder
        $renewal.Replaces | Should -Not -BeNullOrEmpty -Because 'the CA offers ARI, so the renewal names the certificate it replaces'
        $renewed = $renewal | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
        $renewed.Order.Replaces | Should -Be $renewal.Replaces
        Select-String -LiteralPath $pebble.PebbleLog -SimpleMatch 'is a replacement of' | Should -Not -BeNullOrEmpty

        $second = $first | New-AcmeOrder -WarningVariable warnings -WarningAction SilentlyContinue
        $warnings | Should -HaveCount 1
        "$($warnings[0])" | Should -BeLike "*already has an order replacing*$($renewal.Replaces)*alreadyReplaced*"
        $second.Replaces | Should -BeNullOrEmpty -Because 'the order went ahead without replaces'
        ($second | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder).Names | Should -Be @('replaces.test')
    }

    It 'hears from ARI to renew at once after a revocation' {
        $cert = Get-Issued 'ari-revoked.test'
        ($cert | Get-AcmeRenewalInfo).ShouldRenewNow | Should -BeFalse
        $cert | Revoke-AcmeCertificate -Reason KeyCompromise -Confirm:$false
        $info = Get-AcmeRenewalInfo -CertificateId ($cert | Get-AcmeRenewalInfo).CertificateId -Server $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath
        $info.ShouldRenewNow | Should -BeTrue
        $info.SuggestedWindowEnd.UtcDateTime | Should -BeLessOrEqual ([datetime]::UtcNow)
    }

}

Describe 'Against Pebble 2.10.1 with Retry-After and validation delays' -Skip:(-not $currentPebble) {
    BeforeAll {
        # Pebble's VA sleeps (0-15 s) before it validates, so the authorization stays pending while Retry-After (3 s) is asked.
        $script:slow = Start-TestPebble -Current -NoValidationSleep:$false -RetryAfterAuthz 3 -RetryAfterOrder 3
        $script:slowAccount = New-TestAccount $slow
    }
    AfterAll {
        if ($script:slow) { Stop-TestPebble $script:slow }
    }

    It 'waits as Retry-After asks on a pending authorization' {
        $lines = & { $slowAccount | New-AcmeOrder -DnsName retry-after.test | Start-AcmeHttpChallenge -Port $slow.HttpPort -TimeoutSec 60 -Verbose |
                Complete-AcmeOrder -Verbose } 4>&1
        @($lines | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] }).Names | Should -Be @('retry-after.test')
        $verbose = @($lines | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $waits = @($verbose -match 'as the CA asked \(Retry-After 3 s\)')
        if (-not $waits) {
            Set-ItResult -Inconclusive -Because 'Pebble validated before the first poll (its random VA sleep was short)'
            return
        }
        # The wait the client announces is the one it sleeps (OrderFlow), and it is at least what the CA asked.
        foreach ($w in $waits) { [double]($w -replace '^.*waiting ([0-9.]+) s.*$', '$1') | Should -BeGreaterOrEqual 2.5 -Because 'Retry-After counts from the answer, so a little of it has passed' }
    }
}

Describe 'Against Pebble 2.10.1 -strict' -Skip:(-not $currentPebble) {
    BeforeAll {
        $script:strict = Start-TestPebble -Current -Strict
        $script:strictAccount = New-TestAccount $strict
    }
    AfterAll {
        if ($script:strict) { Stop-TestPebble $script:strict }
    }

    It 'issues, renews with replaces and revokes under -strict' {
        $cert = $strictAccount | New-AcmeOrder -DnsName strict.test | Start-AcmeHttpChallenge -Port $strict.HttpPort | Complete-AcmeOrder
        $cert.Names | Should -Be @('strict.test')
        $renewed = $cert | New-AcmeOrder | Start-AcmeHttpChallenge -Port $strict.HttpPort | Complete-AcmeOrder
        $renewed.Order.Replaces | Should -Not -BeNullOrEmpty
        $renewed | Revoke-AcmeCertificate -Confirm:$false
        (Invoke-RestMethod -Uri "$($strict.ManagementUrl)/cert-status-by-serial/$($renewed.SerialNumber)" -SkipCertificateCheck).Status | Should -Be 'Revoked'
        Select-String -LiteralPath $strict.PebbleLog -Pattern 'strict' | Should -Not -BeNullOrEmpty
    }
}
