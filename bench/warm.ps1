<#
    Benchmark worker: one session, module loaded and account made, then certificates one after another
    (order, http-01, finalize, export). Prints one JSON line with the per-certificate seconds and the
    requests the module's HTTP layer sent for them.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath, [Parameter(Mandatory)][string] $Directory,
    [Parameter(Mandatory)][string] $TrustedRoot, [Parameter(Mandatory)][int] $HttpPort,
    [int] $Count = 20, [string] $Prefix = 'warm', [string] $OutPath = (Join-Path ([IO.Path]::GetTempPath()) "acme-bench-$PID")
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$account = New-AcmeAccount -Server $Directory -TrustedRootCertificate $TrustedRoot -AcceptTermsOfService
# One certificate before measuring, so JIT compilation and connection set-up are not counted as "warm".
$null = $account | New-AcmeOrder -DnsName "$Prefix-0.bench.test" | Start-AcmeHttpChallenge -Port $HttpPort | Complete-AcmeOrder |
    Export-AcmeCertificate -Path (Join-Path $OutPath '0')
$times = [System.Collections.Generic.List[double]]::new()
$failures = 0
$requestsBefore = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
foreach ($i in 1..$Count) {
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    try {
        $null = $account | New-AcmeOrder -DnsName "$Prefix-$i.bench.test" | Start-AcmeHttpChallenge -Port $HttpPort |
            Complete-AcmeOrder | Export-AcmeCertificate -Path (Join-Path $OutPath "$i")
        $times.Add($watch.Elapsed.TotalSeconds)
    } catch {
        $failures++
        [Console]::Error.WriteLine("certificate $i failed: $($_.Exception.Message)")
    }
}
$requests = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount - $requestsBefore
Remove-Item -LiteralPath $OutPath -Recurse -Force -ErrorAction Ignore
[pscustomobject]@{ Times = $times; Failures = $failures; Requests = $requests; TotalRequests = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount; Count = $Count } | ConvertTo-Json -Compress
