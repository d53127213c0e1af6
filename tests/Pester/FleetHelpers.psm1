#Requires -Version 7.2
<#
    A fleet on one PostgreSQL database for Fleet.Tests.ps1 and the bench (issue 18): the cluster
    (PostgresServer.psm1) holding state, answers and leases; Pebble validating http-01 through nginx
    to three responders reading -Store postgres://; host processes (a child pwsh each) running a pass
    of Start-AcmeRenewalWorker, the state's lease deciding who orders which name;
    a reader process that LISTENs on acme_certificate and reads acme.current_certificate on each
    notification, as a proxy would; Pebble's log read for the orders placed and finalized.
#>
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1')
Import-Module (Join-Path $PSScriptRoot 'PostgresServer.psm1')
Import-Module (Join-Path $PSScriptRoot 'ScaleOutHelpers.psm1')

# One pass of a host: Start-AcmeRenewalWorker -Once, as a fleet host runs it. Issue: every name of the list
# is to be had (-Certificate, each host starting at its own place in the list so the hosts rarely meet on
# a name); Renew: every certificate issued before -IssuedBefore is replaced. The worker takes each name's
# lease in the state database and reads the name again under it; a name another host holds is tried
# again until that host is done with it (or dead: its session ends, the lease goes). Prints DONE lines.
$script:HostScript = {
    param([string] $Pass, [int] $Index, [string] $NamesFile, [string] $IssuedBefore, [int] $TimeoutSec, [int] $Of = 3)
    $ErrorActionPreference = 'Stop'
    Import-Module $env:ACME_TEST_MODULE
    $secure = ConvertTo-SecureString $env:ACME_KEY_PASSPHRASE -AsPlainText -Force
    $all = @(Get-Content -LiteralPath $NamesFile)
    $offset = [int][Math]::Floor($Index * $all.Count / $Of)
    $names = @($all[$offset..($all.Count - 1)]) + @(if ($offset -gt 0) { $all[0..($offset - 1)] })
    $worker = @{ Store = $env:FLEET_STORE; Server = $env:FLEET_DIRECTORY; KeyPassphrase = $secure; Once = $true; TimeoutSec = 60
        Interval = [TimeSpan]::FromSeconds($TimeoutSec) }
    if ($Pass -eq 'Issue') { $worker.Certificate = $names } else { $worker.IssuedBefore = [DateTimeOffset]::Parse($IssuedBefore, [Globalization.CultureInfo]::InvariantCulture) }
    $failed = @()
    Start-AcmeRenewalWorker @worker -ErrorAction Continue | ForEach-Object {
        if ($_.Action -in 'Issued', 'Renewed') { Write-Output "DONE $($_.Name) $($_.Thumbprint)" }
        elseif ($_.Action -in 'Failed', 'Skipped') { $failed += "$($_.Name): $($_.Action) $($_.ErrorId) $($_.Error)" }
    }
    if ($failed) { throw "Host $Index, $Pass pass: $($failed -join '; ')" }
}.ToString()

