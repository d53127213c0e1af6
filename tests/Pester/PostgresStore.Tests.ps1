#Requires -Version 7.2
<#
    Challenge answers and certificate leases in PostgreSQL (issue 18): a real cluster
    (PostgresServer.psm1), a real Pebble, responders and racing pipelines in processes of their own.
    Answers published by one process are served by a responder in another; two processes ordering one
    name with the state in the database give one order and one AcmeCertificateLocked; a lease that
    lapsed and was taken by another host makes the late writer fail with AcmeCertificateLeaseLost; a
    lease row a host with a clock ahead would write is not trusted; PostgreSQL stopped mid-pass fails
    the step clearly and the next pass completes. The password of the address is in no stream.
#>
BeforeDiscovery {
    $external = [bool]$env:ACME_TEST_DIRECTORY
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'PostgresServer.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'ScaleOutHelpers.psm1') -Force
    $script:pg = Start-TestPostgres
    $null = Initialize-AcmeStateStore -StatePath $pg.Url
    if (-not $env:ACME_TEST_DIRECTORY) {
        $script:pebble = Start-TestPebble -AuthzReusePercent 0
        $script:ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath }
    }
    $script:passphrase = 'pg-store-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    $script:secure = ConvertTo-SecureString $passphrase -AsPlainText -Force
    $script:masked = "postgres://$($pg.User)@127.0.0.1:$($pg.Port)/$($pg.Database)"

    function Invoke-Sql([string] $Sql) { Invoke-TestPsql $pg $Sql -Database $pg.Database }

    . (Join-Path $PSScriptRoot 'TestStreams.ps1')

    # A pipeline in a separate process, started with the others at a barrier so they really race.
    $script:racer = Join-Path $TestDrive 'racer.ps1'
    Set-Content -LiteralPath $racer -Value {
        param([string] $Name, [string] $Barrier, [int] $Count)
        $ErrorActionPreference = 'Stop'
        Import-Module $env:ACME_TEST_MODULE
        $null = New-Item -ItemType File -Path (Join-Path $Barrier ([guid]::NewGuid()))
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (@(Get-ChildItem $Barrier).Count -lt $Count -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 5 }
        $result = [ordered]@{ Order = $null; ErrorId = $null; Message = $null }
        try {
            $order = New-AcmeOrder -DnsName $Name -Server $env:T_DIR -StatePath $env:ACME_STATE_PATH
            $result.Order = $order.Location.AbsoluteUri
        } catch {
            $result.ErrorId = $_.FullyQualifiedErrorId
            $result.Message = "$_"
        }
        $result | ConvertTo-Json -Compress
    }.ToString()

    function Invoke-Race([string] $Name, [int] $Count = 2) {
        $barrier = Join-Path $TestDrive ("barrier-" + [guid]::NewGuid().ToString('N').Substring(0, 6))
        $null = New-Item -ItemType Directory $barrier
        $pwsh = Get-PwshCommand
        $runs = 1..$Count | ForEach-Object {
            $psi = [System.Diagnostics.ProcessStartInfo]::new($pwsh[0])
            foreach ($a in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $racer, '-Name', $Name, '-Barrier', $barrier, '-Count', $Count)) {
                $psi.ArgumentList.Add([string]$a)
            }
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $psi.Environment['ACME_TEST_MODULE'] = $env:ACME_TEST_MODULE
            $psi.Environment['ACME_STATE_PATH'] = $pg.Url
            $psi.Environment['ACME_KEY_PASSPHRASE'] = $passphrase
            $psi.Environment['T_DIR'] = $pebble.Directory
            $p = [System.Diagnostics.Process]::Start($psi)
            [pscustomobject]@{ Process = $p; Out = $p.StandardOutput.ReadToEndAsync(); Err = $p.StandardError.ReadToEndAsync() }
        }
        foreach ($r in $runs) {
            if (-not $r.Process.WaitForExit(120000)) { $r.Process.Kill($true); throw 'A racing process did not finish in two minutes.' }
        }
        foreach ($r in $runs) {
            $line = @($r.Out.Result -split "`n" | Where-Object { $_ -like '{*' })[-1]
            if (-not $line) { throw "A racing process wrote no result: $($r.Out.Result) $($r.Err.Result)" }
            $line | ConvertFrom-Json
        }
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $pebble }
    if ($script:pg) { Stop-TestPostgres $pg }
}

