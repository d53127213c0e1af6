#Requires -Version 7.2
<#
    Real DNS servers for the dns-01 provider tests, started as child processes on a free loopback port
    with their own configuration in a temporary folder, and stopped by the matching Stop-* function.

    Start-TestBind: BIND 9 (named) serving an updatable zone (default example.test) whose apex and
    wildcard A records point at 127.0.0.1, so Pebble pointed at it (-dnsserver) can both look up the
    dns-01 TXT records and reach the http-01/tls-alpn-01 names.
#>
Set-StrictMode -Version Latest

Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Function Install-TestPackage, Start-TestProcess, Wait-TestEndpoint, Get-FreeTcpPort, Get-FreeUdpAndTcpPort

function New-TestTsigSecret {
    [OutputType([string])]
    param([int] $Bytes = 32)
    $b = [byte[]]::new($Bytes)
    [System.Security.Cryptography.RandomNumberGenerator]::Fill($b)
    [Convert]::ToBase64String($b)
}

function Start-TestBind {
    <#
    .SYNOPSIS
    Starts BIND 9 on a free loopback port (UDP and TCP) with an updatable zone and returns what a test
    needs: Port, Server ('127.0.0.1:port'), Zone, KeyName, KeySecret, KeyAlgorithm, KeyFile (for
    nsupdate -k), and for the refusal tests a key that may update nothing (ReadOnlyKeyName/Secret) and a
    zone that nobody may update (LockedZone).
    #>
    [CmdletBinding()]
    param(
        [string] $Zone = 'example.test',
        [string] $KeyName = 'acme-test-key',
        [ValidateSet('hmac-sha256', 'hmac-sha512', 'hmac-md5')]
        [string] $KeyAlgorithm = 'hmac-sha256',
        [string] $LockedZone = 'locked.test',
        [int] $TimeoutSec = 20
    )

    Install-TestPackage @{ named = 'bind9'; nsupdate = 'bind9-dnsutils'; dig = 'bind9-dnsutils' }

    $work = Join-Path ([System.IO.Path]::GetTempPath()) ("acme-bind-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $work
    $port = Get-FreeUdpAndTcpPort
    $secret = New-TestTsigSecret -Bytes $(if ($KeyAlgorithm -eq 'hmac-sha512') { 64 } else { 32 })
    $readOnlyName = 'acme-readonly-key'
    $readOnlySecret = New-TestTsigSecret

    $keyBlock = "key `"$KeyName`" {`n    algorithm $KeyAlgorithm;`n    secret `"$secret`";`n};`n"
    $keyFile = Join-Path $work 'update.key'
    Set-Content -LiteralPath $keyFile -Value $keyBlock -NoNewline

    $zoneText = {
        param($name)
        @"
`$TTL 60
@   IN SOA ns1.$name. hostmaster.$name. ( 1 60 60 600 60 )
@   IN NS  ns1.$name.
@   IN A   127.0.0.1
ns1 IN A   127.0.0.1
*   IN A   127.0.0.1

"@
    }
    Set-Content -LiteralPath (Join-Path $work "$Zone.zone") -Value (& $zoneText $Zone) -NoNewline
    Set-Content -LiteralPath (Join-Path $work "$LockedZone.zone") -Value (& $zoneText $LockedZone) -NoNewline

    $dir = $work.Replace('\', '/')
    $conf = @"
$keyBlock
key "$readOnlyName" {
    algorithm hmac-sha256;
    secret "$readOnlySecret";
};

controls { };

options {
    directory "$dir";
    pid-file "$dir/named.pid";
    session-keyfile "$dir/session.key";
    managed-keys-directory "$dir";
    listen-on port $port { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    allow-query { any; };
    dnssec-validation no;
    notify no;
};

zone "$Zone" {
    type primary;
    file "$dir/$Zone.zone";
    update-policy { grant "$KeyName" subdomain $Zone. ANY; };
};

zone "$LockedZone" {
    type primary;
    file "$dir/$LockedZone.zone";
    allow-update { none; };
};
"@
    $confPath = Join-Path $work 'named.conf'
    Set-Content -LiteralPath $confPath -Value $conf

    # -g: foreground, log to stderr. As root named keeps running as root without -u, which is what a
    # throwaway test server in its own temporary folder wants (no "bind" user needed to own the folder).
    $named = Start-TestProcess -FilePath 'named' -LogPath (Join-Path $work 'named.log') -ArgumentList @('-g', '-4', '-c', $confPath)
    $result = [pscustomobject]@{
        PSTypeName        = 'AcmeTest.Bind'
        Port              = $port
        Server            = "127.0.0.1:$port"
        Zone              = $Zone
        KeyName           = $KeyName
        KeySecret         = $secret
        KeyAlgorithm      = $KeyAlgorithm
        KeyFile           = $keyFile
        ReadOnlyKeyName   = $readOnlyName
        ReadOnlyKeySecret = $readOnlySecret
        LockedZone        = $LockedZone
        ConfigPath        = $confPath
        WorkDir           = $work
        Log               = $named.LogPath
        Processes         = @($named)
    }
    try {
        Wait-TestEndpoint -What 'named' -Process $named.Process -TimeoutSec $TimeoutSec -Probe {
            $answer = & dig +short +time=1 +tries=1 -p $port '@127.0.0.1' $Zone SOA 2>$null
            [bool]($answer -match 'hostmaster')
        }
    } catch {
        $log = if (Test-Path -LiteralPath $named.LogPath) { Get-Content -LiteralPath $named.LogPath -Raw } else { '' }
        Stop-TestBind $result
        throw "$($_.Exception.Message) named's log:`n$log"
    }
    $result
}

function Stop-TestBind {
    param([Parameter(Mandatory, ValueFromPipeline)] $Bind)
    process {
        foreach ($p in $Bind.Processes) {
            try { if (-not $p.Process.HasExited) { $p.Process.Kill($true); $null = $p.Process.WaitForExit(5000) } } catch { }
            try { $p.Log.Flush() } catch { }
        }
        if ($Bind.WorkDir -and $env:ACME_TEST_KEEP_BIND -ne '1') {
            Remove-Item -LiteralPath $Bind.WorkDir -Recurse -Force -ErrorAction Ignore
        }
    }
}

function Get-TestDnsTxt {
    <# The TXT values the test BIND serves for a name right now (dig, TCP, no cache). #>
    [OutputType([string[]])]
    param([Parameter(Mandatory)] $Bind, [Parameter(Mandatory)][string] $Name)
    $out = & dig +short +tcp +time=2 +tries=1 -p $Bind.Port '@127.0.0.1' $Name TXT 2>$null
    @($out | Where-Object { $_ } | ForEach-Object { $_.Trim('"') })
}

Export-ModuleMember -Function Start-TestBind, Stop-TestBind, Get-TestDnsTxt