# The reader: one line of JSON per notification: the name, when it was heard, when the view was read,
# the view's updated_at and the thumbprint of the certificate it then showed.
$script:ReaderScript = {
    $ErrorActionPreference = 'Stop'
    Import-Module $env:ACME_TEST_MODULE
    $null = Initialize-AcmeStateStore -StatePath $env:FLEET_STORE   # loads Npgsql from the module's postgres folder
    $builder = [Npgsql.NpgsqlConnectionStringBuilder]::new()
    $builder.Host = '127.0.0.1'; $builder.Port = [int]$env:FLEET_PG_PORT; $builder.Username = $env:FLEET_PG_USER
    $builder.Password = $env:FLEET_PG_PASSWORD; $builder.Database = $env:FLEET_PG_DATABASE
    $listener = [Npgsql.NpgsqlConnection]::new($builder.ConnectionString); $listener.Open()
    $reader = [Npgsql.NpgsqlConnection]::new($builder.ConnectionString); $reader.Open()
    $heard = [System.Collections.Concurrent.ConcurrentQueue[object]]::new()
    $listener.add_Notification({ param($s, $e) $heard.Enqueue(@($e.Payload, [DateTimeOffset]::UtcNow)) }.GetNewClosure())
    $listen = $listener.CreateCommand(); $listen.CommandText = 'LISTEN acme_certificate'; $null = $listen.ExecuteNonQuery()
    $out = [System.IO.StreamWriter]::new($env:FLEET_READER_OUT, $true); $out.AutoFlush = $true
    $out.WriteLine('{"ready":true}')
    $query = $reader.CreateCommand()
    $query.CommandText = 'SELECT fullchain_pem, updated_at FROM acme.current_certificate WHERE name = $1'
    $param = [Npgsql.NpgsqlParameter]::new(); $null = $query.Parameters.Add($param)
    while (-not (Test-Path -LiteralPath $env:FLEET_READER_STOP)) {
        $null = $listener.Wait(250)
        $item = $null
        while ($heard.TryDequeue([ref] $item)) {
            $param.Value = [string]$item[0]
            $thumbprint = $null; $updated = $null
            $rows = $query.ExecuteReader()
            try {
                if ($rows.Read()) {
                    $thumbprint = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem($rows.GetString(0)).Thumbprint
                    $updated = [DateTimeOffset]$rows.GetFieldValue[DateTime](1)
                }
            } finally { $rows.Dispose() }
            $read = [DateTimeOffset]::UtcNow
            $out.WriteLine((@{ name = $item[0]; heard = $item[1].ToUnixTimeMilliseconds(); read = $read.ToUnixTimeMilliseconds()
                updated = if ($updated) { $updated.ToUnixTimeMilliseconds() } else { $null }; thumbprint = $thumbprint } | ConvertTo-Json -Compress))
        }
    }
    $out.Dispose(); $listener.Dispose(); $reader.Dispose()
}.ToString()

function Start-TestFleet {
    <#
        PostgreSQL (schema made), Pebble (no reused authorizations, so every name is validated; -ValidationSleepSec
        for a CA that takes time), an account saved in the database, three responders behind nginx on
        Pebble's http-01 port, and the reader. Stop-TestFleet ends them all.
    #>
    param([Parameter(Mandatory)][string] $Folder, [Parameter(Mandatory)][string[]] $Names, [int] $ValidationSleepSec = 0, [int] $Responders = 3, [switch] $NoReader)
    $null = New-Item -ItemType Directory -Path $Folder -Force
    $fleet = [pscustomobject]@{ Folder = $Folder; Pg = $null; Pebble = $null; Responders = @(); Nginx = $null; Reader = $null
        ReaderOut = (Join-Path $Folder 'reader.jsonl'); ReaderStop = (Join-Path $Folder 'reader.stop'); NamesFile = (Join-Path $Folder 'names.txt')
        HostFile = (Join-Path $Folder 'host.ps1'); Passphrase = ('fleet-' + [guid]::NewGuid().ToString('N').Substring(0, 10)); Server = $null }
    try {
        $fleet.Pg = Start-TestPostgres
        $null = Initialize-AcmeStateStore -StatePath $fleet.Pg.Url
        $fleet.Pebble = Start-TestPebble -AuthzReusePercent 0 -NonceRejectPercent 0 -ValidationSleepSec $ValidationSleepSec
        $secure = ConvertTo-SecureString $fleet.Passphrase -AsPlainText -Force
        $null = New-AcmeAccount -Server $fleet.Pebble.Directory -TrustedRootCertificate $fleet.Pebble.ApiRootPath -AcceptTermsOfService -StatePath $fleet.Pg.Url -KeyPassphrase $secure
        Set-Content -LiteralPath $fleet.NamesFile -Value $Names
        Set-Content -LiteralPath $fleet.HostFile -Value $script:HostScript
        $fleet.Responders = @(1..$Responders | ForEach-Object { Start-TestResponder -Store $fleet.Pg.Url -Port (Get-FreeTcpPort) -LogPath (Join-Path $Folder "responder$_.log") })
        $fleet.Responders | ForEach-Object { Wait-TestResponder $_ }
        $fleet.Nginx = Start-TestNginx -Folder (Join-Path $Folder 'nginx') -Port $fleet.Pebble.HttpPort -Upstream $fleet.Responders.Port
        if (-not $NoReader) {
            $fleet.Reader = Start-TestChild $script:ReaderScript @{ FLEET_STORE = $fleet.Pg.Url; FLEET_PG_PORT = $fleet.Pg.Port; FLEET_PG_USER = $fleet.Pg.User
                FLEET_PG_PASSWORD = $fleet.Pg.Password; FLEET_PG_DATABASE = $fleet.Pg.Database; FLEET_READER_OUT = $fleet.ReaderOut; FLEET_READER_STOP = $fleet.ReaderStop }
            Wait-TestEndpoint -What 'the fleet reader' -TimeoutSec 60 -Process $fleet.Reader.Process -Probe { Test-Path -LiteralPath $fleet.ReaderOut }
        }
    } catch {
        Stop-TestFleet $fleet
        throw
    }
    $fleet
}

