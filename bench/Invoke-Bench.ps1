<#
.SYNOPSIS
    Measures issuance speed, bulk throughput, requests per certificate and import cost against a local
    Pebble, with Debian's uacme issuing from the same Pebble as the peer, and writes bench/RESULTS.md.
    Run by `dotnet pwsh ./build.ps1 Bench`. Speed is measured here, never asserted by a test.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [string] $ResultsPath = (Join-Path $PSScriptRoot 'RESULTS.md'),
    [int] $WarmCount = 20,
    [int] $ColdRuns = 10,
    [int] $BulkCount = 100,
    [int] $BulkInFlight = 8,
    [int] $BulkRuns = 3,
    [int] $ImportRuns = 10,
    [int] $ColdWarmRuns = 7,
    # Fleet: certificates issued by one host, then as many by three, on one PostgreSQL database.
    [int] $FleetCount = 30,
    # Which measurements to run (all by default); a partial run, to try a row, should name its own -ResultsPath.
    # InstalledPwsh: bare pwsh, import and the fresh process again on a ReadyToRun copy of this PowerShell, as
    # PowerShell's own packages ship it (New-ReadyToRunPowerShell.ps1; the pinned dotnet tool is IL-only).
    [ValidateSet('Warm', 'Cold', 'Bulk', 'Import', 'ColdWarm', 'InstalledPwsh', 'Uacme', 'Robust', 'Fleet')]
    [string[]] $Rows = @('Warm', 'Cold', 'Bulk', 'Import', 'ColdWarm', 'InstalledPwsh', 'Uacme', 'Robust', 'Fleet'),
    # A copy of Posh-ACME whose import the module's import is compared with, where one is at hand.
    [string] $PoshAcmePath = (Join-Path $PSScriptRoot '../../shared/vendor/Posh-ACME-4.32.0/Posh-ACME.psd1')
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/AcmeTestHelpers.psm1') -Force
Install-TestPackage @{ pebble = 'pebble'; 'pebble-challtestsrv' = 'pebble'; uacme = 'uacme' }

$pwsh = Get-PwshCommand
$work = Join-Path ([IO.Path]::GetTempPath()) ("acme-bench-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
$null = New-Item -ItemType Directory $work
$env:ACME_STATE_PATH = Join-Path $work 'state'
$env:NO_COLOR = "1"

function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    if ($sorted.Count -eq 0) { return [double]::NaN }
    $mid = [int][Math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2) { $sorted[$mid] } else { ($sorted[$mid - 1] + $sorted[$mid]) / 2 }
}

