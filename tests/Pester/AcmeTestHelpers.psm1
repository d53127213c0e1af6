#Requires -Version 7.2
<#
    Test harness for Pebble 2.4 and pebble-challtestsrv (Debian's "pebble" package), modelled on
    instant-acme's tests/pebble.rs: per-run ports on loopback, a fresh TLS certificate for Pebble's
    API made here (the package ships none), processes stopped by Stop-TestPebble.

    An already running Pebble (a container, or Windows and macOS users' own) is used instead when
    ACME_TEST_DIRECTORY is set; see README.md for the variables.
#>
Set-StrictMode -Version Latest

# A test file run on its own (not through Invoke-PesterTests.ps1, which sets a fresh folder) must not
# write to the real per-user state folder either.
if ($env:ACME_TEST_MODULE -and -not $env:ACME_STATE_PATH) {
    $env:ACME_STATE_PATH = Join-Path ([System.IO.Path]::GetTempPath()) ("acme-test-state-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
}

function Get-FreeTcpPort {
    <#
        A loopback port nothing listens on now. -Except leaves out ports that are free but spoken for: a Pebble's
        HttpPort is where its VA connects, which nobody binds until a test answers there, so a "port where nothing
        answers" drawn later may be that very port (the OS hands out a port again once it is released).
    #>
    [OutputType([int])]
    param([int[]] $Except = @())
    for ($i = 0; $i -lt 50; $i++) {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try { $port = $listener.LocalEndpoint.Port } finally { $listener.Stop() }
        if ($Except -notcontains $port) { return $port }
    }
    throw "No free loopback port outside $($Except -join ', ') in 50 tries."
}

function Get-FreeUdpAndTcpPort {
    [OutputType([int])]
    param([int[]] $Except = @())
    for ($i = 0; $i -lt 50; $i++) {
        $port = Get-FreeTcpPort -Except $Except
        $udp = $null
        try {
            $udp = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, $port))
            return $port
        } catch {
            continue
        } finally {
            if ($udp) { $udp.Dispose() }
        }
    }
    throw 'No free port for DNS was found.'
}

function Get-PwshCommand {
    <# The command line that starts a child PowerShell like this one: pwsh, or 'dotnet pwsh.dll' for the dotnet tool. #>
    [OutputType([string[]])]
    param()
    foreach ($name in 'pwsh', 'pwsh.exe') {
        $exe = Join-Path $PSHOME $name
        if ((Test-Path $exe -PathType Leaf) -and -not $exe.EndsWith('.dll')) { return , @($exe) }
    }
    $dll = Join-Path $PSHOME 'pwsh.dll'
    if (Test-Path $dll) {
        $dotnet = (Get-Command dotnet -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source
        return , @($dotnet, $dll)
    }
    throw "Cannot find how to start PowerShell from $PSHOME."
}

function Install-TestPackage {
    <#
        Makes sure the Debian packages the tests use are installed; installs them with apt-get when
        running as root on Debian, and otherwise says what to do.
    #>
    param([Parameter(Mandatory)][hashtable] $Commands)  # command name -> Debian package
    $missing = @($Commands.Keys | Where-Object { -not (Get-Command $_ -CommandType Application -ErrorAction Ignore) })
    if ($missing.Count -eq 0) { return }
    $packages = @($missing | ForEach-Object { $Commands[$_] } | Sort-Object -Unique)
    $isRoot = $IsLinux -and ((& id -u) -eq '0')
    if ($isRoot -and (Get-Command apt-get -ErrorAction Ignore)) {
        Write-Host "Installing $($packages -join ', ') with apt-get..."
        & apt-get update -qq 2>&1 | Out-Null
        $env:DEBIAN_FRONTEND = 'noninteractive'
        & apt-get install -y -qq @packages 2>&1 | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "apt-get install $($packages -join ' ') failed (exit $LASTEXITCODE)." }
        $still = @($missing | Where-Object { -not (Get-Command $_ -CommandType Application -ErrorAction Ignore) })
        if ($still.Count -gt 0) { throw "After installing $($packages -join ', '), $($still -join ', ') is still not on PATH." }
        return
    }
    throw ("The tests need $($missing -join ', ') (Debian package: $($packages -join ', ')). Install it with " +
        "'sudo apt-get install $($packages -join ' ')', or point the tests at a running Pebble with ACME_TEST_DIRECTORY (see README.md).")
}

function New-PebbleApiCertificate {
    <# A throwaway CA and a localhost certificate for Pebble's own HTTPS API. Returns the CA certificate's path. #>
    param([Parameter(Mandatory)][string] $Folder)
    $caKey = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
    $caReq = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=Acme test Pebble API root', $caKey, 'SHA256')
    $caReq.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new($true, $false, 0, $true))
    $caReq.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509KeyUsageExtension]::new('KeyCertSign, CrlSign', $true))
    $now = [DateTimeOffset]::UtcNow
    $ca = $caReq.CreateSelfSigned($now.AddMinutes(-5), $now.AddDays(7))

    $leafKey = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
    $leafReq = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=localhost', $leafKey, 'SHA256')
    $san = [System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
    $san.AddDnsName('localhost')
    $san.AddIpAddress([System.Net.IPAddress]::Loopback)
    $san.AddIpAddress([System.Net.IPAddress]::IPv6Loopback)
    $leafReq.CertificateExtensions.Add($san.Build())
    $eku = [System.Security.Cryptography.OidCollection]::new()
    $null = $eku.Add([System.Security.Cryptography.Oid]::new('1.3.6.1.5.5.7.3.1'))
    $leafReq.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($eku, $false))
    $serial = [byte[]]::new(12); [System.Security.Cryptography.RandomNumberGenerator]::Fill($serial); $serial[0] = $serial[0] -band 0x7f
    $leaf = $leafReq.Create($ca, $now.AddMinutes(-5), $now.AddDays(7), $serial)

    $caPath = Join-Path $Folder 'api-root.pem'
    Set-Content -LiteralPath $caPath -Value $ca.ExportCertificatePem() -NoNewline
    Set-Content -LiteralPath (Join-Path $Folder 'api-cert.pem') -Value ($leaf.ExportCertificatePem() + "`n" + $ca.ExportCertificatePem()) -NoNewline
    Set-Content -LiteralPath (Join-Path $Folder 'api-key.pem') -Value $leafKey.ExportPkcs8PrivateKeyPem() -NoNewline
    $caPath
}