function Stop-TestFleet {
    param([Parameter(Mandatory)] $Fleet)
    if ($Fleet.Reader) {
        Set-Content -LiteralPath $Fleet.ReaderStop -Value 'stop'
        if (-not $Fleet.Reader.Process.WaitForExit(10000)) { $Fleet.Reader.Process.Kill($true) }
    }
    foreach ($r in @($Fleet.Responders)) { if ($r) { Stop-TestProcess $r.Process } }
    if ($Fleet.Nginx) { Stop-TestProcess $Fleet.Nginx.Process }
    if ($Fleet.Pebble -and $env:ACME_TEST_FLEET_KEEP) { Copy-Item -LiteralPath $Fleet.Pebble.PebbleLog -Destination $env:ACME_TEST_FLEET_KEEP -ErrorAction Ignore }
    if ($Fleet.Pebble) { Stop-TestPebble $Fleet.Pebble }
    if ($Fleet.Pg) { Stop-TestPostgres $Fleet.Pg }
}

function Invoke-FleetSql {
    param([Parameter(Mandatory)] $Fleet, [Parameter(Mandatory)][string] $Sql)
    Invoke-TestPsql $Fleet.Pg $Sql -Database $Fleet.Pg.Database
}

function Get-FleetCurrent {
    <# name -> the current certificate (with its key) read from the database. #>
    param([Parameter(Mandatory)] $Fleet)
    $secure = ConvertTo-SecureString $Fleet.Passphrase -AsPlainText -Force
    $map = @{}
    foreach ($c in @(Get-AcmeCertificate -StatePath $Fleet.Pg.Url -KeyPassphrase $secure)) { $map[$c.Name] = $c }
    $map
}

function Start-FleetHost {
    <# A host process running one pass (Issue or Renew) over the fleet's names; Wait-FleetHost collects it. #>
    param([Parameter(Mandatory)] $Fleet, [Parameter(Mandatory)][ValidateSet('Issue', 'Renew')][string] $Pass, [int] $Index, [int] $TimeoutSec = 170, [int] $Of = 3,
        # Renew: every certificate issued before this moment is replaced (Start-AcmeRenewalWorker -IssuedBefore).
        [DateTimeOffset] $IssuedBefore)
    $cutoff = if ($Pass -eq 'Renew') { $IssuedBefore.ToString('o', [Globalization.CultureInfo]::InvariantCulture) } else { '' }
    $script = "& ([scriptblock]::Create((Get-Content -Raw -LiteralPath '$($Fleet.HostFile)'))) -Pass $Pass -Index $Index -NamesFile '$($Fleet.NamesFile)' -IssuedBefore '$cutoff' -TimeoutSec $TimeoutSec -Of $Of"
    $child = Start-TestChild $script @{ ACME_STATE_PATH = $Fleet.Pg.Url; ACME_KEY_PASSPHRASE = $Fleet.Passphrase; FLEET_STORE = $Fleet.Pg.Url; FLEET_DIRECTORY = $Fleet.Pebble.Directory }
    $child | Add-Member -NotePropertyName Index -NotePropertyValue $Index -PassThru
}

