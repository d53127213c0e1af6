<#
    Writes bench/RESULTS.md from a benchmark run's figures, then NOTES.md. Invoke-Bench.ps1 calls it; after NOTES.md
    changes, the same run's RESULTS.md is written again from its figures with
    `./bench/Write-Results.ps1 -Results (Get-Content -Raw bench/results.json | ConvertFrom-Json -AsHashtable) -Path bench/RESULTS.md -ModulePath output/Acme/<version>/Acme.psd1`
    (the run's own time stays in the first line).
#>
param([Parameter(Mandatory)] $Results, [Parameter(Mandatory)][string] $Path, [Parameter(Mandatory)][string] $ModulePath)

function Format-Seconds([double] $s) { '{0:0.000} s' -f $s }
function Format-Ratio([double] $a, [double] $b) { if ($b -gt 0) { '{0:0.00}x' -f ($a / $b) } else { 'n/a' } }
function Test-Target([bool] $ok) { if ($ok) { 'met' } else { '**not met**' } }
function Get-PackageVersion([string] $name) { (& dpkg-query -W -f '${Version}' $name 2>$null) ?? 'unknown' }

$r = $Results
$cpu = (Get-Content /proc/cpuinfo -ErrorAction Ignore | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*'
$memory = [Math]::Round(((Get-Content /proc/meminfo -ErrorAction Ignore | Select-Object -First 1) -replace '\D') / 1MB, 1)
$moduleVersion = (Import-PowerShellDataFile $ModulePath).ModuleVersion
# A partial run (Invoke-Bench.ps1 -Rows) leaves figures out; their rows are left out too.
function Test-Figure([string[]] $Name) { foreach ($n in $Name) { if (-not $r.Contains($n)) { return $false } }; $true }
$warmRate = if (Test-Figure WarmMedian) { 1 / $r.WarmMedian } else { 0 }
$bulkRate = if (Test-Figure Bulk) { $r.Bulk.Count / $r.Bulk.Seconds } else { 0 }
$uacme = if (Test-Figure UacmeMedian) { $r.UacmeMedian } else { 0 }

$lines = @(
    '# Benchmark results'
    ''
    "Written by ``dotnet pwsh ./build.ps1 Bench`` on $(if ($r.Contains('WrittenAt')) { $r.WrittenAt } else { (Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm') }) UTC from a real run of the committed code."
    'Every figure is a median over repeated runs unless it says otherwise; Pebble runs with `PEBBLE_VA_NOSLEEP=1` and, for the timing runs, `PEBBLE_WFE_NONCEREJECT=0`.'
    ''
    '## Machine and versions'
    ''
    "| | |"
    "| --- | --- |"
    "| CPU | $cpu, $([Environment]::ProcessorCount) cores |"
    "| memory | $memory GiB |"
    "| OS | $([System.Runtime.InteropServices.RuntimeInformation]::OSDescription) |"
    "| PowerShell | $($PSVersionTable.PSVersion) on $([System.Runtime.InteropServices.RuntimeInformation]::FrameworkDescription) |"
    "| Acme module | $moduleVersion |"
    "| Pebble | $(Get-PackageVersion pebble) (Debian) |"
    "| uacme | $(Get-PackageVersion uacme) (Debian) |"
    ''
    '## Figures'
    ''
    '| measure | result | target | | ratio to uacme |'
    '| --- | --- | --- | --- | --- |'
    if (Test-Figure WarmMedian) { "| warm: seconds per certificate, one session, certificates in a row | $(Format-Seconds $r.WarmMedian) | <= 0.30 s and <= 0.5x uacme | $(Test-Target ($r.WarmMedian -le 0.30 -and $r.WarmMedian -le 0.5 * $uacme)) | $(Format-Ratio $r.WarmMedian $uacme) |" }
    if (Test-Figure ColdMedian) { "| cold: a new pwsh process imports, makes an account, orders, answers, finalizes, exports | $(Format-Seconds $r.ColdMedian) | <= 1.8 s$(if (Test-Figure BarePwsh) { ' and <= bare pwsh + 0.5 s' }) | $(Test-Target ($r.ColdMedian -le 1.8 -and (-not (Test-Figure BarePwsh) -or $r.ColdMedian -le $r.BarePwsh + 0.5))) | $(Format-Ratio $r.ColdMedian $uacme) |" }
    if (Test-Figure BarePwsh) { "| bare ``pwsh -NoProfile -c exit`` (part of cold) | $(Format-Seconds $r.BarePwsh) | | | |" }
    if (Test-Figure ImportCost) { "| import cost: ``Import-Module Acme`` over bare pwsh | $(Format-Seconds $r.ImportCost) | <= 0.10 s$(if (Test-Figure PoshAcmeImportCost) { ' and <= 0.1x Posh-ACME''s' }) | $(Test-Target ($r.ImportCost -le 0.10 -and (-not (Test-Figure PoshAcmeImportCost) -or $r.ImportCost -le 0.1 * $r.PoshAcmeImportCost))) | |" }
    if (Test-Figure PoshAcmeImportCost) { "| Posh-ACME 4.32.0's import over bare pwsh (for the ratio above) | $(Format-Seconds $r.PoshAcmeImportCost) | | | |" }
    if (Test-Figure ColdWarmMedian) { "| fresh process, warm state folder: a new pwsh imports the module and runs New-AcmeCertificate (one name, http-01) with the saved account | $(Format-Seconds $r.ColdWarmMedian) | <= 2x uacme with EC keys | $(Test-Target ($uacme -gt 0 -and $r.ColdWarmMedian -le 2 * $uacme)) | $(Format-Ratio $r.ColdWarmMedian $uacme) |" }
    if (Test-Figure ColdWarmModuleCost) { "| module cost in a fresh process, warm state folder (fresh minus bare pwsh) | $(Format-Seconds $r.ColdWarmModuleCost) | <= 0.35 s | $(Test-Target ($r.ColdWarmModuleCost -le 0.35)) | |" }
    if (Test-Figure ColdWarmMedian, BareJob) { "| ... the same over a job that does nothing, started the same way (``pwsh -File`` of ``bench/bare.ps1``, coldwarm.ps1's parameters: $(Format-Seconds $r.BareJob), of which $(Format-Seconds ($r.BareJob - $r.BarePwsh)) over bare pwsh is PowerShell's -File path and parameter binding) | $(Format-Seconds ($r.ColdWarmMedian - $r.BareJob)) | | | |" }
    if (Test-Figure ColdWarmR2R, ColdWarmPortable) {
        $a = $r.ColdWarmPortable; $b = $r.ColdWarmR2R
        "| the same fresh process with the portable netstandard2.0 build (``ACME_PORTABLE=1``: the module before the ReadyToRun build, and what Windows PowerShell 5.1 loads), runs interleaved with the row above | $(Format-Seconds $a.Seconds) | | | $(Format-Ratio $a.Seconds $uacme) |"
        "| in that process, from before ``Import-Module`` to the certificate: JIT-compiled methods (``System.Runtime.JitInfo``, the runtime's methods-jitted-count counter), portable -> ReadyToRun | $('{0:0}' -f $a.JitMethods) -> $('{0:0}' -f $b.JitMethods) ($('{0:+0;-0}%' -f (100 * ($b.JitMethods - $a.JitMethods) / $a.JitMethods))) | fewer | $(Test-Target ($b.JitMethods -lt $a.JitMethods)) | |"
        "| ... time in the JIT (``JitInfo.GetCompilationTime``, all threads: the time-in-jit counter), portable -> ReadyToRun | $('{0:0}' -f $a.JitMs) ms -> $('{0:0}' -f $b.JitMs) ms | | | |"
        "| ... CPU time of the process, portable -> ReadyToRun | $('{0:0}' -f $a.CpuMs) ms -> $('{0:0}' -f $b.CpuMs) ms | | | |"
        "| ... wall time in the process, portable -> ReadyToRun | $('{0:0}' -f $a.InProcessMs) ms -> $('{0:0}' -f $b.InProcessMs) ms | | | |"
        "| ... runs that loaded BouncyCastle, portable; ReadyToRun (assembly the cmdlets came from: $($b.Assembly)) | $($a.BouncyCastle) of $($a.Runs); $($b.BouncyCastle) of $($b.Runs) | none with ReadyToRun | $(Test-Target ($b.BouncyCastle -eq 0)) | |"
    }
    if (Test-Figure InstalledPwsh) {
        $p = $r.InstalledPwsh
        "| **on PowerShell as its packages ship it**: the same PowerShell 7 compiled ReadyToRun here (the dotnet tool above is IL-only; ``bench/New-ReadyToRunPowerShell.ps1``): bare ``pwsh -NoProfile -c exit`` | $(Format-Seconds $p.BarePwsh) | | | $(Format-Ratio $p.BarePwsh $uacme) |"
        "| ... import cost: ``Import-Module Acme`` over that bare pwsh | $(Format-Seconds $p.ImportCost) | <= 0.10 s | $(Test-Target ($p.ImportCost -le 0.10)) | |"
        "| ... fresh process, warm state folder (as above) | $(Format-Seconds $p.ColdWarm.Seconds) | <= 2x uacme with EC keys | $(Test-Target ($uacme -gt 0 -and $p.ColdWarm.Seconds -le 2 * $uacme)) | $(Format-Ratio $p.ColdWarm.Seconds $uacme) |"
        "| ... module cost in that fresh process (fresh minus bare pwsh); JIT-compiled methods in it | $(Format-Seconds $p.ModuleCost); $('{0:0}' -f $p.ColdWarm.JitMethods) methods | <= 0.35 s | $(Test-Target ($p.ModuleCost -le 0.35)) | |"
        if ($p.Contains('Cold')) { "| ... cold, a new account each time (as the cold row above) | $(Format-Seconds $p.Cold) | <= bare pwsh + 0.5 s | $(Test-Target ($p.Cold -le $p.BarePwsh + 0.5)) | $(Format-Ratio $p.Cold $uacme) |" }
        if ($p.Contains('BareJob')) { "| ... the same over a job that does nothing, started the same way (``bench/bare.ps1``: $(Format-Seconds $p.BareJob)) | $(Format-Seconds ($p.ColdWarm.Seconds - $p.BareJob)) | | | |" }
    }
    if (Test-Figure RequestsPerCert) { "| requests per certificate (warm account, one identifier), counted by the module's HTTP layer | $('{0:0.0}' -f $r.RequestsPerCert) | <= 8 (RFC minimum 7) | $(Test-Target ($r.RequestsPerCert -le 8)) | |" }
    if (Test-Figure PebbleRequests) { "| cross-check: requests Pebble logged for the whole warm run (account, warm-up and measured certificates) vs the module's own count | $($r.PebbleRequests) logged, $($r.ModuleRequests) counted | equal | $(Test-Target ($r.PebbleRequests -eq $r.ModuleRequests)) | |" }
    if (Test-Figure Bulk) { "| bulk: $($r.Bulk.Count) certificates, $($r.Bulk.InFlight) in flight (a runspace pool, warmed up), one shared account; median of $(@($r.Bulk.RatesPerSecond).Count) runs ($(@($r.Bulk.RatesPerSecond) -join ', ') per second) | $('{0:0.00}' -f $bulkRate) certificates/s ($($r.Bulk.Succeeded) of $($r.Bulk.Count) issued) | >= 4x warm sequential rate | $(Test-Target ($bulkRate -ge 4 * $warmRate)) | |" }
    if (Test-Figure Bulk) { "| bulk rate / warm sequential rate | $(Format-Ratio $bulkRate $warmRate) | >= 4x | | |" }
    if (Test-Figure Bulk) { "| bulk peak working set | $($r.Bulk.PeakWorkingSetMB) MB | | | |" }
    if (Test-Figure Bulk) { "| bulk memory: working set over the first 20 vs the last 20 certificates; managed heap after a full GC before vs after the run | $($r.Bulk.First20MB) MB vs $($r.Bulk.Last20MB) MB; $($r.Bulk.ManagedBeforeMB) MB vs $($r.Bulk.ManagedAfterMB) MB | flat | $(Test-Target ($r.Bulk.Last20MB -le $r.Bulk.First20MB * 1.10 -and $r.Bulk.ManagedAfterMB -le $r.Bulk.ManagedBeforeMB + 5)) | |" }
    if (Test-Figure UacmeMedian) { "| uacme: seconds per certificate (a process per certificate, as uacme runs, EC keys: ``-t EC``) | $(Format-Seconds $uacme) | | | 1.00x |" }
    if (Test-Figure Fleet) { "| fleet: $($r.Fleet.Count) certificates by 3 host processes vs $($r.Fleet.Count) by 1, one PostgreSQL database (state, answers, leases), 3 responders behind nginx, Pebble sleeping 0-$($r.Fleet.ValidationSleepSec - 1) s before each validation (``PEBBLE_VA_SLEEPTIME=$($r.Fleet.ValidationSleepSec)``: a CA that takes time; instant validation makes it CPU-bound on 2 cores) | $('{0:0.00}' -f $r.Fleet.Three.PerSecond) vs $('{0:0.00}' -f $r.Fleet.One.PerSecond) certificates/s: $(Format-Ratio $r.Fleet.Three.PerSecond $r.Fleet.One.PerSecond) ($($r.Fleet.OrdersPlaced) orders for $(2 * $r.Fleet.Count) names) | >= 2.5x one host | $(Test-Target ($r.Fleet.Three.PerSecond -ge 2.5 * $r.Fleet.One.PerSecond)) | |" }
    if (Test-Figure RobustMedian) { "| robustness: warm run with Pebble rejecting 5% of nonces | $(Format-Seconds $r.RobustMedian), $($r.RobustFailures) failures | 0 failures | $(Test-Target ($r.RobustFailures -eq 0)) | |" }
    ''
)
Set-Content -LiteralPath $Path -Value ($lines -join "`n")
$notes = Join-Path $PSScriptRoot 'NOTES.md'
if (Test-Path $notes) { Add-Content -LiteralPath $Path -Value ("`n" + (Get-Content -Raw $notes)) }
Write-Host "Wrote $Path"
