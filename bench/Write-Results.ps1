<# Writes bench/RESULTS.md from a benchmark run's figures (Invoke-Bench.ps1 calls it). #>
param([Parameter(Mandatory)] $Results, [Parameter(Mandatory)][string] $Path, [Parameter(Mandatory)][string] $ModulePath)

function Format-Seconds([double] $s) { '{0:0.000} s' -f $s }
function Format-Ratio([double] $a, [double] $b) { if ($b -gt 0) { '{0:0.00}x' -f ($a / $b) } else { 'n/a' } }
function Test-Target([bool] $ok) { if ($ok) { 'met' } else { '**not met**' } }
function Get-PackageVersion([string] $name) { (& dpkg-query -W -f '${Version}' $name 2>$null) ?? 'unknown' }

$r = $Results
$cpu = (Get-Content /proc/cpuinfo -ErrorAction Ignore | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*'
$memory = [Math]::Round(((Get-Content /proc/meminfo -ErrorAction Ignore | Select-Object -First 1) -replace '\D') / 1MB, 1)
$moduleVersion = (Import-PowerShellDataFile $ModulePath).ModuleVersion
$warmRate = 1 / $r.WarmMedian
$bulkRate = $r.Bulk.Count / $r.Bulk.Seconds
$uacme = $r.UacmeMedian

$lines = @(
    '# Benchmark results'
    ''
    "Written by ``dotnet pwsh ./build.ps1 Bench`` on $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC from a real run of the committed code."
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
    "| warm: seconds per certificate, one session, certificates in a row | $(Format-Seconds $r.WarmMedian) | <= 0.30 s and <= 0.5x uacme | $(Test-Target ($r.WarmMedian -le 0.30 -and $r.WarmMedian -le 0.5 * $uacme)) | $(Format-Ratio $r.WarmMedian $uacme) |"
    "| cold: a new pwsh process imports, makes an account, orders, answers, finalizes, exports | $(Format-Seconds $r.ColdMedian) | <= 1.8 s | $(Test-Target ($r.ColdMedian -le 1.8)) | $(Format-Ratio $r.ColdMedian $uacme) |"
    "| bare ``pwsh -NoProfile -c exit`` (part of cold) | $(Format-Seconds $r.BarePwsh) | | | |"
    "| import cost: ``Import-Module Acme`` over bare pwsh | $(Format-Seconds $r.ImportCost) | <= 0.15 s | $(Test-Target ($r.ImportCost -le 0.15)) | |"
    "| requests per certificate (warm account, one identifier), counted by the module's HTTP layer | $('{0:0.0}' -f $r.RequestsPerCert) | <= 8 (RFC minimum 7) | $(Test-Target ($r.RequestsPerCert -le 8)) | |"
    "| cross-check: requests Pebble logged for the whole warm run (account, warm-up and measured certificates) vs the module's own count | $($r.PebbleRequests) logged, $($r.ModuleRequests) counted | equal | $(Test-Target ($r.PebbleRequests -eq $r.ModuleRequests)) | |"
    "| bulk: $($r.Bulk.Count) certificates, $($r.Bulk.InFlight) in flight (a runspace pool, warmed up), one shared account; median of $(@($r.Bulk.RatesPerSecond).Count) runs ($(@($r.Bulk.RatesPerSecond) -join ', ') per second) | $('{0:0.00}' -f $bulkRate) certificates/s ($($r.Bulk.Succeeded) of $($r.Bulk.Count) issued) | >= 4x warm sequential rate | $(Test-Target ($bulkRate -ge 4 * $warmRate)) | |"
    "| bulk rate / warm sequential rate | $(Format-Ratio $bulkRate $warmRate) | >= 4x | | |"
    "| bulk peak working set | $($r.Bulk.PeakWorkingSetMB) MB | | | |"
    "| bulk memory: working set over the first 20 vs the last 20 certificates; managed heap after a full GC before vs after the run | $($r.Bulk.First20MB) MB vs $($r.Bulk.Last20MB) MB; $($r.Bulk.ManagedBeforeMB) MB vs $($r.Bulk.ManagedAfterMB) MB | flat | $(Test-Target ($r.Bulk.Last20MB -le $r.Bulk.First20MB * 1.10 -and $r.Bulk.ManagedAfterMB -le $r.Bulk.ManagedBeforeMB + 5)) | |"
    "| uacme: seconds per certificate (a process per certificate, as uacme runs) | $(Format-Seconds $uacme) | | | 1.00x |"
    "| robustness: warm run with Pebble rejecting 5% of nonces | $(Format-Seconds $r.RobustMedian), $($r.RobustFailures) failures | 0 failures | $(Test-Target ($r.RobustFailures -eq 0)) | |"
    ''
)
Set-Content -LiteralPath $Path -Value ($lines -join "`n")
$notes = Join-Path $PSScriptRoot 'NOTES.md'
if (Test-Path $notes) { Add-Content -LiteralPath $Path -Value ("`n" + (Get-Content -Raw $notes)) }
Write-Host "Wrote $Path"
