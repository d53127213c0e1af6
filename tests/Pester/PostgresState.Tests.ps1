#Requires -Version 7.2
<#
    The state in PostgreSQL (issue 18): a real cluster (initdb in a temporary folder, pg_ctl on a free
    loopback port, a role with a password: PostgresServer.psm1) and a real Pebble. The schema is made
    by Initialize-AcmeStateStore (twice: the second changes nothing), a certificate is issued into the
    database, read from a second process, renewed through the pipeline in a third while this process
    LISTENs, and read back through the view a proxy reads. Bad addresses and schemas fail with their
    ErrorIds, and the password of the address appears in no stream.
#>
BeforeDiscovery {
    $external = [bool]$env:ACME_TEST_DIRECTORY
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'PostgresServer.psm1') -Force
    $script:pg = Start-TestPostgres
    if (-not $env:ACME_TEST_DIRECTORY) {
        $script:pebble = Start-TestPebble -AuthzReusePercent 0
    }
    $script:passphrase = 'pg-passphrase-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    $script:secure = ConvertTo-SecureString $passphrase -AsPlainText -Force

    # Every stream of a script block, as text, to look for the password in.
    . (Join-Path $PSScriptRoot 'TestStreams.ps1')

    $script:npgsqlLoadedOnImport = (Invoke-TestChild 'Import-Module Acme; $null = Get-Command -Module Acme; [bool]([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq "Npgsql" })').Out.Trim()
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $pebble }
    if ($script:pg) { Stop-TestPostgres $pg }
}

Describe 'Initialize-AcmeStateStore' {
    It 'creates the schema, and changes nothing when run again' {
        $first = Initialize-AcmeStateStore -StatePath $pg.Url
        $first.Version | Should -Be 2
        $first.PreviousVersion | Should -Be 0
        $first.Changed | Should -BeTrue
        $first.StatePath | Should -Be "postgres://$($pg.User)@127.0.0.1:$($pg.Port)/$($pg.Database)"
        $second = Initialize-AcmeStateStore -StatePath $pg.Url
        $second.Changed | Should -BeFalse
        $second.Version | Should -Be 2
        Invoke-TestPsql $pg 'SELECT count(*) FROM acme.schema_version' -Database $pg.Database | Should -Be 2
        @(Invoke-TestPsql $pg "SELECT table_name FROM information_schema.tables WHERE table_schema = 'acme' ORDER BY 1" -Database $pg.Database) |
            Should -Be @('certificate_lease', 'challenge_answer', 'current_certificate', 'item', 'schema_version', 'setting')
        @(Invoke-TestPsql $pg "SELECT column_name FROM information_schema.columns WHERE table_schema = 'acme' AND table_name = 'certificate_lease' ORDER BY ordinal_position" -Database $pg.Database) |
            Should -Be @('name', 'lease_owner', 'lease_until', 'taken_at', 'fencing_token', 'holder_pid', 'holder_started')
    }

    It 'does not load Npgsql on Import-Module, only when a postgres:// state path is used' {
        $npgsqlLoadedOnImport | Should -Be 'False'
        $used = Invoke-TestChild ('Import-Module Acme; $null = Get-AcmeCertificate -StatePath $env:PG_URL -KeyPassphrase (ConvertTo-SecureString x -AsPlainText -Force); ' +
            '[bool]([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq "Npgsql" })') @{ PG_URL = $pg.Url }
        $used.Out.Trim() | Should -Be 'True' -Because $used.Err
    }
}

