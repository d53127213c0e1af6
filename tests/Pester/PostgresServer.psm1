<#
    A PostgreSQL cluster for a test: initdb in a temporary folder (as the postgres user when the tests
    run as root: PostgreSQL refuses to run as root), started with pg_ctl on a free loopback port with
    its socket in the same folder, a role that logs in with a password (scram-sha-256 over TCP), and
    stopped and removed by Stop-TestPostgres. Debian keeps the binaries in /usr/lib/postgresql/<n>/bin,
    off PATH: Find-PostgresBin looks there (installing the postgresql package first when missing).
#>
Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1')

function Find-PostgresBin {
    $bin = @(Get-ChildItem -Path '/usr/lib/postgresql/*/bin/initdb' -ErrorAction Ignore | Sort-Object { [int]($_.Directory.Parent.Name) } -Descending)
    if ($bin.Count -eq 0) {
        # pg_createcluster (postgresql-common) is on PATH once the server package is installed.
        Install-TestPackage @{ pg_createcluster = 'postgresql' }
        $bin = @(Get-ChildItem -Path '/usr/lib/postgresql/*/bin/initdb' -ErrorAction Ignore | Sort-Object { [int]($_.Directory.Parent.Name) } -Descending)
    }
    if ($bin.Count -eq 0) { throw 'PostgreSQL is installed, but no /usr/lib/postgresql/<version>/bin/initdb was found.' }
    $bin[0].DirectoryName
}

function Invoke-AsPostgres {
    param([string] $File, [string[]] $Arguments)
    $isRoot = (& id -u) -eq '0'
    if ($isRoot) { & runuser -u postgres -- $File @Arguments 2>&1 } else { & $File @Arguments 2>&1 }
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed (exit $LASTEXITCODE)." }
}

function Start-TestPostgres {
    <# Returns Port, User, Password, Database, Url (postgres://...), Bin, Folder; Stop-TestPostgres ends it. #>
    param([string] $User = 'acme', [string] $Database = 'acme')
    $bin = Find-PostgresBin
    $folder = Join-Path ([System.IO.Path]::GetTempPath()) ("acme-pg-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $folder
    $isRoot = (& id -u) -eq '0'
    if ($isRoot) { & chown postgres: $folder }
    $data = Join-Path $folder 'data'
    $password = 'pw-' + [guid]::NewGuid().ToString('N')
    $superPassword = 'su-' + [guid]::NewGuid().ToString('N')
    $pwFile = Join-Path $folder 'superpw'
    Set-Content -LiteralPath $pwFile -Value $superPassword -NoNewline
    if ($isRoot) { & chown postgres: $pwFile }
    $null = Invoke-AsPostgres (Join-Path $bin 'initdb') @('-D', $data, '-U', 'postgres', '--pwfile', $pwFile, '-A', 'scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--no-locale')
    Remove-Item -LiteralPath $pwFile -Force -ErrorAction Ignore
    $port = Get-FreeTcpPort
    $log = Join-Path $folder 'postgres.log'
    $null = Invoke-AsPostgres (Join-Path $bin 'pg_ctl') @('-D', $data, '-l', $log, '-w', '-t', '60', '-o', "-p $port -k $folder -c listen_addresses=127.0.0.1", 'start')
    $server = [pscustomobject]@{
        PSTypeName = 'AcmeTest.Postgres'; Bin = $bin; Folder = $folder; Data = $data; Port = $port; Log = $log
        User = $User; Password = $password; Database = $Database
        Url = "postgres://${User}:$password@127.0.0.1:$port/$Database"
    }
    try {
        Invoke-TestPsql $server "CREATE ROLE $User LOGIN PASSWORD '$password'" | Out-Null
        Invoke-TestPsql $server "CREATE DATABASE $Database OWNER $User" | Out-Null
    } catch {
        Stop-TestPostgres $server
        throw
    }
    $server
}

function Invoke-TestPsql {
    <# Runs SQL as the superuser over the cluster's socket; returns the rows (unaligned, tuples only). #>
    param([Parameter(Mandatory)] $Server, [Parameter(Mandatory)][string] $Sql, [string] $Database = 'postgres')
    Invoke-AsPostgres (Join-Path $Server.Bin 'psql') @('-h', $Server.Folder, '-p', $Server.Port, '-U', 'postgres', '-d', $Database, '-v', 'ON_ERROR_STOP=1', '-At', '-c', $Sql)
}

function Stop-TestPostgresServer {
    <# Stops the server (fast shutdown), keeping its data, for a test of the database going away. #>
    param([Parameter(Mandatory)] $Server)
    $null = Invoke-AsPostgres (Join-Path $Server.Bin 'pg_ctl') @('-D', $Server.Data, '-m', 'fast', '-w', 'stop')
}

function Start-TestPostgresServer {
    <# Starts a server Stop-TestPostgresServer stopped, on the same port. #>
    param([Parameter(Mandatory)] $Server)
    $null = Invoke-AsPostgres (Join-Path $Server.Bin 'pg_ctl') @('-D', $Server.Data, '-l', $Server.Log, '-w', '-t', '60', '-o', "-p $($Server.Port) -k $($Server.Folder) -c listen_addresses=127.0.0.1", 'start')
}

function Stop-TestPostgres {
    param([Parameter(Mandatory, ValueFromPipeline)] $Server)
    try { $null = Invoke-AsPostgres (Join-Path $Server.Bin 'pg_ctl') @('-D', $Server.Data, '-m', 'immediate', '-w', 'stop') } catch { Write-Warning "$_" }
    # The cluster's files belong to postgres (and this container's root may lack CAP_DAC_OVERRIDE).
    if ((& id -u) -eq '0') { & runuser -u postgres -- rm -rf -- $Server.Folder }
    Remove-Item -LiteralPath $Server.Folder -Recurse -Force -ErrorAction Ignore
}

Export-ModuleMember -Function Find-PostgresBin, Start-TestPostgres, Stop-TestPostgres, Invoke-TestPsql, Stop-TestPostgresServer, Start-TestPostgresServer