function Invoke-Pwsh {
    # Runs a child PowerShell (this one's command line, or -Pwsh) and returns its wall time (s), output and exit code.
    param([string[]] $Arguments, [string[]] $Pwsh = $script:pwsh)
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    $output = & $Pwsh[0] @($Pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive @Arguments 2>&1
    $seconds = $watch.Elapsed.TotalSeconds
    [pscustomobject]@{ Seconds = $seconds; Output = $output; ExitCode = $LASTEXITCODE }
}

function Invoke-Worker {
    param([string] $Script, [hashtable] $Parameters)
    $arguments = @('-File', (Join-Path $PSScriptRoot $Script))
    foreach ($k in $Parameters.Keys) { $arguments += @("-$k", [string]$Parameters[$k]) }
    $run = Invoke-Pwsh $arguments
    if ($run.ExitCode -ne 0) { throw "$Script failed: $($run.Output -join "`n")" }
    $json = @($run.Output | Where-Object { $_ -is [string] -and $_.StartsWith('{') })[-1]
    $json | ConvertFrom-Json
}

function Invoke-Uacme {
    # uacme trusts only the system CA bundle; a private mount namespace shows it Pebble's API root instead.
    param([string[]] $Arguments, [string] $Bundle)
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    $line = "mount --bind '$Bundle' /etc/ssl/certs/ca-certificates.crt && exec uacme " + (($Arguments | ForEach-Object { "'$_'" }) -join ' ')
    $output = & unshare -m --propagation private sh -c $line 2>&1
    [pscustomobject]@{ Seconds = $watch.Elapsed.TotalSeconds; Output = $output; ExitCode = $LASTEXITCODE }
}

$results = [ordered]@{ WrittenAt = (Get-Date).ToUniversalTime().ToString("yyyy-MM-dd HH:mm") }
$pebble = Start-TestPebble -NonceRejectPercent 0
try {
    $common = @{ ModulePath = $ModulePath; Directory = $pebble.Directory; TrustedRoot = $pebble.ApiRootPath; HttpPort = $pebble.HttpPort }

    function Measure-Cold {
        # cold.ps1 in a new process per certificate (a new account each time); the median of -ColdRuns runs.
        param([string[]] $Pwsh = $script:pwsh, [string] $Label)
        $cold = foreach ($i in 1..$ColdRuns) {
            $run = Invoke-Pwsh -Pwsh $Pwsh @('-File', (Join-Path $PSScriptRoot 'cold.ps1'), '-ModulePath', $ModulePath, '-Directory', $pebble.Directory,
                '-TrustedRoot', $pebble.ApiRootPath, '-HttpPort', $pebble.HttpPort, '-Name', "cold$Label-$i.bench.test", '-OutPath', (Join-Path $work "cold$Label-$i"))
            if ($run.ExitCode -ne 0) { throw "cold run $i$Label failed: $($run.Output -join "`n")" }
            $run.Seconds
        }
        Get-Median $cold
    }

    function Get-BareJobArguments {
        # bare.ps1: coldwarm.ps1's command line and parameters, and nothing done.
        @('-File', (Join-Path $PSScriptRoot 'bare.ps1'), '-ModulePath', $ModulePath, '-Directory', $pebble.Directory,
            '-TrustedRoot', $pebble.ApiRootPath, '-HttpPort', $pebble.HttpPort, '-Name', 'bare.bench.test', '-OutPath', (Join-Path $work 'bare'))
    }

    function Measure-ColdWarm {
        # One fresh process per run with coldwarm.ps1 (its own state folder, the account saved by run 0, untimed):
        # each -Variant in turn per run, interleaved; returns the medians of each variant's runs.
        param([string[]] $Variant, [string[]] $Pwsh = $script:pwsh, [string] $Label)
        $sharedState = $env:ACME_STATE_PATH
        $env:ACME_STATE_PATH = Join-Path $work "state-coldwarm$Label"
        $runs = @{}
        foreach ($v in $Variant) { $runs[$v] = [Collections.Generic.List[object]]::new() }
        try {
            foreach ($i in 0..$ColdWarmRuns) {
                foreach ($v in $Variant) {
                    $env:ACME_PORTABLE = if ($v -eq 'Portable') { '1' } else { $null }
                    $run = Invoke-Pwsh -Pwsh $Pwsh @('-File', (Join-Path $PSScriptRoot 'coldwarm.ps1'), '-ModulePath', $ModulePath, '-Directory', $pebble.Directory,
                        '-TrustedRoot', $pebble.ApiRootPath, '-HttpPort', $pebble.HttpPort, '-Name', "coldwarm$Label-$v-$i.bench.test".ToLowerInvariant(),
                        '-OutPath', (Join-Path $work "coldwarm$Label-$v-$i"))
                    if ($run.ExitCode -ne 0) { throw "fresh-process run $i ($v$Label) failed: $($run.Output -join "`n")" }
                    $inside = @($run.Output | Where-Object { $_ -is [string] -and $_.StartsWith('{') })[-1] | ConvertFrom-Json
                    # The process's time less the report line coldwarm.ps1 prints (timed in the process): not the job's.
                    if ($i -gt 0) { $runs[$v].Add([pscustomobject]@{ Seconds = $run.Seconds - $inside.ReportMs / 1000; Inside = $inside }) }
                }
            }
        } finally {
            $env:ACME_STATE_PATH = $sharedState
            $env:ACME_PORTABLE = $null
        }
        $medians = [ordered]@{}
        foreach ($v in $Variant) {
            $r = $runs[$v]
            $medians[$v] = [ordered]@{
                Seconds      = Get-Median $r.Seconds
                InProcessMs  = Get-Median $r.Inside.InProcessMs
                CpuMs        = Get-Median $r.Inside.CpuMs
                JitMethods   = Get-Median $r.Inside.JitMethods
                JitMs        = Get-Median $r.Inside.JitMs
                StartToScriptMs = Get-Median $r.Inside.StartToScriptMs
                # From the script's last statement to the runner seeing the process end: the exit.
                ExitMs       = Get-Median @($r | ForEach-Object { 1000 * $_.Seconds - $_.Inside.StartToEndMs })
                ReportMs     = Get-Median $r.Inside.ReportMs
                BouncyCastle = @($r.Inside | Where-Object BouncyCastle).Count
                Runs         = $r.Count
                Assembly     = ($r.Inside.Assembly | Select-Object -First 1) -replace [regex]::Escape((Split-Path $ModulePath)), '<module>'
            }
        }
        $medians
    }


    if ($Rows -contains 'Warm') {
        Write-Host 'warm: one session, certificates one after another...'
        $pebbleBefore = Get-PebbleRequestCount $pebble
        $warm = Invoke-Worker 'warm.ps1' ($common + @{ Count = $WarmCount; Prefix = 'warm' })
        $pebbleWarm = (Get-PebbleRequestCount $pebble) - $pebbleBefore
        $results.WarmMedian = Get-Median $warm.Times
        $results.WarmFailures = $warm.Failures
        $results.RequestsPerCert = $warm.Requests / [Math]::Max(1, $warm.Times.Count)
        # Pebble logs every request; the worker's own account creation and warm-up certificate come on top of the counted ones.
        $results.PebbleRequests = $pebbleWarm
        $results.ModuleRequests = $warm.TotalRequests
    }

    if ($Rows -contains 'Cold') {
        Write-Host 'cold: a new process per certificate...'
        $results.ColdMedian = Measure-Cold
    }

    if ($Rows -contains 'Bulk') {
        Write-Host "bulk: $BulkCount certificates, $BulkInFlight in flight, one account..."
        # CPU-bound, so the most sensitive to a busy host: the median of three runs, each in its own process.
        $bulkResults = foreach ($i in 1..$BulkRuns) { Invoke-Worker 'bulk.ps1' ($common + @{ Count = $BulkCount; InFlight = $BulkInFlight }) }
        $bulk = @($bulkResults | Sort-Object { $_.Count / $_.Seconds })[[int][Math]::Floor($bulkResults.Count / 2)]
        $bulk | Add-Member -NotePropertyName RatesPerSecond -NotePropertyValue @($bulkResults | ForEach-Object { [Math]::Round($_.Count / $_.Seconds, 1) })
        $results.Bulk = $bulk
    }

    if ($Rows -contains 'Import' -or $Rows -contains 'ColdWarm') {
        # Interleaved (bare, Acme, Posh-ACME, bare, ...) so that a change in the machine's load between runs
        # moves every variant alike instead of one of them.
        Write-Host 'import cost...'
        $hasPoshAcme = Test-Path $PoshAcmePath
        $bare = [Collections.Generic.List[double]]::new(); $import = [Collections.Generic.List[double]]::new()
        $poshAcme = [Collections.Generic.List[double]]::new(); $bareJob = [Collections.Generic.List[double]]::new()
        foreach ($i in 1..$ImportRuns) {
            $bare.Add((Invoke-Pwsh @('-Command', 'exit')).Seconds)
            $bareJob.Add((Invoke-Pwsh (Get-BareJobArguments)).Seconds)
            $import.Add((Invoke-Pwsh @('-Command', "Import-Module '$ModulePath'; exit")).Seconds)
            if ($hasPoshAcme) { $poshAcme.Add((Invoke-Pwsh @('-Command', "Import-Module '$PoshAcmePath'; exit")).Seconds) }
        }
        $results.BarePwsh = Get-Median $bare
        $results.BareJob = Get-Median $bareJob
        $results.ImportCost = (Get-Median $import) - $results.BarePwsh
        if ($hasPoshAcme) { $results.PoshAcmeImportCost = (Get-Median $poshAcme) - $results.BarePwsh }
    }

    if ($Rows -contains 'ColdWarm') {
        # A runbook's job: a new process per certificate with the account already saved (its own state folder,
        # made by one untimed run), New-AcmeCertificate for one name by http-01; the module's cost is the
        # process's time minus bare pwsh's. Each run is made twice, interleaved: with the build PowerShell 7 takes
        # (ReadyToRun, net10.0/<rid>/) and with the portable netstandard2.0 build (ACME_PORTABLE=1, what the
        # module was before the ReadyToRun build and what Windows PowerShell 5.1 loads), each printing what it
        # measured in itself (coldwarm.ps1: JIT-compiled methods and JIT time, CPU, wall).
        Write-Host 'fresh process, warm state folder (ReadyToRun and portable builds)...'
        $medians = Measure-ColdWarm -Variant 'R2R', 'Portable'
        $results.ColdWarmR2R = $medians.R2R
        $results.ColdWarmPortable = $medians.Portable
        $results.ColdWarmMedian = $results.ColdWarmR2R.Seconds
        $results.ColdWarmModuleCost = $results.ColdWarmMedian - $results.BarePwsh
    }

    if ($Rows -contains 'InstalledPwsh') {
        # The same PowerShell 7 compiled ReadyToRun (as its .deb/.rpm/.tar.gz/.msi are): bare, import and the fresh
        # process again, interleaved, so that the module's own cost is read over a PowerShell like the one users run.
        Write-Host 'the same rows on a ReadyToRun copy of this PowerShell (compiled once, about a minute)...'
        $installed = & (Join-Path $PSScriptRoot 'New-ReadyToRunPowerShell.ps1') -Destination (Join-Path $PSScriptRoot "../output/bench/pwsh-r2r")
        $installedPwsh = @($installed)
        $bare = [Collections.Generic.List[double]]::new(); $import = [Collections.Generic.List[double]]::new()
        $bareJob = [Collections.Generic.List[double]]::new()
        foreach ($i in 1..$ImportRuns) {
            $bare.Add((Invoke-Pwsh -Pwsh $installedPwsh @('-Command', 'exit')).Seconds)
            $bareJob.Add((Invoke-Pwsh -Pwsh $installedPwsh (Get-BareJobArguments)).Seconds)
            $import.Add((Invoke-Pwsh -Pwsh $installedPwsh @('-Command', "Import-Module '$ModulePath'; exit")).Seconds)
        }
        $medians = Measure-ColdWarm -Variant 'R2R' -Pwsh $installedPwsh -Label '-installed'
        $results.InstalledPwsh = [ordered]@{
            Pwsh       = $installed
            BarePwsh   = Get-Median $bare
            BareJob    = Get-Median $bareJob
            ImportCost = (Get-Median $import) - (Get-Median $bare)
            ColdWarm   = $medians.R2R
            ModuleCost = $medians.R2R.Seconds - (Get-Median $bare)
            # The cold row (a new account each time) on that PowerShell too.
            Cold       = Measure-Cold -Pwsh $installedPwsh -Label '-installed'
        }
    }

    if ($Rows -contains 'Uacme') {
        # uacme with EC keys (-t EC: the account key on 'new', the certificate key on 'issue'), as the module's default.
        Write-Host 'uacme: the same Pebble, the same way...'
        $bundle = Join-Path $work 'bundle.pem'
        Copy-Item $pebble.ApiRootPath $bundle
        $webRoot = Join-Path $work 'www/.well-known/acme-challenge'
        $null = New-Item -ItemType Directory $webRoot -Force
        $server = Start-TestFileServer -Root (Join-Path $work 'www') -Port $pebble.HttpPort
        try {
            $env:UACME_CHALLENGE_PATH = $webRoot
            $confdir = Join-Path $work 'uacme'
            $null = New-Item -ItemType Directory $confdir
            $new = Invoke-Uacme @('-c', $confdir, '-a', $pebble.Directory, '-y', '-t', 'EC', 'new') $bundle
            if ($new.ExitCode -ne 0) { throw "uacme new failed: $($new.Output -join "`n")" }
            $uacmeTimes = foreach ($i in 1..$WarmCount) {
                $run = Invoke-Uacme @('-c', $confdir, '-a', $pebble.Directory, '-t', 'EC', '-h', (Join-Path $PSScriptRoot 'uacme-hook.sh'), 'issue', "uacme-$i.bench.test") $bundle
                if ($run.ExitCode -ne 0) { throw "uacme issue failed: $($run.Output -join "`n")" }
                $run.Seconds
            }
            $results.UacmeMedian = Get-Median $uacmeTimes
        } finally {
            Stop-TestFileServer $server
        }
    }
} finally {
    Stop-TestPebble $pebble
}

if ($Rows -contains 'Robust') {
    Write-Host 'robustness: Pebble rejecting 5% of nonces...'
    $pebble = Start-TestPebble -NonceRejectPercent 5
    try {
        $robust = Invoke-Worker 'warm.ps1' @{ ModulePath = $ModulePath; Directory = $pebble.Directory; TrustedRoot = $pebble.ApiRootPath; HttpPort = $pebble.HttpPort; Count = $WarmCount; Prefix = 'robust' }
        $results.RobustMedian = Get-Median $robust.Times
        $results.RobustFailures = $robust.Failures
    } finally {
        Stop-TestPebble $pebble
    }
}
if ($Rows -contains 'Fleet') {
    Write-Host "fleet: $FleetCount certificates by one host, then $FleetCount by three, on one PostgreSQL database..."
    $results.Fleet = Invoke-Worker 'fleet.ps1' @{ ModulePath = $ModulePath; Count = $FleetCount }
}
Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction Ignore

$json = if ($PSBoundParameters.ContainsKey('ResultsPath')) { [IO.Path]::ChangeExtension($ResultsPath, '.json') } else { Join-Path $PSScriptRoot 'results.json' }
$results | ConvertTo-Json -Depth 4 | Set-Content $json
& (Join-Path $PSScriptRoot 'Write-Results.ps1') -Results $results -Path $ResultsPath -ModulePath $ModulePath