function Wait-TestEndpoint {
    param([Parameter(Mandatory)][scriptblock] $Probe, [Parameter(Mandatory)][string] $What, [int] $TimeoutSec = 20,
        [System.Diagnostics.Process[]] $Process = @())
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ([DateTime]::UtcNow -lt $deadline) {
        foreach ($p in $Process) {
            if ($p.HasExited) { throw "$What exited early with code $($p.ExitCode)." }
        }
        try { if (& $Probe) { return } } catch { }
        Start-Sleep -Milliseconds 100
    }
    throw "$What did not answer within $TimeoutSec seconds."
}

function Start-TestProcess {
    <#
        Starts a server process with its output appended to a log file. On Unix a shell redirects it
        (and then becomes the process, through exec), so the log is complete at any moment; elsewhere
        the output is copied by event handlers, which run when PowerShell pumps its events.
    #>
    param([string] $FilePath, [string[]] $ArgumentList, [string] $LogPath, [hashtable] $Environment = @{})
    $unix = -not $IsWindows
    $psi = if ($unix) { [System.Diagnostics.ProcessStartInfo]::new('/bin/sh') } else { [System.Diagnostics.ProcessStartInfo]::new($FilePath) }
    if ($unix) {
        foreach ($a in @('-c', 'exec "$0" "$@" >> "$ACME_TEST_LOG" 2>&1', $FilePath)) { $psi.ArgumentList.Add($a) }
        $psi.Environment['ACME_TEST_LOG'] = $LogPath
    }
    foreach ($a in $ArgumentList) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = -not $unix
    $psi.RedirectStandardError = -not $unix
    $psi.UseShellExecute = $false
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $process = [System.Diagnostics.Process]::new()
    $process.StartInfo = $psi
    if ($unix) {
        $null = $process.Start()
        return [pscustomobject]@{ Process = $process; Log = [System.IO.TextWriter]::Null; LogPath = $LogPath }
    }
    $log = [System.IO.StreamWriter]::new($LogPath, $true)
    $log.AutoFlush = $true
    $sync = [System.IO.TextWriter]::Synchronized($log)
    $handler = { if ($null -ne $EventArgs.Data) { $Event.MessageData.WriteLine($EventArgs.Data) } }
    $null = Register-ObjectEvent -InputObject $process -EventName OutputDataReceived -Action $handler -MessageData $sync
    $null = Register-ObjectEvent -InputObject $process -EventName ErrorDataReceived -Action $handler -MessageData $sync
    $null = $process.Start()
    $process.BeginOutputReadLine()
    $process.BeginErrorReadLine()
    [pscustomobject]@{ Process = $process; Log = $sync; LogPath = $LogPath }
}

function Find-CurrentPebble {
    <#
        The Pebble 2.10.1 binary (with its pebble-challtestsrv beside it): ACME_TEST_PEBBLE when it names a
        Pebble that knows -version, else the shared copy at <repo>/../shared/servers/pebble-2.10.1 or
        /work/shared/servers/pebble-2.10.1. $null when there is none (the callers say so).
    #>
    [OutputType([string])]
    param()
    $candidates = @()
    if ($env:ACME_TEST_PEBBLE) { $candidates += $env:ACME_TEST_PEBBLE }
    $repo = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
    $candidates += Join-Path (Split-Path -Parent $repo) 'shared/servers/pebble-2.10.1/pebble'
    $candidates += '/work/shared/servers/pebble-2.10.1/pebble'
    foreach ($c in $candidates) {
        if ((Test-Path -LiteralPath $c -PathType Leaf) -and (Get-TestPebbleVersion -Path $c) -ne '2.4.0') { return (Resolve-Path -LiteralPath $c).ProviderPath }
    }
    $null
}

