#Requires -Version 7.2
<#
    Real parts for the scale-out tests, from Debian, run as this test's own processes on loopback with
    their own configuration files (never the system services): redis-server, nginx as the load
    balancer, and responder processes (a child pwsh each, running Start-AcmeChallengeResponder).
#>
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1')

function Test-TcpConnect([int] $Port) {
    $c = [System.Net.Sockets.TcpClient]::new()
    try { $c.Connect('127.0.0.1', $Port); $true } catch { $false } finally { $c.Dispose() }
}

function Start-TestRedis {
    <# redis-server on a free loopback port with a password, no persistence. Returns Port, Password, Process. #>
    param([Parameter(Mandatory)][string] $Folder, [int] $Port = (Get-FreeTcpPort), [string] $Password = ('pw-' + [guid]::NewGuid().ToString('N')))
    Install-TestPackage @{ 'redis-server' = 'redis-server' }
    $null = New-Item -ItemType Directory -Path $Folder -Force
    $password = $Password
    $config = Join-Path $Folder 'redis.conf'
    # The password goes in a file only this user reads, not on a command line other users can see.
    Set-Content -LiteralPath $config -Value @(
        "port $Port", 'bind 127.0.0.1', 'save ""', 'appendonly no', "dir $Folder", "requirepass $password", 'protected-mode yes')
    if ($IsLinux) { & chmod 600 $config }
    $process = Start-TestProcess -FilePath 'redis-server' -ArgumentList @($config) -LogPath (Join-Path $Folder 'redis.log')
    Wait-TestEndpoint -What 'redis-server' -Process $process.Process -Probe { Test-TcpConnect $Port }
    [pscustomobject]@{ Port = $Port; Password = $password; Process = $process; Folder = $Folder }
}

function Stop-TestProcess {
    param([Parameter(Mandatory)] $Handle)
    try { if (-not $Handle.Process.HasExited) { $Handle.Process.Kill($true); $null = $Handle.Process.WaitForExit(5000) } } catch { }
    try { $Handle.Log.Flush() } catch { }
    Get-EventSubscriber -ErrorAction Ignore | Where-Object { $_.SourceObject -eq $Handle.Process } | Unregister-Event -ErrorAction Ignore
}

function Start-TestNginx {
    <# nginx on 127.0.0.1:$Port, round-robin to the responders' ports, with its own prefix, config and logs under $Folder. #>
    param([Parameter(Mandatory)][string] $Folder, [Parameter(Mandatory)][int] $Port, [Parameter(Mandatory)][int[]] $Upstream)
    Install-TestPackage @{ nginx = 'nginx' }
    $null = New-Item -ItemType Directory -Path (Join-Path $Folder 'temp') -Force
    $servers = ($Upstream | ForEach-Object { "        server 127.0.0.1:$_ max_fails=1 fail_timeout=60s;" }) -join "`n"
    $config = Join-Path $Folder 'nginx.conf'
    Set-Content -LiteralPath $config -Value @"
worker_processes 1;
pid $Folder/nginx.pid;
error_log $Folder/error.log warn;
events { worker_connections 128; }
http {
    access_log $Folder/access.log;
    client_body_temp_path $Folder/temp/body;
    proxy_temp_path $Folder/temp/proxy;
    fastcgi_temp_path $Folder/temp/fastcgi;
    uwsgi_temp_path $Folder/temp/uwsgi;
    scgi_temp_path $Folder/temp/scgi;
    upstream responders {
$servers
    }
    server {
        listen 127.0.0.1:$Port;
        location /.well-known/ {
            proxy_pass http://responders;
            proxy_set_header Host `$host;
            proxy_connect_timeout 2s;
            proxy_next_upstream error timeout http_502 http_503;
        }
    }
}
"@
    $nginx = (Get-Command nginx -CommandType Application | Select-Object -First 1).Source
    $process = Start-TestProcess -FilePath $nginx -LogPath (Join-Path $Folder 'nginx.out') -ArgumentList @(
        '-p', $Folder, '-c', $config, '-e', (Join-Path $Folder 'error.log'), '-g', 'daemon off;')
    Wait-TestEndpoint -What 'nginx' -Process $process.Process -Probe { Test-TcpConnect $Port }
    [pscustomobject]@{ Port = $Port; Process = $process; Folder = $Folder; AccessLog = (Join-Path $Folder 'access.log') }
}

function Start-TestResponder {
    <#
        A separate PowerShell process running Start-AcmeChallengeResponder on 127.0.0.1:$Port with -Verbose;
        its output (one line per answer) goes to $LogPath. The store reaches it through the environment,
        so a Redis password is on no command line. Returns once its health endpoint answers 200.
    #>
    param([Parameter(Mandatory)][string] $Store, [Parameter(Mandatory)][int] $Port, [Parameter(Mandatory)][string] $LogPath)
    $pwsh = Get-PwshCommand
    $command = '$PSStyle.OutputRendering = ''PlainText''; Import-Module $env:ACME_TEST_MODULE; ' +
        "Start-AcmeChallengeResponder -Store `$env:ACME_TEST_STORE -Port $Port -ListenAddress 127.0.0.1 -Verbose"
    $process = Start-TestProcess -FilePath $pwsh[0] -LogPath $LogPath -Environment @{ ACME_TEST_STORE = $Store; ACME_TEST_MODULE = $env:ACME_TEST_MODULE } `
        -ArgumentList (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $command))
    [pscustomobject]@{ Port = $Port; Process = $process; LogPath = $LogPath }
}

function Wait-TestResponder {
    param([Parameter(Mandatory)] $Responder, [int] $TimeoutSec = 60)
    Wait-TestEndpoint -What "the responder on port $($Responder.Port)" -Process $Responder.Process.Process -TimeoutSec $TimeoutSec -Probe {
        (Get-TestHealth $Responder.Port) -eq 200
    }
}

function Get-TestHealth([int] $Port) {
    <# The status code of the responder's health endpoint. #>
    try {
        (Invoke-WebRequest -Uri "http://127.0.0.1:$Port/.well-known/acme-responder/health" -TimeoutSec 5 -SkipHttpErrorCheck).StatusCode
    } catch { 0 }
}

function Get-TestAnswerCount {
    <# How many validations a responder's log says it answered. #>
    param([Parameter(Mandatory)] $Responder)
    $Responder.Process.Log.Flush()
    @(Select-String -LiteralPath $Responder.LogPath -Pattern 'VERBOSE: Answered the http-01 challenge for token' -ErrorAction Ignore).Count
}

Export-ModuleMember -Function Start-TestRedis, Start-TestNginx, Start-TestResponder, Wait-TestResponder, Stop-TestProcess, Get-TestHealth, Get-TestAnswerCount, Test-TcpConnect