Describe 'Certificates in PostgreSQL' -Skip:$external {
    BeforeAll {
        $script:ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath }
        $script:issue = @{ StatePath = $pg.Url; KeyPassphrase = $secure; HttpPort = $pebble.HttpPort; AcceptTermsOfService = $true } + $ca
    }

    It 'issues into the database, with the key encrypted and committed, and the password in no stream' {
        $script:issued = $null
        $text = Get-AllStreams { $script:issued = New-AcmeCertificate -DnsName pg.test, www.pg.test @issue -Verbose -Debug -WarningAction Continue; $script:issued }
        $issued.Result | Should -Be 'Issued'
        $issued.StatePath | Should -Be "postgres://$($pg.User)@127.0.0.1:$($pg.Port)/$($pg.Database)"
        $text | Should -Not -BeNullOrEmpty
        $text.Contains($pg.Password) | Should -BeFalse -Because 'the password of the address is masked everywhere'
        $text.Contains($passphrase) | Should -BeFalse
        $keys = @(Invoke-TestPsql $pg "SELECT left(content, 37) FROM acme.item WHERE is_key" -Database $pg.Database)
        $keys.Count | Should -BeGreaterOrEqual 2 -Because 'the account key and the certificate key'
        $keys | ForEach-Object { $_ | Should -Be '-----BEGIN ENCRYPTED PRIVATE KEY-----' }
        (Invoke-TestPsql $pg "SELECT count(*) FROM acme.item WHERE content LIKE '%$($pg.Password)%'" -Database $pg.Database) | Should -Be 0
    }

    It 'is read by a second process from the same database, named by ACME_STATE_PATH' {
        $child = Invoke-TestChild ('Import-Module Acme; $c = Get-AcmeCertificate -Name pg.test; ' +
            '"$($c.Thumbprint)|$($c.Key -ne $null)|$($c.StatePath)"') @{ ACME_STATE_PATH = $pg.Url; ACME_KEY_PASSPHRASE = $passphrase }
        $child.Out.Trim() | Should -Be "$($issued.Thumbprint)|True|$($issued.StatePath)" -Because $child.Err
    }

    It 'shows the current certificate in acme.current_certificate' {
        $row = Invoke-TestPsql $pg "SELECT name || '|' || (not_after = '$($issued.NotAfter.ToUniversalTime().ToString('yyyy-MM-dd HH:mm:ss'))+00') || '|' || left(key_pem_encrypted, 37) FROM acme.current_certificate" -Database $pg.Database
        $row | Should -Be 'pg.test|true|-----BEGIN ENCRYPTED PRIVATE KEY-----'
        $pem = (Invoke-TestPsql $pg "SELECT fullchain_pem FROM acme.current_certificate WHERE name = 'pg.test'" -Database $pg.Database) -join "`n"
        [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem($pem).Thumbprint | Should -Be $issued.Thumbprint
    }

    It 'renews through the pipeline in another process, and a LISTEN on acme_certificate hears the name' {
        $builder = [Npgsql.NpgsqlConnectionStringBuilder]::new()
        $builder.Host = '127.0.0.1'; $builder.Port = $pg.Port; $builder.Username = $pg.User; $builder.Password = $pg.Password; $builder.Database = $pg.Database
        $listener = [Npgsql.NpgsqlConnection]::new($builder.ConnectionString)
        $listener.Open()
        $heard = [System.Collections.Concurrent.ConcurrentQueue[string]]::new()
        $listener.add_Notification({ param($s, $e) $heard.Enqueue($e.Payload) }.GetNewClosure())
        $cmd = $listener.CreateCommand(); $cmd.CommandText = 'LISTEN acme_certificate'; $null = $cmd.ExecuteNonQuery()
        try {
            $renewer = Start-TestChild ('$ErrorActionPreference = "Stop"; Import-Module Acme; ' +
                '$r = Get-AcmeCertificate -Name pg.test -StatePath $env:PG_URL -KeyPassphrase (ConvertTo-SecureString $env:PG_PASS -AsPlainText -Force) | ' +
                'Test-AcmeRenewal -Force | Where-Object Due | New-AcmeOrder | Start-AcmeHttpChallenge -Port $env:HTTP_PORT | Complete-AcmeOrder; $r.Thumbprint') `
                @{ PG_URL = $pg.Url; PG_PASS = $passphrase; HTTP_PORT = $pebble.HttpPort }
            $deadline = [DateTime]::UtcNow.AddSeconds(120)
            while ($heard.Count -eq 0 -and -not $renewer.Process.HasExited -and [DateTime]::UtcNow -lt $deadline) { $null = $listener.Wait(500) }
            if ($heard.Count -eq 0) { $null = $listener.Wait(1000) }
            $done = Wait-TestChild $renewer
            $renewed = $done.Out.Trim()
        } finally {
            $listener.Dispose()
        }
        $renewed | Should -Match '^[0-9A-F]{40}$' -Because $done.Err
        $renewed | Should -Not -Be $issued.Thumbprint
        $heard.ToArray() | Should -Contain 'pg.test'
        (Get-AcmeCertificate -Name pg.test -StatePath $pg.Url -KeyPassphrase $secure).Thumbprint | Should -Be $renewed
        $pem = (Invoke-TestPsql $pg "SELECT fullchain_pem FROM acme.current_certificate WHERE name = 'pg.test'" -Database $pg.Database) -join "`n"
        [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem($pem).Thumbprint | Should -Be $renewed
    }

    It 'refuses to store a key without a passphrase, unless the database allows plaintext keys' {
        $err = Get-Failure { New-AcmeCertificate -DnsName plain.test -StatePath $pg.Url -HttpPort $pebble.HttpPort -AcceptTermsOfService @ca -AccountName plain }
        $err.FullyQualifiedErrorId | Should -BeLike 'AcmeStatePlaintextKeyRefused,*'
        "$($err.CategoryInfo.Category)" | Should -Be 'SecurityError'
        $err.ErrorDetails.RecommendedAction + $err.Exception.Message | Should -Not -BeNullOrEmpty
        (Invoke-TestPsql $pg "SELECT count(*) FROM acme.item WHERE is_key AND content NOT LIKE '-----BEGIN ENCRYPTED%'" -Database $pg.Database) | Should -Be 0
    }
}

Describe 'A process killed mid-order, state in PostgreSQL' -Skip:$external {
    BeforeAll {
        # The failpoint flavour (build.ps1 Test or Failpoints stages it, with its postgres/ folder).
        $script:failpointModule = Get-TestFailpointModule
        $script:issueScript = {
            $ErrorActionPreference = 'Stop'
            Import-Module Acme
            $c = New-AcmeCertificate -DnsName $env:T_NAME -Server $env:T_DIR -TrustedRootCertificate $env:T_ROOT -AcceptTermsOfService -HttpPort $env:T_PORT
            "issued $($c.Thumbprint)"
        }.ToString()
        function Get-PebbleCount([string] $Pattern) {
            $pebble.Processes[-1].Log.Flush()
            @(Select-String -LiteralPath $pebble.PebbleLog -Pattern $Pattern).Count
        }
    }

    It 'killed at <Point>: the key the CA saw was committed first, and the next run completes the order' -ForEach @(
        @{ Point = 'order-key-saved'; NewFinalizes = 1 }
        @{ Point = 'finalized'; NewFinalizes = 0 }
    ) {
        $name = ($Point -replace '[^a-z]', '') + '.pgcrash.test'
        $environment = @{ ACME_STATE_PATH = $pg.Url; ACME_KEY_PASSPHRASE = $passphrase; T_NAME = $name; T_DIR = $pebble.Directory; T_ROOT = $pebble.ApiRootPath; T_PORT = $pebble.HttpPort }
        $signal = Join-Path $TestDrive "$([guid]::NewGuid().ToString('N')).signal"
        $child = Start-TestChild $issueScript ($environment + @{ ACME_TEST_FAILPOINT = $Point; ACME_TEST_FAILPOINT_SIGNAL = $signal }) -ModulePath $failpointModule
        try {
            Wait-TestEndpoint -What "the child reaching $Point" -TimeoutSec 90 -Probe { (Test-Path $signal) -or $child.Process.HasExited }
        } finally {
            if (-not $child.Process.HasExited) { Stop-Process -Id $child.Process.Id -Force }
        }
        $ended = Wait-TestChild $child
        Test-Path $signal | Should -BeTrue -Because "the child stopped at $Point ($($ended.Out) $($ended.Err))"

        # What the killed process left in the database: the certificate key, encrypted, for the saved order.
        $pem = (Invoke-TestPsql $pg "SELECT content FROM acme.item WHERE is_key AND path LIKE '%/certificates/$name/%' ORDER BY updated_at DESC LIMIT 1" -Database $pg.Database) -join "`n"
        $pem | Should -Match '^-----BEGIN ENCRYPTED PRIVATE KEY-----'
        $savedKey = [Acme.Protocol.Crypto.AcmeKey]::ImportPem($pem, $passphrase.ToCharArray()).Thumbprint
        Invoke-TestPsql $pg "SELECT count(*) FROM acme.certificate_lease WHERE name = '$name' AND lease_owner IS NOT NULL" -Database $pg.Database |
            Should -Be 1 -Because 'the killed holder''s lease row stays; its session went with it, which frees the lease for the next run'

        # Certificates Pebble issued, not finalize requests: a request the CA refused with badNonce (Pebble
        # refuses 5% of nonces) is sent again, and under a loaded machine that made this count flaky.
        $finalizes = Get-PebbleCount 'Issued certificate serial'
        $resumed = Invoke-TestChild $issueScript $environment
        $resumed.Out | Should -Match 'issued [0-9A-F]{40}' -Because $resumed.Err
        Get-PebbleCount 'Issued certificate serial' | Should -Be ($finalizes + $NewFinalizes) -Because 'the order is finalized once, with the saved key'
        Get-PebbleCount 'POST /finalize-order/' | Should -BeGreaterOrEqual $NewFinalizes
        $certificate = Get-AcmeCertificate -Name $name -StatePath $pg.Url -KeyPassphrase $secure
        $certificate.Key.Thumbprint | Should -Be $savedKey -Because 'the key saved before finalize is the certificate''s'
        (Invoke-TestPsql $pg "SELECT count(*) FROM acme.current_certificate WHERE name = '$name'" -Database $pg.Database) | Should -Be 1
    }
}

Describe 'The database going away mid-order' -Skip:$external {
    It 'fails the step with AcmeStateDatabaseUnavailable while PostgreSQL is down, and the saved order completes once it is back' {
        $ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath }
        $account = New-AcmeAccount @ca -AcceptTermsOfService -StatePath $pg.Url -KeyPassphrase $secure -Name away
        $order = $account | New-AcmeOrder -DnsName away.pg.test
        Stop-TestPostgresServer $pg
        try {
            $err = Get-Failure { $order | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder }
            $err.FullyQualifiedErrorId | Should -BeLike 'AcmeStateDatabaseUnavailable,*'
            "$($err.CategoryInfo.Category)" | Should -Be 'ConnectionError'
            "$err $($err.Exception) $($err.TargetObject)".Contains($pg.Password) | Should -BeFalse
        } finally {
            Start-TestPostgresServer $pg
        }
        $saved = Get-AcmeOrder -Name away.pg.test -StatePath $pg.Url -KeyPassphrase $secure
        $saved.Location | Should -Be $order.Location -Because 'the order saved before the database went away is resumed'
        $certificate = $saved | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
        $certificate.Name | Should -Be 'away.pg.test'
        (Get-AcmeCertificate -Name away.pg.test -StatePath $pg.Url -KeyPassphrase $secure).Thumbprint | Should -Be $certificate.Thumbprint
    }
}

Describe 'Bad addresses and schemas' {
    It 'says AcmeStateDatabaseAuthenticationFailed for a wrong password, without the password' {
        $wrong = 'wrong-' + [guid]::NewGuid().ToString('N')
        $url = "postgres://$($pg.User):$wrong@127.0.0.1:$($pg.Port)/$($pg.Database)"
        $text = Get-AllStreams { Get-AcmeCertificate -StatePath $url -Verbose }
        $err = Get-Failure { Get-AcmeCertificate -StatePath $url }
        $err.FullyQualifiedErrorId | Should -BeLike 'AcmeStateDatabaseAuthenticationFailed,*'
        "$($err.CategoryInfo.Category)" | Should -Be 'AuthenticationError'
        $err.Exception.Message | Should -Match '28P01'
        $text.Contains($wrong) | Should -BeFalse
        $text | Should -Match 'AcmeStateDatabaseAuthenticationFailed|refused the login'
    }

    It 'says AcmeStateDatabaseUnavailable for a port nothing listens on' {
        $port = Get-FreeTcpPort
        $err = Get-Failure { Get-AcmeCertificate -StatePath "postgres://$($pg.User):$($pg.Password)@127.0.0.1:$port/$($pg.Database)?connect_timeout=5" }
        $err.FullyQualifiedErrorId | Should -BeLike 'AcmeStateDatabaseUnavailable,*'
        "$($err.CategoryInfo.Category)" | Should -Be 'ConnectionError'
        "$err $($err.Exception)".Contains($pg.Password) | Should -BeFalse
    }

    It 'says AcmeStateDatabaseUnavailable for a database that does not exist, and InvalidStatePath for an unknown option' {
        (Get-Failure { Get-AcmeCertificate -StatePath "postgres://$($pg.User):$($pg.Password)@127.0.0.1:$($pg.Port)/nosuchdb" }).FullyQualifiedErrorId |
            Should -BeLike 'AcmeStateDatabaseUnavailable,*'
        $err = Get-Failure { Get-AcmeCertificate -StatePath "postgres://$($pg.User):$($pg.Password)@127.0.0.1:$($pg.Port)/$($pg.Database)?bogus=1" }
        $err.FullyQualifiedErrorId | Should -BeLike 'AcmeInvalidStatePath,*'
        "$err".Contains($pg.Password) | Should -BeFalse
    }

    It 'says AcmeStateSchemaMissing for a database without the schema' {
        Invoke-TestPsql $pg "CREATE DATABASE empty OWNER $($pg.User)" | Out-Null
        $err = Get-Failure { Get-AcmeCertificate -StatePath "postgres://$($pg.User):$($pg.Password)@127.0.0.1:$($pg.Port)/empty" }
        $err.FullyQualifiedErrorId | Should -BeLike 'AcmeStateSchemaMissing,*'
        "$($err.CategoryInfo.Category)" | Should -Be 'ObjectNotFound'
        $err.ErrorDetails.RecommendedAction | Should -Match 'Initialize-AcmeStateStore'
    }

    It 'says AcmeStateSchemaNewer for a schema a later module made, and leaves it alone' {
        Invoke-TestPsql $pg "CREATE DATABASE newer OWNER $($pg.User)" | Out-Null
        $url = "postgres://$($pg.User):$($pg.Password)@127.0.0.1:$($pg.Port)/newer"
        $null = Initialize-AcmeStateStore -StatePath $url
        Invoke-TestPsql $pg "INSERT INTO acme.schema_version (version, module_version) VALUES (99, '9.9')" -Database newer | Out-Null
        $err = Get-Failure { Initialize-AcmeStateStore -StatePath $url }
        $err.FullyQualifiedErrorId | Should -BeLike 'AcmeStateSchemaNewer,*'
        "$($err.CategoryInfo.Category)" | Should -Be 'InvalidOperation'
        $err.Exception.Message | Should -Match '99'
        (Get-Failure { Get-AcmeCertificate -StatePath $url }).FullyQualifiedErrorId | Should -BeLike 'AcmeStateSchemaNewer,*'
        Invoke-TestPsql $pg 'SELECT max(version) FROM acme.schema_version' -Database newer | Should -Be 99
    }

    It 'takes libpq options: sslmode, connect_timeout, application_name' {
        $err = $null
        $null = Get-AcmeCertificate -StatePath "$($pg.Url)?sslmode=disable&connect_timeout=5&application_name=acme-test" -KeyPassphrase $secure -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -BeNullOrEmpty
        $tls = Get-Failure { Get-AcmeCertificate -StatePath "$($pg.Url)?sslmode=verify-full&connect_timeout=5" }
        $tls.FullyQualifiedErrorId | Should -Match '^AcmeStateDatabase(Unavailable|Failed),' -Because 'this cluster has no TLS, so verify-full cannot connect'
        "$tls $($tls.Exception)".Contains($pg.Password) | Should -BeFalse
    }

    It 'refuses a folder path with AcmeInvalidStatePath' {
        (Get-Failure { Initialize-AcmeStateStore -StatePath (Join-Path $TestDrive 'folder') }).FullyQualifiedErrorId | Should -BeLike 'AcmeInvalidStatePath,*'
    }
}