function Get-TestPebbleVersion {
    <# '2.10.1' from "Pebble version: v2.10.1-go1.19-debian"; Debian's 2.4.0 has no -version flag. #>
    [OutputType([string])]
    param([Parameter(Mandatory)][string] $Path)
    $out = & $Path -version 2>&1 | Out-String
    if ($out -match 'version:\s*v?(\d+\.\d+\.\d+)') { return $Matches[1] }
    '2.4.0'
}

function Start-TestPebble {
    <#
    .SYNOPSIS
    Starts pebble-challtestsrv (DNS answering 127.0.0.1 for every name) and Pebble on free loopback
    ports, and returns what a test needs to use them.
    .DESCRIPTION
    Debian's Pebble 2.4.0 by default; Pebble 2.10.1 with -Current or -Version 2.10.1 (the binary
    ACME_TEST_PEBBLE names, else ../shared/servers/pebble-2.10.1; throws when it is absent: test files
    check Find-CurrentPebble first), and by default too when ACME_TEST_PEBBLE_PASS is 2.10.1 (the
    second pass of build.ps1 Test). A Pebble 2.7+ gets Profiles (default, shortlived) and
    retryAfter; the result says Version and Profiles (empty for 2.4.0).
    #>
    [CmdletBinding()]
    param(
        # Pebble 2.10.1 (Find-CurrentPebble), whatever ACME_TEST_PEBBLE says.
        [switch] $Current,
        # '2.4.0' (Debian's) or '2.10.1'.
        [ValidateSet('2.4.0', '2.10.1')][string] $Version,
        # Profiles for Pebble 2.7+: name -> @{ description; validityPeriod (seconds) }.
        [System.Collections.IDictionary] $Profiles,
        # Pebble 2.5+ Retry-After seconds on pending authorizations and processing orders.
        [int] $RetryAfterAuthz = 1,
        [int] $RetryAfterOrder = 1,
        # Pebble 2.10.1's -strict (RFC 8555 to the letter).
        [switch] $Strict,
        [int] $NonceRejectPercent = 5,
        [int] $AlternateRoots = 0,
        [int] $ChainLength = 1,
        # PEBBLE_AUTHZREUSE. 0 is not "never": Pebble still reuses a valid authorization 1 time in 100 (Disable-SavedAuthorization).
        [int] $AuthzReusePercent = 50,
        [hashtable] $ExternalAccountMacKeys,
        [switch] $ExternalAccountBindingRequired,
        [string[]] $DomainBlocklist = @('blocked.test'),
        [switch] $NoValidationSleep = $true,
        # Pebble's validation delay: each validation sleeps a random 0..(n-1) whole seconds (PEBBLE_VA_SLEEPTIME), as a real CA takes time.
        [int] $ValidationSleepSec = 0,
        # Seconds the certificates are valid (Pebble's default is five years); short ones fall due during a test.
        [int] $CertificateValidityPeriod = 0,
        # host:port of the DNS server Pebble validates with; challtestsrv's unless set (a real BIND or PowerDNS).
        [string] $DnsServer
    )

    if ($env:ACME_TEST_DIRECTORY) {
        return [pscustomobject]@{
            PSTypeName       = 'AcmeTest.Pebble'
            External         = $true
            Directory        = $env:ACME_TEST_DIRECTORY
            ManagementUrl    = $env:ACME_TEST_MANAGEMENT
            ApiRootPath      = $env:ACME_TEST_CA_CERT
            HttpPort         = [int]($env:ACME_TEST_HTTP_PORT ?? 5002)
            TlsPort          = [int]($env:ACME_TEST_TLS_PORT ?? 5001)
            DnsPort          = [int]($env:ACME_TEST_DNS_PORT ?? 8053)
            ChallSrvUrl      = $env:ACME_TEST_CHALLTESTSRV ?? 'http://localhost:8055'
            Processes        = @()
            WorkDir          = $null
            PebbleLog        = $null
            Version          = $env:ACME_TEST_PEBBLE_VERSION ?? '2.4.0'
            Profiles         = @()
        }
    }

    $pebbleExe = 'pebble'; $challExe = 'pebble-challtestsrv'
    if ($Current -or $Version -eq '2.10.1') {
        $pebbleExe = Find-CurrentPebble
        if (-not $pebbleExe) { throw 'Pebble 2.10.1 was not found: set ACME_TEST_PEBBLE to its binary, or put it at <repo>/../shared/servers/pebble-2.10.1/pebble.' }
    } elseif (-not $Version -and $env:ACME_TEST_PEBBLE_PASS -eq '2.10.1') {
        # build.ps1 Test's second pass: every plain Start-TestPebble gets Pebble 2.10.1, run -strict.
        $pebbleExe = Find-CurrentPebble
        if (-not $pebbleExe) { throw 'ACME_TEST_PEBBLE_PASS is 2.10.1 but Pebble 2.10.1 was not found (ACME_TEST_PEBBLE, ../shared/servers/pebble-2.10.1).' }
        if ($env:ACME_TEST_PEBBLE_STRICT -eq '1' -and -not $PSBoundParameters.ContainsKey('Strict')) { $Strict = $true }
    }
    if ($pebbleExe -eq 'pebble') {
        Install-TestPackage @{ pebble = 'pebble'; 'pebble-challtestsrv' = 'pebble' }
        $pebbleVersion = '2.4.0'
    } else {
        $pebbleVersion = Get-TestPebbleVersion -Path $pebbleExe
        $beside = Join-Path (Split-Path -Parent $pebbleExe) 'pebble-challtestsrv'
        if (Test-Path -LiteralPath $beside -PathType Leaf) { $challExe = $beside }
    }
    $modern = [version]$pebbleVersion -ge [version]'2.5.0'

    $work = Join-Path ([System.IO.Path]::GetTempPath()) ("acme-pebble-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $work
    $apiRoot = New-PebbleApiCertificate -Folder $work

    for ($attempt = 1; ; $attempt++) {
        # Six different ports: each was free when drawn, and the OS may hand a released port out again at once.
        $drawn = [System.Collections.Generic.List[int]]::new()
        foreach ($name in 'acmePort', 'mgmtPort', 'httpPort', 'tlsPort', 'dnsPort', 'challMgmtPort') {
            $port = if ($name -eq 'dnsPort') { Get-FreeUdpAndTcpPort -Except $drawn } else { Get-FreeTcpPort -Except $drawn }
            $drawn.Add($port)
            Set-Variable -Name $name -Value $port
        }

        $config = @{
            pebble = [ordered]@{
                listenAddress                  = "127.0.0.1:$acmePort"
                managementListenAddress        = "127.0.0.1:$mgmtPort"
                certificate                    = (Join-Path $work 'api-cert.pem')
                privateKey                     = (Join-Path $work 'api-key.pem')
                httpPort                       = $httpPort
                tlsPort                        = $tlsPort
                ocspResponderURL               = ''
                externalAccountBindingRequired = [bool]$ExternalAccountBindingRequired
                domainBlocklist                = $DomainBlocklist
            }
        }
        if ($ExternalAccountMacKeys) { $config.pebble.externalAccountMACKeys = $ExternalAccountMacKeys }
        if ($CertificateValidityPeriod -gt 0) { $config.pebble.certificateValidityPeriod = $CertificateValidityPeriod }
        $profileNames = @()
        if ($modern) {
            $config.pebble.retryAfter = [ordered]@{ authz = $RetryAfterAuthz; order = $RetryAfterOrder }
            if (-not $Profiles) {
                $Profiles = [ordered]@{
                    default    = @{ description = 'The profile you know and love'; validityPeriod = 7776000 }
                    shortlived = @{ description = 'A short-lived cert profile'; validityPeriod = 518400 }
                }
                if ($CertificateValidityPeriod -gt 0) {
                    foreach ($p in $Profiles.Values) { $p.validityPeriod = [Math]::Min($p.validityPeriod, $CertificateValidityPeriod) }
                }
            }
            $config.pebble.profiles = $Profiles
            $profileNames = @($Profiles.Keys)
        }
        $configPath = Join-Path $work 'pebble-config.json'
        $config | ConvertTo-Json -Depth 5 | Set-Content -LiteralPath $configPath

        $dnsFlags = if ($modern) { @('-dnsserver', "127.0.0.1:$dnsPort", '-doh', '') } else { @('-dns01', "127.0.0.1:$dnsPort") }
        $chall = Start-TestProcess -FilePath $challExe -LogPath (Join-Path $work 'challtestsrv.log') -ArgumentList (@(
            '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '') + $dnsFlags + @('-http01', '', '-https01', '', '-tlsalpn01', '',
            '-management', "127.0.0.1:$challMgmtPort"))
        $pebbleEnv = @{
            PEBBLE_VA_NOSLEEP      = if ($NoValidationSleep -and $ValidationSleepSec -le 0) { '1' } else { '0' }
            PEBBLE_WFE_NONCEREJECT = "$NonceRejectPercent"
            PEBBLE_AUTHZREUSE      = "$AuthzReusePercent"
            PEBBLE_CHAIN_LENGTH    = "$ChainLength"
        }
        if ($AlternateRoots -gt 0) { $pebbleEnv.PEBBLE_ALTERNATE_ROOTS = "$AlternateRoots" }
        if ($ValidationSleepSec -gt 0) { $pebbleEnv.PEBBLE_VA_SLEEPTIME = "$ValidationSleepSec" }
        $pebbleArguments = @('-config', $configPath, '-dnsserver', $(if ($DnsServer) { $DnsServer } else { "127.0.0.1:$dnsPort" }))
        if ($Strict) { $pebbleArguments += '-strict' }
        $pebble = Start-TestProcess -FilePath $pebbleExe -LogPath (Join-Path $work 'pebble.log') -Environment $pebbleEnv -ArgumentList $pebbleArguments

        $result = [pscustomobject]@{
            PSTypeName    = 'AcmeTest.Pebble'
            External      = $false
            Directory     = "https://127.0.0.1:$acmePort/dir"
            ManagementUrl = "https://127.0.0.1:$mgmtPort"
            ApiRootPath   = $apiRoot
            HttpPort      = $httpPort
            TlsPort       = $tlsPort
            DnsPort       = $dnsPort
            ChallSrvUrl   = "http://127.0.0.1:$challMgmtPort"
            Processes     = @($chall, $pebble)
            WorkDir       = $work
            PebbleLog     = $pebble.LogPath
            PebbleStart   = @{ Environment = $pebbleEnv; ArgumentList = $pebbleArguments; FilePath = $pebbleExe }
            Version       = $pebbleVersion
            Profiles      = $profileNames
        }
        try {
            Wait-TestEndpoint -What 'pebble-challtestsrv' -Process $chall.Process -Probe {
                $c = [System.Net.Sockets.TcpClient]::new(); try { $c.Connect('127.0.0.1', $challMgmtPort); $true } finally { $c.Dispose() }
            }
            Wait-TestEndpoint -What 'Pebble' -Process $pebble.Process -Probe {
                $null = Invoke-RestMethod -Uri $result.Directory -SkipCertificateCheck -TimeoutSec 2; $true
            }
            # Pebble serves its management API from a listener of its own, started beside the ACME one: a test that
            # reads a root (Get-PebbleRootCertificate) at once must not find it still closed.
            Wait-TestEndpoint -What "Pebble's management API" -Process $pebble.Process -Probe {
                $c = [System.Net.Sockets.TcpClient]::new(); try { $c.Connect('127.0.0.1', $mgmtPort); $true } finally { $c.Dispose() }
            }
            return $result
        } catch {
            # What the servers said, for the error: a port taken between the draw and the bind shows here.
            $said = foreach ($log in (Join-Path $work 'challtestsrv.log'), (Join-Path $work 'pebble.log')) {
                if (Test-Path -LiteralPath $log) { "$(Split-Path -Leaf $log): $((Get-Content -LiteralPath $log -Tail 5) -join ' | ')" }
            }
            $failure = "$($_.Exception.Message) $($said -join '; ')"
            $exited = $chall.Process.HasExited -or $pebble.Process.HasExited
            Stop-TestPebble ([pscustomobject]@{ Processes = @($chall, $pebble); WorkDir = $null })
            if ($attempt -ge 3 -or -not $exited) {
                Stop-TestPebble ([pscustomobject]@{ Processes = @(); WorkDir = $work })
                throw "Pebble did not start (attempt $attempt of 3): $failure"
            }
            # A server that exited at once most likely lost a port drawn free a moment before: new ports, new logs.
            Write-Warning "Pebble did not start (attempt $attempt of 3), trying new ports: $failure"
            Remove-Item -LiteralPath (Join-Path $work 'challtestsrv.log'), (Join-Path $work 'pebble.log') -ErrorAction Ignore
        }
    }
}

