#Requires -Version 7.2
<#
    The http-01 and tls-alpn-01 listeners under hostile conditions, with real validations by Pebble: a flood of junk
    connections does not stop a validation, and the port is free again after success, after failure
    and after Ctrl+C. (What it answers to hostile requests is tested on raw sockets in xunit,
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
    @{ Kind = 'http-01'; Cmdlet = 'Start-AcmeHttpChallenge'; PortName = 'HttpPort'; ListenerType = 'Http01Listener' }
    @{ Kind = 'tls-alpn-01'; Cmdlet = 'Start-AcmeTlsAlpnChallenge'; PortName = 'TlsPort'; ListenerType = 'TlsAlpnListener' }
) {
    BeforeAll {
        $script:port = $pebble.$PortName
        $script:listener = "Acme.Protocol.Flow.$ListenerType" -as [type]
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
        [Acme.Protocol.Flow.TlsAlpnListener]::ActiveCount | Should -Be 0
        Test-TcpPortFree $tlsPort | Should -BeTrue
    }
}
