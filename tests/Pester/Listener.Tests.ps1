#Requires -Version 7.2
<#
    The http-01 and tls-alpn-01 listeners under hostile conditions, with real validations by Pebble: a flood of junk
    connections does not stop a validation, and the port is free again after success, after failure
    and after Ctrl+C. A port another process holds is waited for (two renewals at once on Pebble's
    port both succeed), and one a foreign program holds ends in AcmeListenerPortInUse after the wait.
    (What it answers to hostile requests is tested on raw sockets in xunit,
    tests/Acme.Protocol.Tests/Http01ListenerTests.cs.)
#>
BeforeDiscovery {
    # These need a Pebble this harness configures (validation on loopback addresses through pebble-challtestsrv); an external one is skipped.
    $script:external = [bool]$env:ACME_TEST_DIRECTORY
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    Import-TestKit
    $ErrorActionPreference = 'Continue'
    $script:pebble = Start-TestPebble
    $script:account = New-TestAccount $pebble

    # Points a name at another loopback address in pebble-challtestsrv's DNS, so Pebble validates it there.
    function Set-TestAddress([string] $Name, [string] $Address) {
        $body = @{ host = $Name; addresses = @($Address) } | ConvertTo-Json
        Invoke-RestMethod -Method Post -Uri "$($pebble.ChallSrvUrl)/add-a" -Body $body | Out-Null
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'The <Kind> listener' -Skip:($external -or -not $IsLinux) -ForEach @(
    @{ Kind = 'http-01'; Cmdlet = 'Start-AcmeHttpChallenge'; PortName = 'HttpPort'; ListenerType = 'Http01.Http01PortLease' }
    @{ Kind = 'tls-alpn-01'; Cmdlet = 'Start-AcmeTlsAlpnChallenge'; PortName = 'TlsPort'; ListenerType = 'TlsAlpn01.TlsAlpnPortLease' }
) {
    BeforeAll {
        $script:port = $pebble.$PortName
        $script:listener = "Acme.Protocol.Challenges.$ListenerType" -as [type]
        $script:prefix = $Kind -replace '[^a-z]', ''
    }

    It 'validates with 500 junk connections held open against it at once' {
        # Hold the listener open (as another pipeline would) and flood it before the CA connects.
        $hold = $listener::Acquire($port, $null, $null)
        $flood = [Acme.TestKit.JunkFlood]::Open($port, 500)
        try {
            $flood.Opened | Should -Be 500
            $run = Invoke-Captured { $account | New-AcmeOrder -DnsName "$prefix-flood.test" | & $Cmdlet -Port $port | Complete-AcmeOrder }
            $run.Errors | Should -BeNullOrEmpty
            $run.Output.Names | Should -Be @("$prefix-flood.test")
        } finally {
            $flood.Dispose()
            $hold.Dispose()
        }
        $listener::ActiveCount | Should -Be 0
        Test-TcpPortFree $port | Should -BeTrue
    }

    It 'frees the port after a validation succeeds' {
        $order = $account | New-AcmeOrder -DnsName "$prefix-freed-after-success.test" | & $Cmdlet -Port $port
        $order.Status | Should -Be 'Ready'
        $listener::ActiveCount | Should -Be 0
        Test-TcpPortFree $port | Should -BeTrue
    }

    It 'frees the port after a validation fails' {
        # Pebble looks for the answer on 127.0.0.2, where nothing listens; the listener is on 127.0.0.1 only.
        Set-TestAddress "$prefix-freed-after-failure.test" '127.0.0.2'
        $run = Invoke-Captured { $account | New-AcmeOrder -DnsName "$prefix-freed-after-failure.test" | & $Cmdlet -Port $port -ListenAddress 127.0.0.1 }
        $run.Errors.Count | Should -Be 1
        $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'AcmeAuthorizationFailed,*'
        $listener::ActiveCount | Should -Be 0
        Test-TcpPortFree $port | Should -BeTrue
    }

    It 'frees the port when the wait for the CA is stopped (Ctrl+C)' {
        # Pebble validates on 127.0.0.3, where a tarpit accepts and never answers: the cmdlet waits.
        Set-TestAddress "$prefix-freed-after-stop.test" '127.0.0.3'
        $tarpit = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Parse('127.0.0.3'), $port)
        $tarpit.Start()
        $order = $account | New-AcmeOrder -DnsName "$prefix-freed-after-stop.test"
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript('param($module, $order, $port, $cmdlet) Import-Module $module; $order | & $cmdlet -Port $port -ListenAddress 127.0.0.1 -TimeoutSec 120')
            $null = $ps.AddArgument($env:ACME_TEST_MODULE).AddArgument($order).AddArgument($port).AddArgument($Cmdlet)
            $async = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            while (-not $tarpit.Pending() -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $tarpit.Pending() | Should -BeTrue -Because 'Pebble is validating, so the cmdlet is waiting'
            $listener::ActiveCount | Should -Be 1 -Because 'the listener is up while the cmdlet waits'

            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 10
            $async.IsCompleted | Should -BeTrue
        } finally {
            $ps.Dispose()
            $tarpit.Stop()
        }
        $listener::ActiveCount | Should -Be 0
        Test-TcpPortFree $port | Should -BeTrue
    }
}

Describe 'A port another process holds' -Skip:$external {
    BeforeAll {
        $script:httpPort = $pebble.HttpPort
        $script:ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath; AcceptTermsOfService = $true }
        # A plain socket stands for a program that is not this module (nginx, nc -l) holding the port.
        function Start-ForeignListener([int] $Port) {
            $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::IPv6Any, $Port)
            $l.Server.DualMode = $true
            $l.Start()
            $l
        }
    }

    It 'two processes issuing at once on Pebble''s http-01 port both succeed: the second waits for the port' {
        $sp = Join-Path $TestDrive 'two-renewals'
        # The account exists first, as it does for scheduled renewals of one state folder.
        $null = New-AcmeCertificate -DnsName warmup.ports.test -StatePath $sp -HttpPort $httpPort @ca
        $held = Join-Path $TestDrive 'first-holds-the-port.signal'
        $go = Join-Path $TestDrive 'second-is-waiting.signal'
        $secondLog = Join-Path $TestDrive 'second.log'
        $renew = {
            $ErrorActionPreference = 'Stop'
            Import-Module Acme
            $lease = $null
            if ($env:T_HELD) {
                # The first renewal: its listener is up (a lease on it stands for a validation in progress)
                # until the second one is seen waiting; then it issues on that listener and frees the port.
                $lease = [Acme.Protocol.Challenges.Http01.Http01PortLease]::Acquire([int]$env:T_PORT, $null, $null)
                Set-Content -LiteralPath $env:T_HELD 'up'
                $deadline = [DateTime]::UtcNow.AddSeconds(90)
                while (-not (Test-Path -LiteralPath $env:T_GO) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            }
            try {
                New-AcmeCertificate -DnsName $env:T_NAME -Server $env:T_DIR -TrustedRootCertificate $env:T_ROOT -AcceptTermsOfService -HttpPort $env:T_PORT -Verbose 4>&1 |
                    ForEach-Object {
                        $line = if ($_ -is [System.Management.Automation.VerboseRecord]) { "VERBOSE: $($_.Message)" } else { "issued $($_.Names) $($_.Thumbprint)" }
                        if ($env:T_LOG) { Add-Content -LiteralPath $env:T_LOG -Value $line }
                        $line
                    }
            } finally {
                if ($lease) { $lease.Dispose() }
            }
        }.ToString()
        $common = @{ ACME_STATE_PATH = $sp; T_DIR = $pebble.Directory; T_ROOT = $pebble.ApiRootPath; T_PORT = $httpPort }

        $first = Start-TestChild $renew ($common + @{ T_NAME = 'first.ports.test'; T_HELD = $held; T_GO = $go })
        try {
            Wait-TestEndpoint -What 'the first process holding the port' -TimeoutSec 60 -Probe { (Test-Path $held) -or $first.Process.HasExited }
            $first.Process.HasExited | Should -BeFalse
            Test-TcpPortFree $httpPort | Should -BeFalse -Because 'the first process listens on the port'
            $second = Start-TestChild $renew ($common + @{ T_NAME = 'second.ports.test'; T_LOG = $secondLog })
            try {
                Wait-TestEndpoint -What 'the second process waiting for the port' -TimeoutSec 60 -Process $second.Process -Probe {
                    (Get-Content -LiteralPath $secondLog -ErrorAction Ignore) -match "Port $httpPort is in use"
                }
            } finally {
                Set-Content -LiteralPath $go 'go'
            }
            $secondEnded = Wait-TestChild $second
        } finally {
            Set-Content -LiteralPath $go 'go'
            $firstEnded = Wait-TestChild $first
        }

        $firstEnded.ExitCode | Should -Be 0 -Because $firstEnded.Err
        $firstEnded.Out | Should -Match 'issued first\.ports\.test [0-9A-F]{40}'
        $secondEnded.ExitCode | Should -Be 0 -Because $secondEnded.Err
        $secondEnded.Out | Should -Match "VERBOSE: Port $httpPort is in use, perhaps by another renewal on this machine; waiting up to 300 seconds"
        $secondEnded.Out | Should -Match "VERBOSE: Port $httpPort is free after waiting"
        $secondEnded.Out | Should -Match 'issued second\.ports\.test [0-9A-F]{40}'
        (Get-AcmeCertificate -StatePath $sp).Names | Sort-Object | Should -Be @('first.ports.test', 'second.ports.test', 'warmup.ports.test')
        Test-TcpPortFree $httpPort | Should -BeTrue
    }

    It 'a port a foreign program holds for the whole wait ends in AcmeListenerPortInUse naming the port and the wait, the CA not asked' {
        $foreign = Start-ForeignListener $httpPort
        try {
            $sp = Join-Path $TestDrive 'foreign'
            $run = Invoke-Captured { New-AcmeCertificate -DnsName foreign-held.ports.test -StatePath $sp -HttpPort $httpPort -PortWaitSec 2 @ca }
        } finally {
            $foreign.Stop()
        }
        $run.Output | Should -BeNullOrEmpty
        $run.Errors.Count | Should -Be 1
        $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'AcmeListenerPortInUse,*'
        $run.Errors[0].CategoryInfo.Category | Should -Be 'ResourceBusy'
        $run.Errors[0].Exception.Message | Should -BeLike "Port $httpPort was still in use after waiting 2 seconds for it. Port $httpPort is already in use*"
        $run.Errors[0].ErrorDetails.RecommendedAction | Should -BeLike '*-PortWaitSec*'
        $run.Seconds | Should -BeGreaterOrEqual 2
        $run.Seconds | Should -BeLessThan 20
        # The wait came before the CA was told the challenge is ready: the order is still pending.
        (Get-AcmeOrder -StatePath $sp -Name foreign-held.ports.test).Status | Should -Be 'Pending'
        [Acme.Protocol.Challenges.Http01.Http01PortLease]::ActiveCount | Should -Be 0
    }

    It 'with -WhatIf nothing waits for a held port' {
        $foreign = Start-ForeignListener $httpPort
        try {
            $run = Invoke-Captured { New-AcmeCertificate -DnsName whatif-held.ports.test -StatePath (Join-Path $TestDrive 'whatif') -HttpPort $httpPort -PortWaitSec 60 -WhatIf @ca }
        } finally {
            $foreign.Stop()
        }
        $run.Errors | Should -BeNullOrEmpty
        $run.Seconds | Should -BeLessThan 5
    }

    It 'Ctrl+C stops the wait for a held port at once, after showing progress' {
        $foreign = Start-ForeignListener $httpPort
        $order = $account | New-AcmeOrder -DnsName stopped-wait.ports.test
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript('param($module, $order, $port) Import-Module $module; $order | Start-AcmeHttpChallenge -Port $port -PortWaitSec 120 -Verbose')
            $null = $ps.AddArgument($env:ACME_TEST_MODULE).AddArgument($order).AddArgument($httpPort)
            $async = $ps.BeginInvoke()
            Wait-TestEndpoint -What 'the cmdlet waiting for the port' -TimeoutSec 30 -Probe { @($ps.Streams.Verbose.Message) -match "Port $httpPort is in use" }
            Wait-TestEndpoint -What 'the progress of the wait' -TimeoutSec 10 -Probe {
                @($ps.Streams.Progress.StatusDescription) -like "Waiting for port $httpPort, held by another process (* seconds left)"
            }

            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
            $async.IsCompleted | Should -BeTrue
        } finally {
            $ps.Dispose()
            $foreign.Stop()
        }
        [Acme.Protocol.Challenges.Http01.Http01PortLease]::ActiveCount | Should -Be 0
    }
}

