#Requires -Version 7.2
<#
    The bad-input corpus (BadInput.Cases.ps1), each row checked the same way: one clear error with its
    ErrorId and category, no output, not a stack trace, no request when the input can be refused
    locally, nothing half-written, no http-01 listener left open, a bounded time.
#>
BeforeDiscovery {
    $script:cases = & (Join-Path $PSScriptRoot 'BadInput.Cases.ps1')
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $ErrorActionPreference = 'Continue'
    $script:pebble = Start-TestPebble
    $script:proxy = Start-TestFaultProxy $pebble
    $script:port = $pebble.HttpPort
    $script:account = New-AcmeAccount -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate -AcceptTermsOfService
    $script:order = $account | New-AcmeOrder -DnsName badinput-pending.test
    $script:certificate = $account | New-AcmeOrder -DnsName badinput-issued.test | Start-AcmeHttpChallenge -Port $port | Complete-AcmeOrder
    $script:run = 0

    # A state folder with one account, one issued certificate and one pending order, copied for each state row.
    $script:stateTemplate = Join-Path $TestDrive 'state-template'
    $null = New-AcmeCertificate -DnsName badinput-state.test -StatePath $stateTemplate -Server $proxy.Directory -TrustedRootCertificate $proxy.RootCertificate `
        -AcceptTermsOfService -HttpPort $port
    $null = Get-AcmeAccount -StatePath $stateTemplate -Name default | New-AcmeOrder -DnsName badinput-state-pending.test

    function Copy-TestState {
        $copy = Join-Path $work 'state'
        Copy-Item -LiteralPath $stateTemplate -Destination $copy -Recurse
        $copy
    }

    # The one file of that name in a state folder (below a folder named $Under, when given).
    function Get-TestStateFile([string] $StatePath, [string] $Name, [string] $Under) {
        $found = @(Get-ChildItem -LiteralPath $StatePath -Recurse -Force -File -Filter $Name | Where-Object { -not $Under -or $_.FullName -like "*$([IO.Path]::DirectorySeparatorChar)$Under$([IO.Path]::DirectorySeparatorChar)*" })
        if ($found.Count -ne 1) { throw "Expected one $Name in $StatePath, found $($found.Count)." }
        $found[0].FullName
    }

    # The whole pipeline on a fresh connection, so directory faults hit a cold cache.
    function Invoke-ProxyPipeline {
        $script:run++
        Invoke-TestPipeline (New-ProxyConnection $proxy) $proxy.RootCertificate $port "badinput$script:run.test"
    }
}

AfterAll {
    if ($script:proxy) { $script:proxy.Dispose() }
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'Bad input' {
    It 'holds at least 100 cases' {
        $cases.Count | Should -BeGreaterOrEqual 100
    }

    It '<Area>: <Name>' -ForEach $cases {
        $work = (New-Item -ItemType Directory (Join-Path $TestDrive ([guid]::NewGuid().ToString('N')))).FullName
        $rule = if ($Fault) { $proxy.Add([Acme.TestKit.FaultRule]$Fault) }
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        try {
            $result = Invoke-Captured $Run
        } finally {
            $proxy.Clear()
        }
        $sent = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount - $before

        $result.Output | Should -BeNullOrEmpty
        $result.Errors.Count | Should -Be 1 -Because ($result.Errors | Out-String)
        $record = $result.Errors[0]
        $record.FullyQualifiedErrorId | Should -BeLike "$ErrorId*"
        $record.CategoryInfo.Category | Should -Be $Category
        $text = "$($record.Exception.Message) $($record.ErrorDetails.Message)"
        $text.Trim() | Should -Not -BeNullOrEmpty
        $text | Should -Not -Match '\bat \S+\.\S+\(' -Because 'the message is not a stack trace'
        if ($Message) { $text | Should -BeLike $Message }
        if ($Secret) { "$text $($record.TargetObject) $($record.CategoryInfo) $($record.Exception)" | Should -Not -BeLike "*$Secret*" -Because 'a password given in the input is never shown' }
        if ($NoRequest) { $sent | Should -Be 0 -Because 'bad input is refused before any request' }
        if ($rule) { $rule.Hits | Should -BeGreaterThan 0 -Because 'the server answer was tampered with' }
        $result.Seconds | Should -BeLessThan 30
        Get-ChildItem -LiteralPath $work -Recurse -Force -Filter '*.tmp' | Should -BeNullOrEmpty -Because 'nothing is half-written'
        [Acme.Protocol.Challenges.Http01.Http01PortLease]::ActiveCount | Should -Be 0 -Because 'no listener is left open'
        Test-TcpPortFree $port | Should -BeTrue
    }
}

Describe 'Input that is normalized rather than refused' {
    It '<Given> becomes <Expected>' -ForEach @(
        @{ Given = @('WWW.Example.TEST.'); Expected = @('www.example.test') }
        @{ Given = @('a.test', 'A.TEST', 'a.test.'); Expected = @('a.test') }
        @{ Given = @('bücher.test'); Expected = @('xn--bcher-kva.test') }
        @{ Given = @('  padded.test  '); Expected = @('padded.test') }
        @{ Given = @('[::1]'); Expected = @('::1') }
        @{ Given = @('::ffff:127.0.0.1'); Expected = @('127.0.0.1') }
        @{ Given = @('2001:DB8:0:0:0:0:0:1'); Expected = @('2001:db8::1') }
    ) {
        $order = $account | New-AcmeOrder -DnsName $Given
        $order.Names | Should -Be $Expected
    }
}
