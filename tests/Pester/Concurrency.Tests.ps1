#Requires -Version 7.2
<#
    Pipelines at once in one session (ForEach-Object -Parallel) sharing one AcmeAccount, its connection
    and nonce pool, and the one http-01 port Pebble validates on: every pipeline joins the same
    listener instead of failing with AcmeListenerPortInUse.
#>
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $ErrorActionPreference = 'Continue'
    $script:pebble = Start-TestPebble
    $script:account = New-TestAccount $pebble

    function Invoke-Parallel([string[]] $Names) {
        $Names | ForEach-Object -ThrottleLimit 8 -Parallel {
            Import-Module $using:env:ACME_TEST_MODULE
            $name = $_
            $errors = $null
            $cert = $using:account | New-AcmeOrder -DnsName $name -ErrorVariable +errors -ErrorAction SilentlyContinue |
                Start-AcmeHttpChallenge -Port ($using:pebble).HttpPort -ErrorVariable +errors -ErrorAction SilentlyContinue |
                Complete-AcmeOrder -ErrorVariable +errors -ErrorAction SilentlyContinue
            [pscustomobject]@{ Name = $name; Certificate = $cert; Errors = @($errors) }
        }
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'Pipelines at once' {
    It 'issues 8 certificates from 8 parallel pipelines sharing one account and one http-01 port' {
        $connection = [Acme.Protocol.Transport.AcmeConnection]::Get($account.Server)
        $before = $connection.RequestCount
        $names = 1..8 | ForEach-Object { "parallel$_.test" }

        $results = Invoke-Parallel $names

        $results.Count | Should -Be 8
        foreach ($r in $results) {
            $r.Errors | Should -BeNullOrEmpty -Because "$($r.Name): $($r.Errors | Out-String)"
            $r.Certificate.Names | Should -Be @($r.Name)
            $r.Certificate.Key | Should -Not -BeNullOrEmpty
        }
        ($results.Certificate.Thumbprint | Sort-Object -Unique).Count | Should -Be 8
        $connection.RequestCount | Should -BeGreaterThan $before -Because 'every pipeline went through the one shared connection'
        [Acme.Protocol.Challenges.Http01.Http01PortLease]::ActiveCount | Should -Be 0
        Test-TcpPortFree $pebble.HttpPort | Should -BeTrue
    }

    It 'issues for the same name from 4 pipelines at once (answers they may share stay until the last is done)' {
        $results = Invoke-Parallel (@('shared-name.test') * 4)
        foreach ($r in $results) {
            $r.Errors | Should -BeNullOrEmpty -Because ($r.Errors | Out-String)
            $r.Certificate.Names | Should -Be @('shared-name.test')
        }
        [Acme.Protocol.Challenges.Http01.Http01PortLease]::ActiveCount | Should -Be 0
        Test-TcpPortFree $pebble.HttpPort | Should -BeTrue
    }
}