Describe 'Challenge answers in PostgreSQL' {
    It 'publishes, reads and removes answers; an expired answer is not served and is purged' {
        $store = [Acme.Protocol.ChallengeStores.ChallengeStoreFactory]::Open($pg.Url)
        $store.Description | Should -Be $masked
        $none = [System.Threading.CancellationToken]::None
        $store.CheckAsync($none).GetAwaiter().GetResult()
        $store.PublishAsync('tok-1', 'tok-1.thumb', [DateTimeOffset]::UtcNow.AddMinutes(10), $none).GetAwaiter().GetResult()
        $store.PublishAsync('tok-old', 'tok-old.thumb', [DateTimeOffset]::UtcNow.AddMinutes(-1), $none).GetAwaiter().GetResult()
        $store.GetKeyAuthorizationAsync('tok-1', $none).GetAwaiter().GetResult() | Should -Be 'tok-1.thumb'
        $store.GetKeyAuthorizationAsync('tok-old', $none).GetAwaiter().GetResult() | Should -BeNullOrEmpty
        $store.PublishAsync('tok-2', 'tok-2.thumb', [DateTimeOffset]::UtcNow.AddMinutes(10), $none).GetAwaiter().GetResult()
        Invoke-Sql "SELECT count(*) FROM acme.challenge_answer WHERE token = 'tok-old'" | Should -Be 0 -Because 'expired answers are purged'
        $store.RemoveAsync('tok-1', $none).GetAwaiter().GetResult()
        $store.GetKeyAuthorizationAsync('tok-1', $none).GetAwaiter().GetResult() | Should -BeNullOrEmpty
        $store.RemoveAsync('tok-2', $none).GetAwaiter().GetResult()
    }

    It 'says AcmeStateSchemaMissing for a database without the schema, and AcmeStoreUnavailable for one that is down, without the password' {
        Invoke-TestPsql $pg "CREATE DATABASE bare OWNER $($pg.User)" | Out-Null
        $bare = [Acme.Protocol.ChallengeStores.ChallengeStoreFactory]::Open(($pg.Url -replace '/acme$', '/bare'))
        $e = { $bare.CheckAsync([System.Threading.CancellationToken]::None).GetAwaiter().GetResult() } | Should -Throw -PassThru
        $e.Exception.InnerException.Id | Should -Be 'StateSchemaMissing'
        $e.Exception.InnerException.Message.Contains($pg.Password) | Should -BeFalse

        $port = Get-FreeTcpPort
        $url = "postgres://$($pg.User):$($pg.Password)@127.0.0.1:$port/acme"
        $down = [Acme.Protocol.ChallengeStores.ChallengeStoreFactory]::Open($url)
        $e = { $down.CheckAsync([System.Threading.CancellationToken]::None).GetAwaiter().GetResult() } | Should -Throw -PassThru
        $e.Exception.InnerException.Id | Should -Be 'StoreUnavailable'
        "$($e.Exception.InnerException)".Contains($pg.Password) | Should -BeFalse
        $e.Exception.InnerException.Message | Should -Match ([regex]::Escape("postgres://$($pg.User)@127.0.0.1:$port/acme"))
        # The responder says the same, and goes on serving (the database may come back).
        $text = Get-AllStreams { Start-AcmeChallengeResponder -Store $url -Port (Get-FreeTcpPort) -ListenAddress 127.0.0.1 -TimeoutSec 2 -Verbose -Debug -WarningAction Continue }
        $text.Contains($pg.Password) | Should -BeFalse
    }
}

