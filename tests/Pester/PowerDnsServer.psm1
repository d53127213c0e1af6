#Requires -Version 7.2
<#
    A real PowerDNS Authoritative Server for the tests: an sqlite3 database in a temp folder with the
    zone example.test (SOA, NS, apex A and wildcard A to 127.0.0.1), pdns_server on free loopback ports
    with its HTTP API on (api=yes, a random api-key), stopped by Stop-TestPowerDns.
#>
Set-StrictMode -Version Latest

function Start-TestPowerDns {
    [CmdletBinding()]
    param([string[]] $Zone = @('example.test'))
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1')
    Install-TestPackage @{ pdns_server = 'pdns-server'; sqlite3 = 'sqlite3' }
    $schema = @('/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql', '/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql') |
        Where-Object { Test-Path $_ } | Select-Object -First 1
    if (-not $schema) {
        # The backend ships no command for Install-TestPackage to look for: its schema file is the sign.
        if ($IsLinux -and ((& id -u) -eq '0') -and (Get-Command apt-get -ErrorAction Ignore)) {
            $env:DEBIAN_FRONTEND = 'noninteractive'
            & apt-get install -y -qq pdns-backend-sqlite3 2>&1 | Out-Null
        }
        $schema = Get-Item '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql' -ErrorAction Ignore
        if (-not $schema) { throw "The PowerDNS tests need pdns-backend-sqlite3: 'sudo apt-get install pdns-server pdns-backend-sqlite3'." }
    }

    $work = Join-Path ([System.IO.Path]::GetTempPath()) ("acme-pdns-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $work
    $db = Join-Path $work 'pdns.sqlite3'
    $sql = [System.Text.StringBuilder]::new()
    $null = $sql.AppendLine((Get-Content -Raw -LiteralPath $schema))
    $id = 0
    foreach ($z in $Zone) {
        $id++
        $null = $sql.AppendLine("INSERT INTO domains (id, name, type) VALUES ($id, '$z', 'NATIVE');")
        foreach ($r in @(
                @($z, 'SOA', "ns1.$z hostmaster.$z 1 10800 3600 604800 60"),
                @($z, 'NS', "ns1.$z"),
                @($z, 'A', '127.0.0.1'),
                @("ns1.$z", 'A', '127.0.0.1'),
                @("*.$z", 'A', '127.0.0.1'))) {
            $null = $sql.AppendLine("INSERT INTO records (domain_id, name, type, content, ttl, prio, disabled, auth) VALUES ($id, '$($r[0])', '$($r[1])', '$($r[2])', 60, 0, 0, 1);")
        }
    }
    $sql.ToString() | & sqlite3 $db
    if ($LASTEXITCODE -ne 0) { throw "sqlite3 could not make the PowerDNS database (exit $LASTEXITCODE)." }

    $dnsPort = Get-FreeUdpAndTcpPort
    $apiPort = Get-FreeTcpPort
    $apiKey = [Convert]::ToHexString([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(16)).ToLowerInvariant()
    @(
        'launch=gsqlite3', "gsqlite3-database=$db", 'local-address=127.0.0.1', "local-port=$dnsPort",
        'api=yes', "api-key=$apiKey", 'webserver=yes', 'webserver-address=127.0.0.1', "webserver-port=$apiPort",
        'webserver-allow-from=127.0.0.1', "socket-dir=$work", 'loglevel=4', 'disable-syslog=yes', 'zone-cache-refresh-interval=0'
    ) | Set-Content -LiteralPath (Join-Path $work 'pdns.conf')
    $process = Start-TestProcess -FilePath 'pdns_server' -LogPath (Join-Path $work 'pdns.log') -ArgumentList @(
        "--config-dir=$work", '--daemon=no', '--guardian=no')
    $result = [pscustomobject]@{
        PSTypeName = 'AcmeTest.PowerDns'
        ApiUrl     = "http://127.0.0.1:$apiPort"
        ApiKey     = $apiKey
        DnsPort    = $dnsPort
        DnsServer  = "127.0.0.1:$dnsPort"
        Processes  = @($process)
        WorkDir    = $work
        Log        = $process.LogPath
    }
    try {
        Wait-TestEndpoint -What 'pdns_server' -Process $process.Process -Probe {
            $null = Invoke-RestMethod -Uri "$($result.ApiUrl)/api/v1/servers/localhost/zones" -Headers @{ 'X-API-Key' = $apiKey } -TimeoutSec 2; $true
        }
    } catch {
        $log = Get-Content -Raw -LiteralPath $process.LogPath -ErrorAction Ignore
        Stop-TestPowerDns $result
        throw "$_ Its log: $log"
    }
    $result
}

function Stop-TestPowerDns {
    param([Parameter(Mandatory, ValueFromPipeline)] $PowerDns)
    process {
        foreach ($p in $PowerDns.Processes) {
            try { if (-not $p.Process.HasExited) { $p.Process.Kill($true); $null = $p.Process.WaitForExit(5000) } } catch { }
        }
        if ($PowerDns.WorkDir -and $env:ACME_TEST_KEEP_PEBBLE -ne '1') {
            Remove-Item -LiteralPath $PowerDns.WorkDir -Recurse -Force -ErrorAction Ignore
        }
    }
}

function Get-TestPowerDnsTxt {
    <# The TXT values the PowerDNS database holds at a name (what the API wrote, read back through the API). #>
    param([Parameter(Mandatory)] $PowerDns, [Parameter(Mandatory)][string] $Name, [string] $Zone = 'example.test')
    $z = Invoke-RestMethod -Uri "$($PowerDns.ApiUrl)/api/v1/servers/localhost/zones/$Zone." -Headers @{ 'X-API-Key' = $PowerDns.ApiKey }
    @($z.rrsets | Where-Object { $_.name -eq "$Name." -and $_.type -eq 'TXT' } | ForEach-Object { $_.records.content })
}

Export-ModuleMember -Function Start-TestPowerDns, Stop-TestPowerDns, Get-TestPowerDnsTxt