function Stop-TestPebble {
    param([Parameter(Mandatory, ValueFromPipeline)] $Pebble)
    process {
        foreach ($p in $Pebble.Processes) {
            try { if (-not $p.Process.HasExited) { $p.Process.Kill($true); $null = $p.Process.WaitForExit(5000) } } catch { }
            try { $p.Log.Flush() } catch { }
        }
        Get-EventSubscriber -ErrorAction Ignore | Where-Object { $_.SourceObject -in @($Pebble.Processes.Process) } |
            Unregister-Event -ErrorAction Ignore
        if ($Pebble.WorkDir -and $env:ACME_TEST_KEEP_PEBBLE -ne '1') {
            Remove-Item -LiteralPath $Pebble.WorkDir -Recurse -Force -ErrorAction Ignore
        }
    }
}

function Restart-TestPebble {
    <#
        Stops Pebble and starts it again on the same ports with the same API certificate: a CA reset.
        Pebble keeps accounts, orders and its roots in memory, so the new one knows none of them (and
        issues under a new root). Its requests go to a new log, which PebbleLog then names.
    #>
    param([Parameter(Mandatory)] $Pebble)
    if ($Pebble.External) { throw 'An external Pebble (ACME_TEST_DIRECTORY) cannot be restarted by the tests.' }
    $old = $Pebble.Processes[-1]
    if (-not $old.Process.HasExited) { $old.Process.Kill($true); $null = $old.Process.WaitForExit(5000) }
    try { $old.Log.Flush() } catch { }
    $log = Join-Path $Pebble.WorkDir ("pebble-" + [guid]::NewGuid().ToString('N').Substring(0, 8) + '.log')
    $new = Start-TestProcess -FilePath ($Pebble.PebbleStart.FilePath ?? 'pebble') -LogPath $log -Environment $Pebble.PebbleStart.Environment -ArgumentList $Pebble.PebbleStart.ArgumentList
    $Pebble.Processes = @($Pebble.Processes | Select-Object -SkipLast 1) + $new
    $Pebble.PebbleLog = $log
    $directory = $Pebble.Directory
    Wait-TestEndpoint -What 'Pebble' -Process $new.Process -Probe {
        $null = Invoke-RestMethod -Uri $directory -SkipCertificateCheck -TimeoutSec 2; $true
    }
    $management = [uri]$Pebble.ManagementUrl
    Wait-TestEndpoint -What "Pebble's management API" -Process $new.Process -Probe {
        $c = [System.Net.Sockets.TcpClient]::new(); try { $c.Connect('127.0.0.1', $management.Port); $true } finally { $c.Dispose() }
    }
}

