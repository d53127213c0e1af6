<#
    Fleet throughput (issue 18): one PostgreSQL database holding state, answers and leases, Pebble
    validating through nginx to three responders on -Store postgres://; $Count certificates issued by one
    host process, then $Count other names by three host processes at once (tests/Pester/FleetHelpers.psm1:
    each host orders every name of the list it finds without a certificate, the lease deciding who
    orders which). Pebble sleeps a random 0..(ValidationSleepSec-1) s before each validation, as a real CA
    takes time: with instant validation the work is CPU-bound and two cores cap any ratio near 2.
    Writes one line of JSON.
#>
param([Parameter(Mandatory)][string] $ModulePath, [int] $Count = 30, [int] $ValidationSleepSec = 3)
$ErrorActionPreference = 'Stop'
$env:ACME_TEST_MODULE = $ModulePath
Import-Module $ModulePath
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/FleetHelpers.psm1') -Force
$folder = Join-Path ([IO.Path]::GetTempPath()) ('acme-bench-fleet-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
$one = 1..$Count | ForEach-Object { 'one{0:d3}.fleet.test' -f $_ }
$three = 1..$Count | ForEach-Object { 'three{0:d3}.fleet.test' -f $_ }
$fleet = Start-TestFleet -Folder $folder -Names $one -ValidationSleepSec $ValidationSleepSec -NoReader
try {
    function Measure-Hosts([int] $Hosts, [string[]] $Names) {
        Set-Content -LiteralPath $fleet.NamesFile -Value $Names
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $children = 0..($Hosts - 1) | ForEach-Object { Start-FleetHost $fleet -Pass Issue -Index $_ -Of $Hosts -TimeoutSec 600 }
        $done = $children | ForEach-Object { Wait-FleetHost $_ -TimeoutSec 620 }
        $seconds = $watch.Elapsed.TotalSeconds
        foreach ($d in $done) { if ($d.ExitCode -ne 0) { throw "A host failed: $($d.Err)" } }
        $issued = @($done.Done | Sort-Object -Unique).Count
        if ($issued -ne $Names.Count) { throw "$Hosts host(s) issued $issued of $($Names.Count)." }
        [pscustomobject]@{ Hosts = $Hosts; Seconds = [Math]::Round($seconds, 2); PerSecond = [Math]::Round($Names.Count / $seconds, 3); PerHost = @($done | ForEach-Object { $_.Done.Count }) }
    }
    $single = Measure-Hosts 1 $one
    $fleetRun = Measure-Hosts 3 $three
    $placed = (Get-PebbleOrders $fleet).Placed
    [ordered]@{ Count = $Count; ValidationSleepSec = $ValidationSleepSec; One = $single; Three = $fleetRun
        Ratio = [Math]::Round($fleetRun.PerSecond / $single.PerSecond, 2); OrdersPlaced = $placed } | ConvertTo-Json -Compress -Depth 4
} finally {
    Stop-TestFleet $fleet
    Remove-Item -LiteralPath $folder -Recurse -Force -ErrorAction Ignore
}
