<#
    Benchmark worker: a runbook's job in a new process with a warm state folder (the account is saved):
    import the module, New-AcmeCertificate for one name by http-01 with the saved account, export. The
    runner times the process from start to exit. Prints one JSON line with what the process measured in
    itself from before Import-Module to after the certificate: wall ms, CPU ms, and the JIT's figures
    (System.Runtime.JitInfo, what the runtime's methods-jitted-count and time-in-jit event counters read),
    whether BouncyCastle was loaded, and the ms from the process's start to this script's first and last
    statements (the rest of the runner's time is the process's exit), and how long making the line took
    (ReportMs), which the runner leaves out of the job's time.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath, [Parameter(Mandatory)][string] $Directory,
    [Parameter(Mandatory)][string] $TrustedRoot, [Parameter(Mandatory)][int] $HttpPort,
    [Parameter(Mandatory)][string] $Name, [Parameter(Mandatory)][string] $OutPath
)
$ErrorActionPreference = 'Stop'
$process = [System.Diagnostics.Process]::GetCurrentProcess()
$scriptStart = [DateTime]::Now
$jitMethods = [System.Runtime.JitInfo]::GetCompiledMethodCount($false)
$jitTime = [System.Runtime.JitInfo]::GetCompilationTime($false)
$cpu = $process.TotalProcessorTime
$watch = [System.Diagnostics.Stopwatch]::StartNew()
Import-Module $ModulePath
$null = New-AcmeCertificate -DnsName $Name -Server $Directory -TrustedRootCertificate $TrustedRoot -AcceptTermsOfService `
    -HttpPort $HttpPort -Path $OutPath
$watch.Stop()
$scriptEnd = [DateTime]::Now
$process.Refresh()
$culture = [cultureinfo]::InvariantCulture
$line = [string]::Format($culture,
    '{{"InProcessMs":{0:0.0},"CpuMs":{1:0.0},"JitMethods":{2},"JitMs":{3:0.0},"BouncyCastle":{4},"StartToScriptMs":{5:0.0},"StartToEndMs":{6:0.0},"Assembly":"{7}"}}',
    $watch.Elapsed.TotalMilliseconds, ($process.TotalProcessorTime - $cpu).TotalMilliseconds,
    [System.Runtime.JitInfo]::GetCompiledMethodCount($false) - $jitMethods,
    ([System.Runtime.JitInfo]::GetCompilationTime($false) - $jitTime).TotalMilliseconds,
    ([string]::Join(' ', [AppDomain]::CurrentDomain.GetAssemblies()) -match 'BouncyCastle\.Cryptography').ToString().ToLowerInvariant(),
    ($scriptStart - $process.StartTime).TotalMilliseconds, ($scriptEnd - $process.StartTime).TotalMilliseconds,
    [Acme.PowerShell.Commands.NewAcmeCertificateCommand].Assembly.Location.Replace('\', '/'))
# What making this line took, so that the runner can leave the report out of the job's time.
[Console]::Out.WriteLine($line.Substring(0, $line.Length - 1) + ',"ReportMs":' + ([DateTime]::Now - $scriptEnd).TotalMilliseconds.ToString('0.0', $culture) + '}')