function Wait-FleetHost {
    param([Parameter(Mandatory)] $Child, [int] $TimeoutSec = 180)
    $r = Wait-TestChild $Child -TimeoutSec $TimeoutSec
    $lines = @($r.Out -split "`n" | ForEach-Object Trim)
    [pscustomobject]@{
        Index = $Child.Index; ExitCode = $r.ExitCode; Err = $r.Err; Out = $r.Out
        Leased = @($lines | Where-Object { $_ -like 'LEASED *' } | ForEach-Object { ($_ -split ' ')[1] })
        Done = @($lines | Where-Object { $_ -like 'DONE *' } | ForEach-Object { ($_ -split ' ')[1] })
    }
}

function Get-FleetLeasesOf {
    <# The names whose lease the process holds now (its pid is in the lease's owner, host/pid/random). #>
    param([Parameter(Mandatory)] $Fleet, [Parameter(Mandatory)][int] $ProcessId)
    @(Invoke-FleetSql $Fleet "SELECT name FROM acme.certificate_lease WHERE lease_owner LIKE '%/$ProcessId/%' AND lease_until > now()" | Where-Object { $_ })
}

function Wait-FleetLease {
    <# Waits until the host holds a lease after it took at least $AfterDone others; returns the names it holds. #>
    param([Parameter(Mandatory)] $Fleet, [Parameter(Mandatory)] $Worker, [int] $AfterDone = 1, [int] $TimeoutSec = 120)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ([DateTime]::UtcNow -lt $deadline -and -not $Worker.Process.HasExited) {
        $tokens = [int](Invoke-FleetSql $Fleet "SELECT count(*) FROM acme.certificate_lease WHERE fencing_token > 1")
        $held = @(Get-FleetLeasesOf $Fleet -ProcessId $Worker.Process.Id)
        if ($held.Count -gt 0 -and $tokens -gt $AfterDone) { return $held }
        Start-Sleep -Milliseconds 50
    }
    throw "Host $($Worker.Index) held no lease within $TimeoutSec seconds (exited: $($Worker.Process.HasExited))."
}

function Wait-FleetLeaseFree {
    <# How long until every one of the names is free or taken by another session (the dead holder's freed). #>
    param([Parameter(Mandatory)] $Fleet, [Parameter(Mandatory)][string[]] $Names, [int] $TimeoutSec = 60)
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    $list = ($Names | ForEach-Object { "'$_'" }) -join ','
    $free = "l.lease_owner IS NULL OR l.lease_until <= now() OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.holder_pid AND a.backend_start = l.holder_started)"
    while ($watch.Elapsed.TotalSeconds -lt $TimeoutSec) {
        $held = [int](Invoke-FleetSql $Fleet "SELECT count(*) FROM acme.certificate_lease l WHERE name IN ($list) AND NOT ($free)")
        if ($held -eq 0) { return $watch.Elapsed }
        # Taken again by a live host: that host's session is alive and the killed one's is not.
        $retaken = [int](Invoke-FleetSql $Fleet "SELECT count(*) FROM acme.certificate_lease l WHERE name IN ($list) AND fencing_token > 2")
        if ($retaken -eq $Names.Count) { return $watch.Elapsed }
        Start-Sleep -Milliseconds 50
    }
    throw "The killed host's leases on $($Names -join ', ') were not freed within $TimeoutSec seconds."
}

function Get-PebbleLogMark {
    <# Where Pebble's log ends now: Get-PebbleOrders reads from there. #>
    param([Parameter(Mandatory)] $Fleet)
    @(Read-PebbleLog $Fleet).Count
}