Describe 'Leases and answers in PostgreSQL with Pebble' -Skip:$external {
    BeforeAll {
        $script:account = New-AcmeAccount @ca -AcceptTermsOfService -StatePath $pg.Url -KeyPassphrase $secure -Name fleet
    }

    It 'issues an http-01 certificate whose answer a responder in another process serves from the database' {
        $responder = Start-TestResponder -Store $pg.Url -Port $pebble.HttpPort -LogPath (Join-Path $TestDrive 'responder.log')
        try {
            Wait-TestResponder $responder
            $text = Get-AllStreams {
                $script:cert = $account | New-AcmeOrder -DnsName store.pg.test -Verbose -Debug -WarningAction Continue |
                    Start-AcmeHttpChallenge -Store $pg.Url -TimeoutSec 60 -Verbose -Debug -WarningAction Continue |
                    Complete-AcmeOrder -TimeoutSec 60 -Verbose -Debug -WarningAction Continue
                $script:cert
            }
        } finally {
            Stop-TestProcess $responder.Process
        }
        $cert.Name | Should -Be 'store.pg.test' -Because $text
        Get-TestAnswerCount $responder | Should -BeGreaterOrEqual 1
        $text.Contains($pg.Password) | Should -BeFalse
        Invoke-Sql 'SELECT count(*) FROM acme.challenge_answer' | Should -Be 0 -Because 'the answer was withdrawn once validated'
        Invoke-Sql "SELECT (lease_owner IS NULL)::text || '|' || fencing_token FROM acme.certificate_lease WHERE name = 'store.pg.test'" |
            Should -Be 'true|1' -Because 'New-AcmeOrder leased the name in the state database and Complete-AcmeOrder released it'
    }

    It 'leases names in the database for -LockStore postgres:// too, without the password in any stream' {
        $unsaved = New-AcmeAccount @ca -AcceptTermsOfService
        $first = $unsaved | New-AcmeOrder -DnsName lockstore.pg.test -LockStore $pg.Url
        Invoke-Sql "SELECT (lease_owner IS NOT NULL)::text || '|' || fencing_token FROM acme.certificate_lease WHERE name = 'lockstore.pg.test'" | Should -Be 'true|1'
        $text = Get-AllStreams { $unsaved | New-AcmeOrder -DnsName lockstore.pg.test -LockStore $pg.Url -Verbose -Debug -WarningAction Continue }
        $err = Get-Failure { $unsaved | New-AcmeOrder -DnsName lockstore.pg.test -LockStore $pg.Url }
        $err.FullyQualifiedErrorId | Should -Be 'AcmeCertificateLocked,Acme.PowerShell.Commands.NewAcmeOrderCommand'
        "$err" | Should -Match ([regex]::Escape($masked))
        $text.Contains($pg.Password) | Should -BeFalse
        "$err $($err.Exception) $($err.TargetObject)".Contains($pg.Password) | Should -BeFalse
        $certificate = $first | Start-AcmeHttpChallenge -Port $pebble.HttpPort -TimeoutSec 60 | Complete-AcmeOrder -TimeoutSec 60
        $certificate.Names | Should -Be @('lockstore.pg.test')
        Invoke-Sql "SELECT (lease_owner IS NULL)::text FROM acme.certificate_lease WHERE name = 'lockstore.pg.test'" | Should -Be 'true' -Because 'Complete-AcmeOrder released it'
    }

    It 'lets one of two processes racing New-AcmeOrder for a name order it; the other gets AcmeCertificateLocked' {
        $results = @(Invoke-Race -Name race.pg.test)
        @($results | Where-Object Order).Count | Should -Be 1 -Because ($results | ConvertTo-Json)
        $lost = @($results | Where-Object ErrorId)
        $lost.Count | Should -Be 1
        $lost[0].ErrorId | Should -Be 'AcmeCertificateLocked,Acme.PowerShell.Commands.NewAcmeOrderCommand'
        $lost[0].Message | Should -Match 'race\.pg\.test is being ordered by process'
        Invoke-Sql "SELECT fencing_token FROM acme.certificate_lease WHERE name = 'race.pg.test'" | Should -Be 1
    }

    It 'hands a lapsed lease to another host, and the late owner''s write fails with AcmeCertificateLeaseLost and writes nothing' {
        $order = $account | New-AcmeOrder -DnsName late.pg.test
        Invoke-Sql "SELECT fencing_token FROM acme.certificate_lease WHERE name = 'late.pg.test'" | Should -Be 1
        # The lease lapses (as if this host had stalled past its end), and another host takes it.
        Invoke-Sql "UPDATE acme.certificate_lease SET lease_until = now() - interval '1 second' WHERE name = 'late.pg.test'" | Out-Null
        $other = Invoke-TestChild ('Import-Module Acme; $o = New-AcmeOrder -DnsName late.pg.test -Server $env:T_DIR -StatePath $env:ACME_STATE_PATH; $o.Status') `
            @{ ACME_STATE_PATH = $pg.Url; ACME_KEY_PASSPHRASE = $passphrase; T_DIR = $pebble.Directory }
        $other.Err | Should -BeNullOrEmpty
        Invoke-Sql "SELECT fencing_token FROM acme.certificate_lease WHERE name = 'late.pg.test'" | Should -Be 2
        $before = Invoke-Sql "SELECT count(*) FROM acme.item WHERE path LIKE '%/certificates/late.pg.test/%/fullchain.pem'"
        $err = Get-Failure { $order | Start-AcmeHttpChallenge -Port $pebble.HttpPort -TimeoutSec 60 | Complete-AcmeOrder -TimeoutSec 60 }
        $err.FullyQualifiedErrorId | Should -BeLike 'AcmeCertificateLeaseLost,*'
        "$($err.CategoryInfo.Category)" | Should -Be 'ResourceBusy'
        "$err" | Should -Match 'fencing token 2'
        "$err $($err.Exception)".Contains($pg.Password) | Should -BeFalse
        Invoke-Sql "SELECT count(*) FROM acme.item WHERE path LIKE '%/certificates/late.pg.test/%/fullchain.pem'" | Should -Be $before
        Invoke-Sql "SELECT fencing_token FROM acme.certificate_lease WHERE name = 'late.pg.test'" | Should -Be 2 -Because 'the late owner released nothing of the new lease'
    }

    It 'frees the lease of a process killed mid-order, and the next host resumes its saved order' {
        $signal = Join-Path $TestDrive 'killed-order.txt'
        $child = Start-TestChild ('$ErrorActionPreference = "Stop"; Import-Module Acme; ' +
            '$o = New-AcmeOrder -DnsName killed.pg.test -Server $env:T_DIR -StatePath $env:ACME_STATE_PATH; ' +
            'Set-Content -LiteralPath $env:T_SIGNAL -Value $o.Location.AbsoluteUri; Start-Sleep -Seconds 300') `
            @{ ACME_STATE_PATH = $pg.Url; ACME_KEY_PASSPHRASE = $passphrase; T_DIR = $pebble.Directory; T_SIGNAL = $signal }
        try {
            Wait-TestEndpoint -What 'the child placing its order' -TimeoutSec 90 -Probe { (Test-Path $signal) -or $child.Process.HasExited }
            Invoke-Sql "SELECT (lease_owner IS NOT NULL)::text || '|' || (lease_until > now() + interval '9 minutes')::text FROM acme.certificate_lease WHERE name = 'killed.pg.test'" |
                Should -Be 'true|true' -Because 'the child holds a live ten-minute lease'
        } finally {
            Stop-Process -Id $child.Process.Id -Force   # SIGKILL: no release, no cleanup
        }
        $null = Wait-TestChild $child
        $placed = (Get-Content -LiteralPath $signal -Raw).Trim()
        $resumed = $account | New-AcmeOrder -DnsName killed.pg.test -LockTimeoutSec 20
        $resumed.Location.AbsoluteUri | Should -Be $placed -Because 'the saved pending order for the same names is resumed'
        Invoke-Sql "SELECT fencing_token FROM acme.certificate_lease WHERE name = 'killed.pg.test'" | Should -Be 2
        $certificate = $resumed | Start-AcmeHttpChallenge -Port $pebble.HttpPort -TimeoutSec 60 | Complete-AcmeOrder -TimeoutSec 60
        $certificate.Name | Should -Be 'killed.pg.test'
    }

    It 'does not trust a lease row written by a host whose clock is ahead, and computes leases with the database clock' {
        # What a host one hour ahead would write with its own clock: taken "now" (its now) for 10 minutes.
        Invoke-Sql ("INSERT INTO acme.certificate_lease (name, lease_owner, lease_until, taken_at, fencing_token, holder_pid, holder_started) " +
            "SELECT 'skew.pg.test', 'skewed-host/1/ab', now() + interval '70 minutes', now() + interval '1 hour', 7, pid, backend_start " +
            "FROM pg_stat_activity WHERE backend_type = 'checkpointer'") | Out-Null
        $order = $account | New-AcmeOrder -DnsName skew.pg.test
        $order.Status | Should -Be 'pending'
        Invoke-Sql ("SELECT fencing_token || '|' || (lease_until - taken_at)::text || '|' || (abs(extract(epoch FROM taken_at - now())) < 60)::text " +
            "FROM acme.certificate_lease WHERE name = 'skew.pg.test'") | Should -Be '8|00:10:00|true'
        # A live lease taken by the database clock holds against everyone, whatever their clocks say.
        $locked = Invoke-TestChild ('Import-Module Acme; try { $null = New-AcmeOrder -DnsName skew.pg.test -Server $env:T_DIR -StatePath $env:ACME_STATE_PATH -ErrorAction Stop } catch { $_.FullyQualifiedErrorId }') `
            @{ ACME_STATE_PATH = $pg.Url; ACME_KEY_PASSPHRASE = $passphrase; T_DIR = $pebble.Directory }
        $locked.Out.Trim() | Should -Be 'AcmeCertificateLocked,Acme.PowerShell.Commands.NewAcmeOrderCommand' -Because $locked.Err
        $certificate = $order | Start-AcmeHttpChallenge -Port $pebble.HttpPort -TimeoutSec 60 | Complete-AcmeOrder -TimeoutSec 60
        $certificate.Name | Should -Be 'skew.pg.test'
    }

    It 'orders nothing for a certificate another host renewed since it was read, and gives the lease back' {
        $issued = $account | New-AcmeOrder -DnsName stale.pg.test | Start-AcmeHttpChallenge -Port $pebble.HttpPort -TimeoutSec 60 | Complete-AcmeOrder -TimeoutSec 60
        $read = Get-AcmeCertificate -Name stale.pg.test -StatePath $pg.Url -KeyPassphrase $secure
        # Another host renews it meanwhile (the pass it read the certificate in is still going).
        $other = Invoke-TestChild ('$ErrorActionPreference = "Stop"; Import-Module Acme; ' +
            '(Get-AcmeCertificate -Name stale.pg.test | Test-AcmeRenewal -Force | Where-Object Due | New-AcmeOrder | Start-AcmeHttpChallenge -Port $env:T_PORT -TimeoutSec 60 | Complete-AcmeOrder -TimeoutSec 60).Thumbprint') `
            @{ ACME_STATE_PATH = $pg.Url; ACME_KEY_PASSPHRASE = $passphrase; T_PORT = $pebble.HttpPort }
        $renewed = $other.Out.Trim()
        $renewed | Should -Match '^[0-9A-F]{40}$' -Because $other.Err
        $renewed | Should -Not -Be $issued.Thumbprint
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        $out = $read | Test-AcmeRenewal -Force | Where-Object Due | New-AcmeOrder -Verbose 4>&1
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before -Because 'nothing was sent to the CA'
        @($out | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] }) | Should -BeNullOrEmpty
        @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message) -like "*stale.pg.test was renewed by another host since $($issued.Thumbprint) was read (its current version is $renewed)*" |
            Should -Not -BeNullOrEmpty
        Invoke-Sql "SELECT (lease_owner IS NULL)::text FROM acme.certificate_lease WHERE name = 'stale.pg.test'" | Should -Be 'true' -Because 'the lease went back'
        (Get-AcmeCertificate -Name stale.pg.test -StatePath $pg.Url -KeyPassphrase $secure).Thumbprint | Should -Be $renewed
        # The current version itself still renews.
        $again = Get-AcmeCertificate -Name stale.pg.test -StatePath $pg.Url -KeyPassphrase $secure | Test-AcmeRenewal -Force | Where-Object Due | New-AcmeOrder
        $again | Should -BeOfType ([Acme.Protocol.Model.AcmeOrder])
        $null = $again | Start-AcmeHttpChallenge -Port $pebble.HttpPort -TimeoutSec 60 | Complete-AcmeOrder -TimeoutSec 60
    }

    It 'leaves a certificate whose lease another host holds: the runbook says Skipped (exit 0), the worker Skipped once its pass is over' {
        $null = $account | New-AcmeOrder -DnsName held.pg.test | Start-AcmeHttpChallenge -Port $pebble.HttpPort -TimeoutSec 60 | Complete-AcmeOrder -TimeoutSec 60
        # This process holds the lease: its renewal order is placed and not completed yet.
        $holding = Get-AcmeCertificate -Name held.pg.test -StatePath $pg.Url -KeyPassphrase $secure | Test-AcmeRenewal -Force | New-AcmeOrder
        try {
            $runbook = (Resolve-Path (Join-Path $PSScriptRoot '../../examples/Update-AcmeCertificates.ps1')).Path
            $run = Invoke-TestChild ("& '$runbook' -StatePath `$env:ACME_STATE_PATH -HttpPort `$env:T_PORT -Force -TimeoutSec 60 | " +
                    'Where-Object Name -EQ held.pg.test | ForEach-Object { "$($_.Action) $($_.Error)" }; exit $LASTEXITCODE') `
                @{ ACME_STATE_PATH = $pg.Url; ACME_KEY_PASSPHRASE = $passphrase; T_PORT = $pebble.HttpPort }
            $run.Out.Trim() | Should -Match '^Skipped AcmeCertificateLocked' -Because $run.Err
            $run.ExitCode | Should -Be 0 -Because 'a certificate another host renews is not a failure'
            $worker = Invoke-TestChild ('Import-Module Acme; Start-AcmeRenewalWorker -Name held.pg.test -IssuedBefore ([DateTimeOffset]::UtcNow.AddSeconds(1)) ' +
                    '-HttpPort $env:T_PORT -Once -Interval 00:00:03 | ForEach-Object { "$($_.Action) $($_.Reason)" }') `
                @{ ACME_STATE_PATH = $pg.Url; ACME_KEY_PASSPHRASE = $passphrase; T_PORT = $pebble.HttpPort }
            $worker.Out.Trim() | Should -Be 'Skipped Locked' -Because "the lease stayed held for the worker's whole pass ($($worker.Err))"
        } finally {
            # The holder completes its renewal, which gives the lease back.
            $renewed = $holding | Start-AcmeHttpChallenge -Port $pebble.HttpPort -TimeoutSec 60 | Complete-AcmeOrder -TimeoutSec 60
        }
        $renewed.Name | Should -Be 'held.pg.test'
        Invoke-Sql "SELECT (lease_owner IS NULL)::text FROM acme.certificate_lease WHERE name = 'held.pg.test'" | Should -Be 'true'
    }

    It 'fails the pass clearly while PostgreSQL is stopped, loses no key, and the next pass completes' {
        $order = $account | New-AcmeOrder -DnsName down.pg.test
        Stop-TestPostgresServer $pg
        try {
            $text = Get-AllStreams { $order | Start-AcmeHttpChallenge -Port $pebble.HttpPort -TimeoutSec 30 -Verbose -Debug -WarningAction Continue | Complete-AcmeOrder }
            $err = Get-Failure { $order | Start-AcmeHttpChallenge -Port $pebble.HttpPort -TimeoutSec 30 | Complete-AcmeOrder }
            $err.FullyQualifiedErrorId | Should -BeLike 'AcmeStateDatabaseUnavailable,*'
            $text.Contains($pg.Password) | Should -BeFalse
            "$err $($err.Exception)".Contains($pg.Password) | Should -BeFalse
        } finally {
            Start-TestPostgresServer $pg
        }
        $certificate = $account | New-AcmeOrder -DnsName down.pg.test | Start-AcmeHttpChallenge -Port $pebble.HttpPort -TimeoutSec 60 | Complete-AcmeOrder -TimeoutSec 60
        $certificate.Name | Should -Be 'down.pg.test'
        $saved = Get-AcmeCertificate -Name down.pg.test -StatePath $pg.Url -KeyPassphrase $secure
        $saved.Thumbprint | Should -Be $certificate.Thumbprint
        $saved.Key | Should -Not -BeNullOrEmpty
        Invoke-Sql "SELECT count(*) FROM acme.item WHERE is_key AND content NOT LIKE '-----BEGIN ENCRYPTED%'" | Should -Be 0
    }
}
