#Requires -Version 7.2
# Start-AcmeRenewalWorker against a real Pebble, with real listeners and state folders: a pass issues
# what -Certificate names and nothing on the next pass; -IssuedBefore replaces each certificate once,
# also with two workers on one folder at the same time; a failure is a Failed result and an error
# record, then backs off; a long-running worker makes pass after pass and stops on Ctrl+C (PowerShell.Stop);
# -WhatIf orders nothing; bad input is refused before any request; no passphrase in any stream.
# The fleet (three workers on PostgreSQL, one killed) is tests/Pester/Fleet.Tests.ps1 (Stress).
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'ScaleOutHelpers.psm1') -Force
    . (Join-Path $PSScriptRoot 'TestStreams.ps1')
    $script:pebble = Start-TestPebble -AuthzReusePercent 0
    $script:ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath }

    function Get-PebbleOrderCount {
        $pebble.Processes[-1].Log.Flush()
        @(Select-String -LiteralPath $pebble.PebbleLog -Pattern 'Added order').Count
    }

    function New-WorkerState([string] $Name) {
        $path = Join-Path $TestDrive $Name
        $null = New-AcmeAccount @ca -StatePath $path -AcceptTermsOfService
        $path
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'Start-AcmeRenewalWorker -Once' {
    BeforeAll {
        $script:sp = New-WorkerState 'once'
        $script:worker = @{ StatePath = $sp; HttpPort = $pebble.HttpPort; Once = $true; TimeoutSec = 60 } + $ca
    }

    It 'issues each -Certificate the state lacks, each once, and exports it' {
        $before = Get-PebbleOrderCount
        $results = @(Start-AcmeRenewalWorker @worker -Certificate 'w1.test,www.w1.test', 'w2.test' -ExportPath (Join-Path $TestDrive 'out'))
        $results.Count | Should -Be 2
        @($results.Action | Sort-Object -Unique) | Should -Be @('Issued')
        @($results.Reason | Sort-Object -Unique) | Should -Be @('New')
        $results[0] | Should -BeOfType ([Acme.Protocol.Renewal.AcmeRenewalResult])
        ($results | Where-Object Name -EQ 'w1.test').Certificate.Names | Sort-Object | Should -Be @('w1.test', 'www.w1.test')
        (Get-PebbleOrderCount) - $before | Should -Be 2
        $saved = @(Get-AcmeCertificate -StatePath $sp)
        @($saved.Name | Sort-Object) | Should -Be @('w1.test', 'w2.test')
        foreach ($r in $results) {
            $pem = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem((Get-Content -Raw (Join-Path $TestDrive "out/$($r.Name)/cert.pem")))
            $pem.Thumbprint | Should -Be $r.Thumbprint
            ($saved | Where-Object Name -EQ $r.Name).Thumbprint | Should -Be $r.Thumbprint
        }
    }

    It 'orders nothing on the next pass, and says why with -IncludeNotDue' {
        $before = Get-PebbleOrderCount
        @(Start-AcmeRenewalWorker @worker -Certificate 'w1.test,www.w1.test', 'w2.test') | Should -BeNullOrEmpty
        $notDue = @(Start-AcmeRenewalWorker @worker -IncludeNotDue)
        $notDue.Count | Should -Be 2
        @($notDue.Action | Sort-Object -Unique) | Should -Be @('NotDue')
        @($notDue.Reason | Sort-Object -Unique) | Should -Be @('NotDue')
        foreach ($n in $notDue) { $n.RenewAt | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddDays(30)) }
        (Get-PebbleOrderCount) | Should -Be $before
    }

    It 'replaces every certificate issued before -IssuedBefore, once: a second pass with the same moment orders nothing' {
        $old = @{}; Get-AcmeCertificate -StatePath $sp | ForEach-Object { $old[$_.Name] = $_.Thumbprint }
        Start-Sleep -Milliseconds 1100   # a whole second after the last NotBefore
        $cutoff = [DateTimeOffset]::UtcNow
        $before = Get-PebbleOrderCount
        $renewed = @(Start-AcmeRenewalWorker @worker -IssuedBefore $cutoff)
        $renewed.Count | Should -Be 2
        @($renewed.Action | Sort-Object -Unique) | Should -Be @('Renewed')
        @($renewed.Reason | Sort-Object -Unique) | Should -Be @('IssuedBefore')
        foreach ($r in $renewed) { $r.Thumbprint | Should -Not -Be $old[$r.Name] }
        (Get-PebbleOrderCount) - $before | Should -Be 2
        @(Start-AcmeRenewalWorker @worker -IssuedBefore $cutoff) | Should -BeNullOrEmpty
        (Get-PebbleOrderCount) - $before | Should -Be 2
    }

    It 'looks after only the certificates -Name selects' {
        $cutoff = [DateTimeOffset]::UtcNow.AddSeconds(2)
        Start-Sleep -Milliseconds 2100
        $renewed = @(Start-AcmeRenewalWorker @worker -Name 'w2*' -IssuedBefore $cutoff)
        @($renewed.Name) | Should -Be @('w2.test')
    }

    It '-WhatIf says what it would order and orders nothing' {
        $before = Get-PebbleOrderCount
        $results = @(Start-AcmeRenewalWorker @worker -Certificate 'whatif.w.test' -WhatIf)
        $results.Count | Should -Be 1 -Because 'only the missing certificate would be ordered'
        $results[0].Name | Should -Be 'whatif.w.test'
        $results[0].Reason | Should -Be 'WhatIf'
        $results[0].Action | Should -Be 'NotDue'
        (Get-PebbleOrderCount) | Should -Be $before
        Get-AcmeCertificate -StatePath $sp -Name 'whatif.w.test' -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'Two workers on one state folder at once' {
    It 'renews each certificate once between them (-LockStore on a shared folder)' {
        $sp = New-WorkerState 'pair'
        $names = 1..6 | ForEach-Object { "p$_.pair.test" }
        $null = Start-AcmeRenewalWorker -StatePath $sp @ca -HttpPort $pebble.HttpPort -Once -Certificate $names
        Start-Sleep -Milliseconds 1100
        $cutoff = [DateTimeOffset]::UtcNow
        $before = Get-PebbleOrderCount
        $locks = Join-Path $TestDrive 'pair-locks'
        $null = New-Item -ItemType Directory -Path $locks -Force
        # Two processes; each answers http-01 on its own listener port, so both answer through the
        # challenge store Pebble's port is served from: a responder on the shared folder store.
        $store = Join-Path $TestDrive 'pair-answers'
        $null = New-Item -ItemType Directory -Path $store -Force
        $responder = Start-TestResponder -Store $store -Port $pebble.HttpPort -LogPath (Join-Path $TestDrive 'pair-responder.log')
        try {
            Wait-TestResponder $responder
            $script = {
                param($StatePath, $Store, $Locks, $Server, $Root, $Cutoff)
                $ErrorActionPreference = 'Stop'
                Import-Module $env:ACME_TEST_MODULE
                Start-AcmeRenewalWorker -StatePath $StatePath -Store $Store -LockStore $Locks -Server $Server -TrustedRootCertificate $Root -Once `
                    -IssuedBefore ([DateTimeOffset]::Parse($Cutoff, [Globalization.CultureInfo]::InvariantCulture)) -TimeoutSec 60 |
                    ForEach-Object { "$($_.Name) $($_.Action) $($_.Reason)" }
            }.ToString()
            $arguments = "& { $script } '$sp' '$store' '$locks' '$($pebble.Directory)' '$($pebble.ApiRootPath)' '$($cutoff.ToString('o'))'"
            $children = 1..2 | ForEach-Object { Start-TestChild $arguments @{} }
            $done = $children | ForEach-Object { Wait-TestChild $_ -TimeoutSec 120 }
        } finally {
            Stop-TestProcess $responder.Process
        }
        foreach ($d in $done) { $d.ExitCode | Should -Be 0 -Because $d.Err }
        $lines = @($done.Out -split "`n" | ForEach-Object Trim | Where-Object { $_ })
        $renewedLines = @($lines | Where-Object { $_ -like '* Renewed IssuedBefore' })
        $renewedLines.Count | Should -Be 6 -Because "each name was renewed by one of the two: $($lines -join '; ')"
        @($renewedLines | ForEach-Object { ($_ -split ' ')[0] } | Sort-Object -Unique).Count | Should -Be 6
        (Get-PebbleOrderCount) - $before | Should -Be 6 -Because 'no name was ordered twice'
        foreach ($n in $names) {
            $versions = @(Get-ChildItem -Directory -Path (Join-Path $sp "*/certificates/$n/*") | Where-Object Name -Match '^[0-9A-F]{40}$')
            $versions.Count | Should -Be 2 -Because "$n has its first version and one renewal"
        }
    }
}

Describe 'A failed certificate' {
    It 'is a Failed result with the error id and an error record, the pass goes on, and the next pass backs off' {
        $sp = New-WorkerState 'fail'
        $deaf = Get-FreeTcpPort -Except $pebble.HttpPort
        $null = Start-AcmeRenewalWorker -StatePath $sp @ca -HttpPort $pebble.HttpPort -Once -Certificate 'ok.fail.test', 'deaf.fail.test'
        # Pebble reuses a valid authorization now and then even with reuse at 0: these renewals must be validated.
        Disable-SavedAuthorization -StatePath $sp -Name 'ok.fail.test', 'deaf.fail.test' | Should -Be 2
        Start-Sleep -Milliseconds 1100
        $cutoff = [DateTimeOffset]::UtcNow
        # Pebble validates on its own http port; with the listener elsewhere nothing answers there.
        $errors = $null
        $results = @(Start-AcmeRenewalWorker -StatePath $sp @ca -HttpPort $deaf -Once -IssuedBefore $cutoff -TimeoutSec 30 -ErrorVariable errors -ErrorAction SilentlyContinue)
        $results.Count | Should -Be 2
        @($results.Action | Sort-Object -Unique) | Should -Be @('Failed')
        @($results.ErrorId | Sort-Object -Unique) | Should -Be @('AcmeAuthorizationFailed')
        $results[0].Error | Should -Match 'fail\.test'
        @($errors).Count | Should -Be 2
        @($errors)[0].FullyQualifiedErrorId | Should -Match '^AcmeAuthorizationFailed'
        $before = Get-PebbleOrderCount
        $check = @(Start-AcmeRenewalWorker -StatePath $sp @ca -HttpPort $pebble.HttpPort -Once -IncludeNotDue -IssuedBefore $cutoff)
        @($check.Reason | Sort-Object -Unique) | Should -Be @('Backoff') -Because 'the failed renewal waits an hour before the next try, -IssuedBefore or not'
        @($check.Action | Sort-Object -Unique) | Should -Be @('NotDue')
        $check[0].Error | Should -Match 'fail\.test' -Because 'the last error is still shown'
        foreach ($c in $check) { $c.RenewAt | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddMinutes(50)) -Because 'RenewAt is the next try' }
        (Get-PebbleOrderCount) | Should -Be $before -Because 'nothing was asked of the CA'
    }
}

Describe 'A long-running worker' {
    It 'makes pass after pass, and stops at once on Ctrl+C (PowerShell.Stop)' {
        $sp = New-WorkerState 'long'
        $ps = [PowerShell]::Create()
        $null = $ps.AddScript({
                param($Module, $StatePath, $Server, $Root, $Port)
                Import-Module $Module
                Start-AcmeRenewalWorker -StatePath $StatePath -Server $Server -TrustedRootCertificate $Root -HttpPort $Port -Interval 00:00:02 `
                    -Certificate 'long.test' -IncludeNotDue
            }).AddArgument($env:ACME_TEST_MODULE).AddArgument($sp).AddArgument($pebble.Directory).AddArgument($pebble.ApiRootPath).AddArgument($pebble.HttpPort)
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $none = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $running = $ps.BeginInvoke($none, $output)
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ($output.Count -lt 3 -and [DateTime]::UtcNow -lt $deadline -and -not $running.IsCompleted) { Start-Sleep -Milliseconds 100 }
        # A PSDataCollection still open blocks whoever enumerates it: read by index, or ReadAll.
        foreach ($e in $ps.Streams.Error.ReadAll()) { Write-Host "worker error: $e" }
        $output.Count | Should -BeGreaterOrEqual 3 -Because 'the first pass issued, and two later ones found it not due'
        $output[0].Action | Should -Be 'Issued'
        $output[0].Pass | Should -Be 1
        $output[1].Action | Should -Be 'NotDue'
        $output[2].Pass | Should -BeGreaterThan $output[1].Pass
        ($output[2].Time - $output[1].Time).TotalSeconds | Should -BeGreaterThan 1.5 -Because 'passes start -Interval apart'
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $watch.Stop()
        $running.IsCompleted | Should -BeTrue
        $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 5 -Because 'Ctrl+C ends the wait between passes at once'
        $ps.Dispose()
    }
}

Describe 'Bad input' {
    It 'refuses <What> before any request, with <Id>' -ForEach @(
        @{ What = 'a -Certificate that is not a DNS name'; Id = 'AcmeInvalidIdentifier'; Extra = @{ Certificate = 'bad..name' } }
        @{ What = 'an empty -Certificate entry'; Id = 'AcmeNoIdentifier'; Extra = @{ Certificate = ' , ' } }
        @{ What = 'a -DnsServer that is not a host'; Id = 'AcmeInvalidDnsServer'; Extra = @{ DnsServer = 'a:b:c' } }
        @{ What = 'a bad -LockStore'; Id = 'AcmeInvalidStore'; Extra = @{ LockStore = 'redis://' } }
        @{ What = 'an -Interval of ten days'; Id = 'AcmeInvalidInterval'; Extra = @{ Interval = [TimeSpan]::FromDays(10) } }
        @{ What = 'an -Interval of zero'; Id = 'AcmeInvalidInterval'; Extra = @{ Interval = [TimeSpan]::Zero } }
    ) {
        $sp = Join-Path $TestDrive 'bad'
        $before = Get-PebbleOrderCount
        $failure = Get-Failure { Start-AcmeRenewalWorker -StatePath $sp @ca -Once @Extra }
        $failure | Should -Not -BeNullOrEmpty
        $failure.FullyQualifiedErrorId | Should -Match "^$Id"
        (Get-PebbleOrderCount) | Should -Be $before
    }
}

Describe 'Secrets' {
    It 'writes the key passphrase to no stream' {
        $passphrase = 'worker-pass-' + [guid]::NewGuid().ToString('N')
        $secure = ConvertTo-SecureString $passphrase -AsPlainText -Force
        $sp = Join-Path $TestDrive 'secret'
        $null = New-AcmeAccount @ca -StatePath $sp -AcceptTermsOfService -KeyPassphrase $secure
        $text = Get-AllStreams { Start-AcmeRenewalWorker -StatePath $sp -KeyPassphrase $secure @ca -HttpPort $pebble.HttpPort -Once -Certificate 'secret.w.test' -IncludeNotDue -Verbose -Debug -WarningAction Continue }
        $text | Should -Match 'secret\.w\.test'
        $text | Should -Not -Match ([regex]::Escape($passphrase))
        Get-ChildItem -Recurse -File $sp | ForEach-Object { Get-Content -Raw $_.FullName } | Should -Not -Match ([regex]::Escape($passphrase))
    }
}