function Read-PebbleLog {
    <# Pebble's log once it stops growing (its lines reach the file through this process's event queue, which runs while it sleeps). #>
    param([Parameter(Mandatory)] $Fleet)
    $last = -1; $stable = 0
    for ($i = 0; $i -lt 50 -and $stable -lt 3; $i++) {
        Start-Sleep -Milliseconds 100
        $lines = @(Get-Content -LiteralPath $Fleet.Pebble.PebbleLog)
        if ($lines.Count -eq $last) { $stable++ } else { $stable = 0; $last = $lines.Count }
    }
    $lines
}

function Get-PebbleOrders {
    <# The orders Pebble's log says were placed and finalized since the mark: counts and order ids. #>
    param([Parameter(Mandatory)] $Fleet, [int] $Since = 0)
    $lines = @(Read-PebbleLog $Fleet | Select-Object -Skip $Since)
    $placed = @($lines | Select-String -Pattern 'Added order "?([^" ]+)"?' | ForEach-Object { $_.Matches[0].Groups[1].Value })
    $issued = @($lines | Select-String -Pattern 'Issued certificate serial' )
    [pscustomobject]@{ Placed = $placed.Count; Issued = $issued.Count; PlacedIds = $placed; Lines = $lines }
}

function Get-FleetOrdersPerName {
    <#
        name -> how many of the orders Pebble placed were for it. Pebble's log names the order id, the
        state names the order's identifiers: each order id is looked up in Pebble (GET of the order URL).
    #>
    param([Parameter(Mandatory)] $Fleet, [Parameter(Mandatory)] $Orders)
    $base = ([uri]$Fleet.Pebble.Directory).GetLeftPart([UriPartial]::Authority)
    $account = Get-AcmeAccount -StatePath $Fleet.Pg.Url -KeyPassphrase (ConvertTo-SecureString $Fleet.Passphrase -AsPlainText -Force)
    $map = @{}
    foreach ($id in $Orders.PlacedIds) {
        $order = Get-AcmeOrder -Account $account -Url "$base/my-order/$id"
        foreach ($n in @($order.Identifiers.Value)) { $map[$n] = 1 + ($map[$n] ?? 0) }
    }
    $map
}