function Disable-SavedAuthorization {
    <#
        Deactivates the valid authorizations of saved certificates' orders (Get-AcmeOrder -Refresh | Disable-AcmeAuthorization),
        so that their next order must be validated: Pebble's PEBBLE_AUTHZREUSE=0 still reuses a valid authorization one
        time in a hundred (wfe.go makes a new one only when rand.Intn(100) > the percentage), and a renewal meant to fail
        validation would then succeed. Returns how many it deactivated.
    #>
    [OutputType([int])]
    param([Parameter(Mandatory)][string] $StatePath, [Parameter(Mandatory)][string[]] $Name)
    $done = Get-AcmeOrder -StatePath $StatePath -Name $Name -Refresh | ForEach-Object Authorizations | Where-Object Status -EQ 'Valid' |
        Disable-AcmeAuthorization -Confirm:$false -PassThru
    @($done | Where-Object Status -EQ 'Deactivated').Count
}

function Get-PebbleRootCertificate {
    <# The root the Pebble instance issues under (management API /roots/<n>); it changes every start. #>
    [OutputType([System.Security.Cryptography.X509Certificates.X509Certificate2])]
    param([Parameter(Mandatory)] $Pebble, [int] $Index = 0)
    $pem = Invoke-RestMethod -Uri "$($Pebble.ManagementUrl)/roots/$Index" -SkipCertificateCheck
    [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem($pem)
}

function Test-CertificateChain {
    <# True when the certificate, with the given intermediates, chains to exactly the given root. #>
    [OutputType([bool])]
    param(
        [Parameter(Mandatory)][System.Security.Cryptography.X509Certificates.X509Certificate2] $Certificate,
        [System.Security.Cryptography.X509Certificates.X509Certificate2[]] $Intermediate = @(),
        [Parameter(Mandatory)][System.Security.Cryptography.X509Certificates.X509Certificate2] $Root
    )
    $chain = [System.Security.Cryptography.X509Certificates.X509Chain]::new()
    try {
        $chain.ChainPolicy.TrustMode = 'CustomRootTrust'
        $null = $chain.ChainPolicy.CustomTrustStore.Add($Root)
        foreach ($i in $Intermediate) { $null = $chain.ChainPolicy.ExtraStore.Add($i) }
        $chain.ChainPolicy.RevocationMode = 'NoCheck'
        $ok = $chain.Build($Certificate)
        $ok -and $chain.ChainElements[$chain.ChainElements.Count - 1].Certificate.Thumbprint -eq $Root.Thumbprint
    } finally {
        $chain.Dispose()
    }
}

function Get-PebbleRequestCount {
    <# Requests Pebble's ACME API logged so far: Pebble 2.4 logs "Pebble <date> <time> <METHOD> <path> -> calling handler()" per request. #>
    [OutputType([int])]
    param([Parameter(Mandatory)] $Pebble)
    if (-not $Pebble.PebbleLog) { return -1 }
    $Pebble.Processes[-1].Log.Flush()
    @(Select-String -LiteralPath $Pebble.PebbleLog -Pattern '^Pebble \S+ \S+ (GET|HEAD|POST) \S+ -> calling handler' -ErrorAction Ignore).Count
}

function New-TestAccount {
    <# An account on the test Pebble, trusting its API certificate by parameter. #>
    param([Parameter(Mandatory)] $Pebble, [string[]] $Contact = @(), [string] $KeyAlgorithm = 'EC256')
    New-AcmeAccount -Server $Pebble.Directory -TrustedRootCertificate $Pebble.ApiRootPath -AcceptTermsOfService -Contact $Contact -KeyAlgorithm $KeyAlgorithm
}

function Start-TestFileServer {
    <# A static file server (System.Net.HttpListener on a thread job) standing in for a user's web server. #>
    param([Parameter(Mandatory)][string] $Root, [Parameter(Mandatory)][int] $Port)
    $served = [System.Collections.Concurrent.ConcurrentBag[string]]::new()
    $listener = [System.Net.HttpListener]::new()
    $listener.Prefixes.Add("http://*:$Port/")
    $listener.Start()
    $job = Start-ThreadJob -ArgumentList $listener, $Root, $served -ScriptBlock {
        param($listener, $root, $served)
        while ($listener.IsListening) {
            try { $context = $listener.GetContext() } catch { break }
            $path = Join-Path $root ([Uri]::UnescapeDataString($context.Request.Url.AbsolutePath.TrimStart('/')))
            $full = [System.IO.Path]::GetFullPath($path)
            if ($full.StartsWith($root) -and (Test-Path -LiteralPath $full -PathType Leaf)) {
                $bytes = [System.IO.File]::ReadAllBytes($full)
                $served.Add($context.Request.Url.AbsolutePath)
                $context.Response.StatusCode = 200
                $context.Response.OutputStream.Write($bytes, 0, $bytes.Length)
            } else {
                $context.Response.StatusCode = 404
            }
            $context.Response.Close()
        }
    }
    [pscustomobject]@{ Listener = $listener; Job = $job; Served = $served }
}

function Stop-TestFileServer {
    param([Parameter(Mandatory)] $Server)
    $Server.Listener.Stop()
    $Server.Listener.Close()
    $Server.Job | Wait-Job -Timeout 5 | Out-Null
    $Server.Job | Remove-Job -Force
}

function Import-TestKit {
    <#
        Loads tests/Acme.TestKit (the fault-injecting proxy, the junk-connection flood): the build's copy
        ($env:ACME_TEST_KIT, set by build.ps1), or a fresh build of it when a test file is run by hand.
    #>
    if ('Acme.TestKit.FaultProxy' -as [type]) { return }
    $path = $env:ACME_TEST_KIT
    if (-not $path -or -not (Test-Path $path)) {
        $out = Join-Path $PSScriptRoot '../../output/testkit'
        & dotnet build (Join-Path $PSScriptRoot '../Acme.TestKit/Acme.TestKit.csproj') -c Release -o $out --nologo -v:quiet | Out-Host
        if ($LASTEXITCODE -ne 0) { throw 'Building tests/Acme.TestKit failed.' }
        $path = Join-Path $out 'Acme.TestKit.dll'
    }
    Add-Type -Path $path
}

function Start-TestFaultProxy {
    <# A fault-injecting HTTPS proxy in front of the test Pebble; trust its RootCertificatePath. Dispose it when done. #>
    param([Parameter(Mandatory)] $Pebble)
    Import-TestKit
    [Acme.TestKit.FaultProxy]::Start($Pebble.Directory)
}

function New-ProxyConnection {
    <#
        A directory URL on the fault proxy that nothing else uses (Pebble ignores the query), so the
        client opens a fresh connection for it: a cold directory cache, an empty nonce pool, and the
        request timeout given here.
    #>
    param([Parameter(Mandatory)] $Proxy, [int] $TimeoutSec = 30)
    $directory = "$($Proxy.Directory)?connection=$([guid]::NewGuid().ToString('N').Substring(0, 12))"
    $server = [Acme.Protocol.Model.AcmeServer]::new([uri]$directory, $Proxy.RootCertificate, $false)
    [Acme.Protocol.Transport.AcmeConnection]::Get($server).RequestTimeout = [TimeSpan]::FromSeconds($TimeoutSec)
    $directory
}

function Invoke-TestPipeline {
    <# The whole pipeline for one name, from a new account to the certificate, against the given directory. #>
    param([Parameter(Mandatory)][string] $Directory, [Parameter(Mandatory)] $TrustedRoot, [Parameter(Mandatory)][int] $HttpPort,
        [Parameter(Mandatory)][string] $Name)
    New-AcmeAccount -Server $Directory -TrustedRootCertificate $TrustedRoot -AcceptTermsOfService |
        New-AcmeOrder -DnsName $Name | Start-AcmeHttpChallenge -Port $HttpPort -TimeoutSec 30 | Complete-AcmeOrder -TimeoutSec 30
}

function Test-TcpPortFree {
    <# True when nothing listens on the port (a listener can bind it on every address). #>
    [OutputType([bool])]
    param([Parameter(Mandatory)][int] $Port)
    $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::IPv6Any, $Port)
    $probe.Server.DualMode = $true
    try { $probe.Start(); $true } catch { $false } finally { $probe.Stop() }
}

