<#
    Benchmark worker: many certificates with several in flight in one session, all sharing one
    AcmeAccount (and so one connection, nonce pool and http-01 listener). A runspace pool with the
    module imported runs them; the pool is opened and every runspace has issued once before the clock
    starts, as a long-running bulk job would be. Prints one JSON line.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath, [Parameter(Mandatory)][string] $Directory,
    [Parameter(Mandatory)][string] $TrustedRoot, [Parameter(Mandatory)][int] $HttpPort,
    [int] $Count = 100, [int] $InFlight = 8
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$account = New-AcmeAccount -Server $Directory -TrustedRootCertificate $TrustedRoot -AcceptTermsOfService

$iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2()
$iss.ImportPSModule($ModulePath)
$pool = [System.Management.Automation.Runspaces.RunspaceFactory]::CreateRunspacePool(1, $InFlight, $iss, $Host)
$pool.Open()
$issue = {
    param($Account, $Name, $Port)
    $c = $Account | New-AcmeOrder -DnsName $Name | Start-AcmeHttpChallenge -Port $Port | Complete-AcmeOrder
    $c.Names -contains $Name
}

function Start-Certificate([string] $Name) {
    $ps = [PowerShell]::Create()
    $ps.RunspacePool = $pool
    $null = $ps.AddScript($issue).AddArgument($account).AddArgument($Name).AddArgument($HttpPort)
    [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke() }
}

function Complete-Certificate($Job) {
    try { [bool]($Job.PowerShell.EndInvoke($Job.Handle) | Select-Object -Last 1) } catch { $false } finally { $Job.PowerShell.Dispose() }
}

# Warm-up: every runspace imports the module and issues once; not timed.
$warm = foreach ($i in 1..$InFlight) { Start-Certificate "bulk-warm-$i.bench.test" }
$null = foreach ($j in $warm) { Complete-Certificate $j }

$process = [System.Diagnostics.Process]::GetCurrentProcess()
[GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
$managedBefore = [GC]::GetTotalMemory($true)
$process.Refresh()
$baseline = $process.WorkingSet64

$watch = [System.Diagnostics.Stopwatch]::StartNew()
$jobs = foreach ($i in 1..$Count) { Start-Certificate "bulk-$i.bench.test" }
$succeeded = 0
$workingSet = [System.Collections.Generic.List[long]]::new()
foreach ($j in $jobs) {
    if (Complete-Certificate $j) { $succeeded++ }
    $process.Refresh()
    $workingSet.Add($process.WorkingSet64)
}
$elapsed = $watch.Elapsed.TotalSeconds
$pool.Close()
[GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
$managedAfter = [GC]::GetTotalMemory($true)
$process.Refresh()
[pscustomobject]@{
    Count            = $Count
    InFlight         = $InFlight
    Succeeded        = $succeeded
    Seconds          = $elapsed
    PeakWorkingSetMB = [Math]::Round($process.PeakWorkingSet64 / 1MB, 1)
    BaselineMB       = [Math]::Round($baseline / 1MB, 1)
    First20MB        = [Math]::Round(($workingSet | Select-Object -First 20 | Measure-Object -Average).Average / 1MB, 1)
    Last20MB         = [Math]::Round(($workingSet | Select-Object -Last 20 | Measure-Object -Average).Average / 1MB, 1)
    ManagedBeforeMB  = [Math]::Round($managedBefore / 1MB, 1)
    ManagedAfterMB   = [Math]::Round($managedAfter / 1MB, 1)
} | ConvertTo-Json -Compress
