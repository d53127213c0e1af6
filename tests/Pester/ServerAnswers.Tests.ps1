#Requires -Version 7.2
# CA answers no Pebble gives on request, injected by the fault proxy in front of a real Pebble (Fake):
# step-ca's 501 on keyChange (with the problem type rejectedIdentifier), and userActionRequired with the
# URL to visit. The requests still go through the real client and the real Pebble around them.
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    Import-TestKit
    $script:pebble = Start-TestPebble
    $script:proxy = Start-TestFaultProxy $pebble
}

AfterAll {
    if ($script:proxy) { $script:proxy.Dispose() }
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'What the CA does not implement and what it asks the user to do (Fake answers)' {
    AfterEach { $proxy.Clear() }

    It 'Fake step-ca: a 501 on keyChange is AcmeNotImplementedByServer naming the operation, not AcmeRejectedIdentifier' {
        $directory = New-ProxyConnection $proxy -TimeoutSec 5
        $account = New-AcmeAccount -Server $directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService
        # What step-ca answers (acme/api/account.go: keyChange is "not implemented").
        $body = '{"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"not implemented","status":501}'
        $rule = $proxy.Add([Acme.TestKit.FaultRule]@{ Kind = 'Status'; StatusCode = 501; ContentType = 'application/problem+json'; Body = $body; Method = 'POST'; Path = '^/rollover-account-key'; Times = 0 })
        $e = { $account | Update-AcmeAccountKey -NewKeyAlgorithm EC256 -Confirm:$false -ErrorAction Stop } | Should -Throw -PassThru
        $rule.Hits | Should -Be 1 -Because 'a 501 is not retried'
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeNotImplementedByServer,*'
        $e.CategoryInfo.Category | Should -Be 'NotImplemented'
        "$($e.ErrorDetails.Message)" | Should -BeLike '*does not implement account key rollover (keyChange)*not implemented*'
        $e.ErrorDetails.RecommendedAction | Should -BeLike '*New-AcmeAccount*'
        # Nothing half-done: the saved account keeps its key.
        @(Get-AcmeAccount | Where-Object Location -EQ $account.Location).KeyThumbprint | Should -Be @($account.KeyThumbprint)
    }

    It 'Fake: a 501 without a problem document on newOrder names ordering' {
        $directory = New-ProxyConnection $proxy -TimeoutSec 5
        $account = New-AcmeAccount -Server $directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService
        $null = $proxy.Add([Acme.TestKit.FaultRule]@{ Kind = 'Status'; StatusCode = 501; ContentType = 'text/plain'; Body = 'Not Implemented'; Method = 'POST'; Path = '^/order-plz'; Times = 0 })
        $e = { $account | New-AcmeOrder -DnsName notimpl.test -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeNotImplementedByServer,*'
        "$($e.ErrorDetails.Message)" | Should -BeLike '*does not implement ordering (newOrder)*'
    }

    It 'Fake: userActionRequired shows the URL to visit in the message' {
        $directory = New-ProxyConnection $proxy -TimeoutSec 5
        $body = '{"type":"urn:ietf:params:acme:error:userActionRequired","detail":"Terms of service have changed","instance":"https://ca.test/agree-to-new-terms","status":403}'
        $null = $proxy.Add([Acme.TestKit.FaultRule]@{ Kind = 'Status'; StatusCode = 403; ContentType = 'application/problem+json'; Body = $body; Method = 'POST'; Path = '^/sign-me-up'; Times = 0 })
        $e = { New-AcmeAccount -Server $directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeUserActionRequired,*'
        "$($e.ErrorDetails.Message)" | Should -BeLike '*Terms of service have changed*visit https://ca.test/agree-to-new-terms*'
        $e.Exception.Message | Should -BeLike '*https://ca.test/agree-to-new-terms*'
        $e.ErrorDetails.RecommendedAction | Should -BeLike 'Visit https://ca.test/agree-to-new-terms*'
    }
}