function Assert-FleetIntegrity {
    <#
        The database after a pass: every acme.current_certificate row carries a certificate whose names
        and not_after match its PEM and whose key opens with the passphrase and matches it; one row per
        name; no lease held; no answer left; no item whose parent folder is missing; no version folder
        without its fullchain.
    #>
    param([Parameter(Mandatory)] $Fleet, [Parameter(Mandatory)][string[]] $Names,
        # Answers a host killed by SIGKILL may leave (it published them and died before withdrawing; when the CA had
        # validated them already, the host that resumes its order has nothing to answer): at most this many, each
        # lapsing by itself.
        [int] $LeftoverAnswers = 0)
    $rows = @(Invoke-FleetSql $Fleet "SELECT name || '|' || to_char(not_after AT TIME ZONE 'UTC', 'YYYY-MM-DD""T""HH24:MI:SS') || '|' || translate(encode(convert_to(fullchain_pem, 'UTF8'), 'base64'), E'\n', '') || '|' || (key_pem_encrypted LIKE '-----BEGIN ENCRYPTED PRIVATE KEY-----%')::text FROM acme.current_certificate")
    $rows.Count | Should -Be $Names.Count -Because 'one current certificate per name'
    $current = Get-FleetCurrent $Fleet
    foreach ($row in $rows) {
        $name, $notAfter, $pem64, $encrypted = $row -split '\|'
        $pem = [System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String(($pem64 -replace '\s', '')))
        $x509 = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem($pem)
        $x509.NotAfter.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss') | Should -Be $notAfter -Because "the view's not_after of $name is its certificate's"
        $san = @($x509.Extensions | Where-Object { $_.Oid.Value -eq '2.5.29.17' } | ForEach-Object { $_.Format($false) }) -join ','
        $san | Should -BeLike "*DNS*$name*" -Because "the certificate of $name names it"
        $encrypted | Should -Be 'true' -Because 'keys are stored encrypted'
        $c = $current[$name]
        $c.Thumbprint | Should -Be $x509.Thumbprint -Because "Get-AcmeCertificate and the view agree on $name"
        $c.Names | Should -Be @($name)
        $c.Key.MatchesCertificate($c.Certificate) | Should -BeTrue -Because "the key of $name is its certificate's"
        ($c.NotAfter -gt [DateTime]::UtcNow) | Should -BeTrue -Because "$name is valid"
    }
    Invoke-FleetSql $Fleet "SELECT count(*) FROM acme.certificate_lease WHERE lease_owner IS NOT NULL" | Should -Be 0 -Because 'no lease is left held'
    [int](Invoke-FleetSql $Fleet "SELECT count(*) FROM acme.challenge_answer") | Should -BeLessOrEqual $LeftoverAnswers -Because 'every answer was withdrawn (but a killed host''s)'
    Invoke-FleetSql $Fleet "SELECT count(*) FROM acme.challenge_answer WHERE expires > now() + interval '1 day'" | Should -Be 0 -Because 'an answer left behind lapses by itself'
    Invoke-FleetSql $Fleet "SELECT count(*) FROM acme.item i WHERE i.parent <> '' AND NOT EXISTS (SELECT 1 FROM acme.item p WHERE p.path = i.parent AND p.is_folder)" |
        Should -Be 0 -Because 'no item is orphaned'
    Invoke-FleetSql $Fleet ("SELECT count(*) FROM acme.item v WHERE v.is_folder AND v.name ~ '^[0-9A-F]{40}$' AND split_part(v.path, '/', 2) = 'certificates' " +
        "AND NOT EXISTS (SELECT 1 FROM acme.item f WHERE f.path = v.path || '/fullchain.pem')") | Should -Be 0 -Because 'no half-written certificate version'
}

function Assert-FleetNotified {
    <# The reader heard every current certificate, and read it from the view within a second of the NOTIFY. #>
    param([Parameter(Mandatory)] $Fleet, [Parameter(Mandatory)] $Current, [int] $WithinMs = 1000)
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    do {
        $seen = @{}
        foreach ($line in @(Get-Content -LiteralPath $Fleet.ReaderOut | Where-Object { $_ -like '{"*name*' })) {
            $e = $line | ConvertFrom-Json
            if ($e.thumbprint) { $seen[$e.thumbprint] = $e }
        }
        $missing = @($Current.Values | Where-Object { -not $seen.ContainsKey($_.Thumbprint) })
        if ($missing.Count -eq 0) { break }
        Start-Sleep -Milliseconds 200
    } while ([DateTime]::UtcNow -lt $deadline)
    $missing | ForEach-Object Name | Should -BeNullOrEmpty -Because 'the reader saw every new certificate through its NOTIFY'
    $lags = foreach ($c in $Current.Values) {
        $e = $seen[$c.Thumbprint]
        $fromWrite = $e.read - $e.updated
        $fromWrite | Should -BeLessThan $WithinMs -Because "the reader had $($c.Name) within a second of its write and NOTIFY (heard $($e.heard - $e.updated) ms, read $($e.read - $e.heard) ms after)"
        $fromWrite
    }
    $m = $lags | Measure-Object -Maximum -Average
    Write-Host ("Reader: {0} certificates seen, write-to-read {1:n0} ms on average, {2:n0} ms at most" -f $m.Count, $m.Average, $m.Maximum)
}

Export-ModuleMember -Function Start-TestFleet, Stop-TestFleet, Invoke-FleetSql, Get-FleetCurrent, Start-FleetHost, Wait-FleetHost, Get-FleetLeasesOf,
    Wait-FleetLease, Wait-FleetLeaseFree, Get-PebbleLogMark, Get-PebbleOrders, Get-FleetOrdersPerName, Assert-FleetIntegrity, Assert-FleetNotified
