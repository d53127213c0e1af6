<#
    Benchmark worker: many certificates with several in flight in one session, all sharing one
    AcmeAccount (and so one connection and nonce pool). Prints one JSON line.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath, [Parameter(Mandatory)][string] $Directory,
    [Parameter(Mandatory)][string] $TrustedRoot, [Parameter(Mandatory)][int] $HttpPort,
    [int] $Count = 100, [int] $InFlight = 8
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$account = New-AcmeAccount -Server $Directory -TrustedRootCertificate $TrustedRoot -AcceptTermsOfService
$null = $account | New-AcmeOrder -DnsName 'bulk-0.bench.test' | Start-AcmeHttpChallenge -Port $HttpPort | Complete-AcmeOrder
$process = [System.Diagnostics.Process]::GetCurrentProcess()
[GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
$process.Refresh()
$baseline = $process.WorkingSet64
$samples = [System.Collections.Concurrent.ConcurrentQueue[object]]::new()
$done = [ref]0
$watch = [System.Diagnostics.Stopwatch]::StartNew()
$results = 1..$Count | ForEach-Object -ThrottleLimit $InFlight -Parallel {
    Import-Module $using:ModulePath
    $c = $using:account | New-AcmeOrder -DnsName "bulk-$_.bench.test" | Start-AcmeHttpChallenge -Port $using:HttpPort | Complete-AcmeOrder
    $p = [System.Diagnostics.Process]::GetCurrentProcess()
    ($using:samples).Enqueue([pscustomobject]@{ Index = [System.Threading.Interlocked]::Increment(($using:done)); Managed = [GC]::GetTotalMemory($false); WorkingSet = $p.WorkingSet64 })
    [bool]$c
}
$elapsed = $watch.Elapsed.TotalSeconds
$process.Refresh()
$ordered = @($samples.ToArray() | Sort-Object Index)
$first = @($ordered | Select-Object -First 20)
$last = @($ordered | Select-Object -Last 20)
[pscustomobject]@{
    Count            = $Count
    InFlight         = $InFlight
    Succeeded        = @($results | Where-Object { $_ }).Count
    Seconds          = $elapsed
    PeakWorkingSetMB = [Math]::Round($process.PeakWorkingSet64 / 1MB, 1)
    BaselineMB       = [Math]::Round($baseline / 1MB, 1)
    First20MB        = [Math]::Round(($first | Measure-Object WorkingSet -Average).Average / 1MB, 1)
    Last20MB         = [Math]::Round(($last | Measure-Object WorkingSet -Average).Average / 1MB, 1)
    First20ManagedMB = [Math]::Round(($first | Measure-Object Managed -Average).Average / 1MB, 1)
    Last20ManagedMB  = [Math]::Round(($last | Measure-Object Managed -Average).Average / 1MB, 1)
} | ConvertTo-Json -Compress
