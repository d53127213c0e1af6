#Requires -Version 7.2
<#
    A fleet on one database (issue 18), all real parts: a PostgreSQL cluster (PostgresServer.psm1) holding
    the state, the challenge answers and the leases; Pebble validating http-01 on a port where nginx
    round-robins to three Start-AcmeChallengeResponder processes reading -Store postgres://; three host
    processes sharing the work, each a pass of Start-AcmeRenewalWorker; a reader process LISTENing on
    acme_certificate as a proxy would. 60 certificates are issued (-Certificate), then all renewed
    (-IssuedBefore, a moment after the last was issued) with one host killed (SIGKILL) while it
    holds a lease. Every name is ordered at most once per pass (Pebble's log, plus the killed host's
    leases, whose orders are resumed), the killed host's names are finished by the others once the
    database frees its lease (its session is gone), the database passes an integrity check, and the
    reader sees each new certificate within a second of its NOTIFY. Tagged Stress (build.ps1 Stress).
#>
BeforeDiscovery {
    $external = [bool]$env:ACME_TEST_DIRECTORY
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'PostgresServer.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'ScaleOutHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'FleetHelpers.psm1') -Force
    $script:clock = [System.Diagnostics.Stopwatch]::StartNew()
    $script:count = [int]($env:ACME_TEST_FLEET_COUNT ?? 60)
    $script:names = 1..$count | ForEach-Object { 'host{0:d2}.fleet.test' -f $_ }
    $script:fleet = Start-TestFleet -Folder (Join-Path $TestDrive 'fleet') -Names $names
    Write-Host ("Fleet started in {0:n1} s (PostgreSQL, Pebble, 3 responders behind nginx, the reader)" -f $clock.Elapsed.TotalSeconds)
}

AfterAll {
    if ($script:fleet) { Stop-TestFleet $fleet }
}

Describe 'A fleet of three hosts on one PostgreSQL database' -Tag Stress -Skip:$external {
    It 'issues 60 certificates with three hosts, each name ordered once' {
        $mark = Get-PebbleLogMark $fleet
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $hosts = 0..2 | ForEach-Object { Start-FleetHost $fleet -Pass Issue -Index $_ }
        $results = $hosts | ForEach-Object { Wait-FleetHost $_ -TimeoutSec 150 }
        $watch.Stop()
        Write-Host ("Issue pass: {0} certificates in {1:n1} s ({2:n2}/s); per host: {3}" -f $count, $watch.Elapsed.TotalSeconds,
            ($count / $watch.Elapsed.TotalSeconds), (($results | ForEach-Object { $_.Done.Count }) -join ', '))
        foreach ($r in $results) { $r.ExitCode | Should -Be 0 -Because $r.Err }
        @($results.Done | Sort-Object -Unique).Count | Should -Be $count -Because 'between them the hosts issued every name'
        @($results | Where-Object { $_.Done.Count -gt 0 }).Count | Should -BeGreaterOrEqual 2 -Because 'the work was shared'

        $orders = Get-PebbleOrders $fleet -Since $mark
        $orders.Issued | Should -Be $count -Because 'each name was finalized once'
        $perName = Get-FleetOrdersPerName $fleet -Orders $orders
        foreach ($n in $names) { $perName[$n] | Should -Be 1 -Because "$n was ordered once in the issue pass" }
        $orders.Placed | Should -Be $count -Because 'no order was placed that did not end in a certificate'
        $script:issued = Get-FleetCurrent $fleet
        $issued.Count | Should -Be $count
        Assert-FleetIntegrity $fleet -Names $names
        Assert-FleetNotified $fleet -Current $issued
    }

    It 'renews all 60 (issued before a moment) with one host killed holding a lease; its names are finished by the others' {
        $mark = Get-PebbleLogMark $fleet
        $before = Get-FleetCurrent $fleet
        # Every certificate issued so far is replaced: the cutoff is the second after the last one was
        # saved (SavedAt has whole seconds), and the pass starts once it has passed.
        $last = ($before.Values | ForEach-Object { $_.SavedAt.UtcDateTime } | Measure-Object -Maximum).Maximum
        $cutoff = [DateTimeOffset]::new($last.AddTicks(-($last.Ticks % [TimeSpan]::TicksPerSecond)).AddSeconds(1), [TimeSpan]::Zero)
        while ([DateTimeOffset]::UtcNow -le $cutoff) { Start-Sleep -Milliseconds 100 }
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $hosts = 0..2 | ForEach-Object { Start-FleetHost $fleet -Pass Renew -Index $_ -IssuedBefore $cutoff }
        # Host 0 dies (SIGKILL: no release, no cleanup) once it holds a lease and has renewed at least one name.
        $victim = $hosts[0]
        $held = Wait-FleetLease $fleet -Worker $victim -AfterDone 1 -TimeoutSec 120
        $killedAt = $watch.Elapsed
        & kill -9 $victim.Process.Id
        $null = $victim.Process.WaitForExit(10000)
        $freed = Wait-FleetLeaseFree $fleet -Names $held -TimeoutSec 60
        Write-Host ("Killed host 0 at {0:n1} s holding {1}; the database freed its lease after {2:n2} s" -f $killedAt.TotalSeconds, ($held -join ', '), $freed.TotalSeconds)
        $results = $hosts | Select-Object -Skip 1 | ForEach-Object { Wait-FleetHost $_ -TimeoutSec 180 }
        $watch.Stop()
        Write-Host ("Renewal pass: {0} certificates in {1:n1} s ({2:n2}/s); per surviving host: {3}" -f $count, $watch.Elapsed.TotalSeconds,
            ($count / $watch.Elapsed.TotalSeconds), (($results | ForEach-Object { $_.Done.Count }) -join ', '))
        foreach ($r in $results) { Write-Host ("  host {0}: done {1}" -f $r.Index, ($r.Done -join ' ')) }
        foreach ($r in $results) { $r.ExitCode | Should -Be 0 -Because $r.Err }
        foreach ($n in $held) { @($results.Done) | Should -Contain $n -Because "a surviving host finished $n, leased by the killed one" }

        $after = Get-FleetCurrent $fleet
        foreach ($n in $names) { $after[$n].Thumbprint | Should -Not -Be $before[$n].Thumbprint -Because "$n was renewed" }
        $orders = Get-PebbleOrders $fleet -Since $mark
        $orders.Issued | Should -Be $count -Because 'each name was finalized once in the renewal pass'
        $perName = Get-FleetOrdersPerName $fleet -Orders $orders
        foreach ($n in $names) {
            $allowed = if ($n -in $held) { 2 } else { 1 }
            $perName[$n] | Should -BeLessOrEqual $allowed -Because "$n is ordered at most once per pass (plus the killed host's order)"
            $perName[$n] | Should -BeGreaterOrEqual 1
        }
        $orders.Placed | Should -BeLessOrEqual ($count + $held.Count)
        Assert-FleetIntegrity $fleet -Names $names -LeftoverAnswers $held.Count
        Assert-FleetNotified $fleet -Current $after
        Write-Host ("Fleet test so far: {0:n1} s" -f $clock.Elapsed.TotalSeconds)
    }
}