function Invoke-Captured {
    <#
        Runs a script block and returns what it wrote (Output), every error record, non-terminating and
        terminating (Errors), and how long it took (Seconds). Callers set $ErrorActionPreference to
        Continue where they want a pipeline to carry on past a non-terminating error.
    #>
    param([Parameter(Mandatory)][scriptblock] $Script)
    $items = [System.Collections.Generic.List[object]]::new()
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    try {
        & $Script 2>&1 | ForEach-Object { $items.Add($_) }
    } catch {
        $items.Add($_)
    }
    $watch.Stop()
    [pscustomobject]@{
        Output  = @($items | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
        Errors  = @($items | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        Seconds = $watch.Elapsed.TotalSeconds
    }
}

function Start-TestChild {
    <#
        A pwsh -NonInteractive child with the built module importable as 'Acme' (or the module at
        -ModulePath, such as Get-TestFailpointModule's); its output is read as it comes.
    #>
    param([string] $Script, [hashtable] $Environment = @{}, [string] $ModulePath = $env:ACME_TEST_MODULE)
    $pwsh = Get-PwshCommand
    $psi = [System.Diagnostics.ProcessStartInfo]::new($pwsh[0])
    foreach ($a in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $Script)) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $modules = Split-Path (Split-Path (Split-Path $ModulePath))
    $psi.Environment['PSModulePath'] = $modules + [System.IO.Path]::PathSeparator + $env:PSModulePath
    # A $null value removes the variable from the child's environment (ACME_PORTABLE in Runtime.Tests.ps1).
    foreach ($k in $Environment.Keys) {
        if ($null -eq $Environment[$k]) { $null = $psi.Environment.Remove($k) } else { $psi.Environment[$k] = [string]$Environment[$k] }
    }
    $process = [System.Diagnostics.Process]::Start($psi)
    [pscustomobject]@{ Process = $process; Out = $process.StandardOutput.ReadToEndAsync(); Err = $process.StandardError.ReadToEndAsync() }
}

function Wait-TestChild {
    param($Child, [int] $TimeoutSec = 120)
    if (-not $Child.Process.WaitForExit($TimeoutSec * 1000)) { $Child.Process.Kill($true); throw "The child pwsh did not end within $TimeoutSec seconds." }
    [pscustomobject]@{ ExitCode = $Child.Process.ExitCode; Out = $Child.Out.GetAwaiter().GetResult(); Err = $Child.Err.GetAwaiter().GetResult() }
}

function Invoke-TestChild {
    param([string] $Script, [hashtable] $Environment = @{}, [string] $ModulePath = $env:ACME_TEST_MODULE)
    Wait-TestChild (Start-TestChild $Script $Environment $ModulePath)
}

function Get-TestFailpointModule {
    <#
        The manifest of the test flavour of the module, whose failpoints ACME_TEST_FAILPOINT works on
        (src/Acme.Protocol/Diagnostics/Failpoint.cs). build.ps1 Test stages it apart from the module it
        ships (which ignores the variable) and names it in ACME_TEST_FAILPOINT_MODULE.
    #>
    if (-not $env:ACME_TEST_FAILPOINT_MODULE) {
        throw 'ACME_TEST_FAILPOINT_MODULE is not set: the crash tests need the failpoint flavour of the module, which build.ps1 Test stages into output/failpoints/.'
    }
    $env:ACME_TEST_FAILPOINT_MODULE
}

function Get-StateFile {
    param([string] $StatePath, [string] $Filter)
    @(Get-ChildItem -LiteralPath $StatePath -Recurse -Force -File -Filter $Filter)
}

function Assert-StateIntact {
    <# Every JSON file of a state folder parses, every key file is owner-only and opens, nothing is half-written. #>
    param([string] $StatePath)
    foreach ($json in Get-StateFile $StatePath '*.json') { { Get-Content -Raw $json.FullName | ConvertFrom-Json } | Should -Not -Throw -Because $json.FullName }
    foreach ($key in @(Get-StateFile $StatePath '*key*.pem')) {
        if (-not $IsWindows) { [int][System.IO.File]::GetUnixFileMode($key.FullName) | Should -Be 0x180 -Because "$($key.FullName) must be 0600" }
        $pem = Get-Content -Raw $key.FullName
        if ($pem -notmatch '^-----BEGIN ENCRYPTED PRIVATE KEY-----') {
            { [Acme.Protocol.Crypto.AcmeKey]::ImportPem($pem) } | Should -Not -Throw -Because $key.FullName
        }
    }
    @(Get-ChildItem -LiteralPath $StatePath -Recurse -Force | Where-Object Name -Like '*.tmp') | Should -BeNullOrEmpty
}

Export-ModuleMember -Function Start-TestChild, Wait-TestChild, Invoke-TestChild, Get-TestFailpointModule, Get-StateFile, Assert-StateIntact, Invoke-Captured, Import-TestKit, Start-TestFaultProxy, New-ProxyConnection, Invoke-TestPipeline, Test-TcpPortFree, Start-TestFileServer, Stop-TestFileServer, Get-FreeTcpPort, Get-PwshCommand, Install-TestPackage, Start-TestPebble, Find-CurrentPebble, Get-TestPebbleVersion, Stop-TestPebble, Restart-TestPebble,
    Get-PebbleRootCertificate, Disable-SavedAuthorization, Test-CertificateChain, Get-PebbleRequestCount, New-TestAccount, Start-TestProcess, Wait-TestEndpoint
# For the DNS server harnesses (PowerDnsServer.psm1).
Export-ModuleMember -Function Get-FreeUdpAndTcpPort