Describe 'The tls-alpn-01 listener shared' -Skip:($external -or -not $IsLinux) {
    It 'issues from 4 pipelines at once on one port' {
        $tlsPort = $pebble.TlsPort
        $results = 1..4 | ForEach-Object -ThrottleLimit 4 -Parallel {
            Import-Module $using:env:ACME_TEST_MODULE
            $errors = $null
            $name = "alpn-parallel$_.test"
            $cert = $using:account | New-AcmeOrder -DnsName $name -ErrorVariable +errors -ErrorAction SilentlyContinue |
                Start-AcmeTlsAlpnChallenge -Port $using:tlsPort -ErrorVariable +errors -ErrorAction SilentlyContinue |
                Complete-AcmeOrder -ErrorVariable +errors -ErrorAction SilentlyContinue
            [pscustomobject]@{ Name = $name; Certificate = $cert; Errors = @($errors) }
        }
        $results.Count | Should -Be 4
        foreach ($r in $results) {
            $r.Errors | Should -BeNullOrEmpty -Because "$($r.Name): $($r.Errors | Out-String)"
            $r.Certificate.Names | Should -Be @($r.Name)
        }
        [Acme.Protocol.Challenges.TlsAlpn01.TlsAlpnPortLease]::ActiveCount | Should -Be 0
        Test-TcpPortFree $tlsPort | Should -BeTrue
    }
}
