#Requires -Version 7.2
# Update-AcmeKeyPassphrase: every secret of a state (account keys, certificate keys of every version,
# sealed DNS provider secrets) re-encrypted with a new passphrase, in a folder and in a real PostgreSQL;
# interrupted halfway (a failpoint of the test flavour stops the child after N secrets, then it is
# killed) and run again; -WhatIf writes nothing; a wrong old passphrase writes nothing; no passphrase in
# any stream. Against a real Pebble.
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:pebble = Start-TestPebble -AuthzReusePercent 0
    $script:ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath }
    $script:oldText = 'old-pass-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    $script:newText = 'new-pass-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    $script:old = ConvertTo-SecureString $oldText -AsPlainText -Force
    $script:new = ConvertTo-SecureString $newText -AsPlainText -Force
    $script:dnsSecret = 'dns-token-' + [guid]::NewGuid().ToString('N')

    # 2 accounts, 3 certificates (the third with 2 versions), a saved DNS provider with a sealed secret.
    function New-RotationState([string] $StatePath, [securestring] $Passphrase, [string] $Suffix) {
        $issue = @{ StatePath = $StatePath; HttpPort = $pebble.HttpPort; AcceptTermsOfService = $true; Confirm = $false } + $ca
        if ($Passphrase) { $issue.KeyPassphrase = $Passphrase }
        $null = New-AcmeCertificate -DnsName "a$Suffix.rot.test" @issue
        $accountArgs = @{ Name = 'second'; StatePath = $StatePath; AcceptTermsOfService = $true } + $ca
        if ($Passphrase) { $accountArgs.KeyPassphrase = $Passphrase }
        $null = New-AcmeAccount @accountArgs
        $null = New-AcmeCertificate -DnsName "b$Suffix.rot.test" -AccountName second @issue
        $null = New-AcmeCertificate -DnsName "c$Suffix.rot.test" @issue
        $null = New-AcmeCertificate -DnsName "c$Suffix.rot.test" -Force @issue
        if ($Passphrase) {
            $server = (Get-AcmeAccount -Name default -StatePath $StatePath -KeyPassphrase $Passphrase).Server
            $chars = [System.Net.NetworkCredential]::new('', $Passphrase).Password.ToCharArray()
            $store = [Acme.Protocol.State.AcmeStateStore]::new($StatePath, $chars)
            $values = [Acme.Protocol.State.SavedDnsProviderValue[]] @(
                [Acme.Protocol.State.SavedDnsProviderValue]::new('Server', '127.0.0.1', $false)
                [Acme.Protocol.State.SavedDnsProviderValue]::new('Token', $dnsSecret, $true))
            $null = $store.WriteDnsProvider($server, "a$Suffix.rot.test", [Acme.Protocol.State.SavedDnsProvider]::new('Rfc2136', $values, $null, $null))
        }
    }

    function Get-KeyFiles([string] $StatePath) { @(Get-ChildItem -LiteralPath $StatePath -Recurse -File | Where-Object Name -Match 'key.*\.pem$') }

    function Test-Opens([string] $Pem, [string] $Passphrase) {
        try { $null = [Acme.Protocol.Crypto.AcmeKey]::ImportPem($Pem, $Passphrase.ToCharArray()); $true } catch { $false }
    }

    function Get-Hashes([string] $StatePath) {
        Get-ChildItem -LiteralPath $StatePath -Recurse -File | Where-Object Name -NE '.lock' | Sort-Object FullName |
            ForEach-Object { "$($_.FullName)=$((Get-FileHash -LiteralPath $_.FullName).Hash)" }
    }

    . (Join-Path $PSScriptRoot 'TestStreams.ps1')
}
AfterAll { Stop-TestPebble $pebble }

Describe 'Update-AcmeKeyPassphrase on a state folder' {
    BeforeAll {
        $script:sp = Join-Path $TestDrive 'folder'
        New-RotationState $sp $old '1'
    }

    It 'has 2 account keys, 4 certificate keys and a sealed DNS secret to rotate' {
        @(Get-KeyFiles $sp | Where-Object Name -EQ 'account-key.pem').Count | Should -Be 2
        @(Get-KeyFiles $sp | Where-Object Name -EQ 'key.pem').Count | Should -Be 4
        $provider = Get-ChildItem -LiteralPath $sp -Recurse -Filter dns-provider.json
        (Get-Content -Raw $provider.FullName) | Should -Match '"sealed"'
        (Get-Content -Raw $provider.FullName).Contains($dnsSecret) | Should -BeFalse
    }

    It '-WhatIf lists what would be re-encrypted and writes nothing' {
        $before = Get-Hashes $sp
        $shown = Invoke-TestChild ('Import-Module Acme; Update-AcmeKeyPassphrase -StatePath $env:T_STATE -KeyPassphrase (ConvertTo-SecureString $env:T_OLD -AsPlainText -Force) ' +
            '-NewKeyPassphrase (ConvertTo-SecureString $env:T_NEW -AsPlainText -Force) -WhatIf') @{ T_STATE = $sp; T_OLD = $oldText; T_NEW = $newText }
        $shown.Out | Should -Match 'What if: Re-encrypt with the new key passphrase: \d+ secrets in' -Because $shown.Err
        $shown.Out | Should -Match 'accounts/second/account-key\.pem'
        $shown.Out | Should -Match 'certificates/a1\.rot\.test/dns-provider\.json'
        $shown.Out.Contains($oldText) -or $shown.Out.Contains($newText) | Should -BeFalse
        $result = Update-AcmeKeyPassphrase -StatePath $sp -KeyPassphrase $old -NewKeyPassphrase $new -WhatIf
        $result | Should -BeNullOrEmpty
        Get-Hashes $sp | Should -Be $before
        Test-Path (Join-Path $sp 'key-passphrase.json') | Should -BeFalse
    }

    It 'refuses a wrong old passphrase with AcmeKeyPasswordIncorrect before writing anything' {
        $before = Get-Hashes $sp
        $wrong = ConvertTo-SecureString 'not-the-passphrase' -AsPlainText -Force
        { Update-AcmeKeyPassphrase -StatePath $sp -KeyPassphrase $wrong -NewKeyPassphrase $new -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'AcmeKeyPasswordIncorrect,*'
        Get-Hashes $sp | Should -Be $before
    }

    It 'is interrupted after 3 secrets (child killed), every key opens with the old or the new passphrase, and a rerun completes' {
        $signal = Join-Path $TestDrive 'rotate.signal'
        $script = '$ErrorActionPreference = "Stop"; Import-Module Acme; ' +
            'Update-AcmeKeyPassphrase -StatePath $env:T_STATE -KeyPassphrase (ConvertTo-SecureString $env:T_OLD -AsPlainText -Force) ' +
            '-NewKeyPassphrase (ConvertTo-SecureString $env:T_NEW -AsPlainText -Force) -Force | Out-Null'
        $environment = @{ T_STATE = $sp; T_OLD = $oldText; T_NEW = $newText; ACME_TEST_FAILPOINT = 'key-rotated:3'; ACME_TEST_FAILPOINT_SIGNAL = $signal }
        $child = Start-TestChild $script $environment -ModulePath (Get-TestFailpointModule)
        try {
            Wait-TestEndpoint -What 'the child reaching key-rotated:3' -TimeoutSec 120 -Probe { (Test-Path $signal) -or $child.Process.HasExited }
        } finally {
            if (-not $child.Process.HasExited) { Stop-Process -Id $child.Process.Id -Force }
        }
        $ended = Wait-TestChild $child
        Test-Path $signal | Should -BeTrue -Because "the child stopped after 3 secrets ($($ended.Out) $($ended.Err))"

        $keys = Get-KeyFiles $sp
        $newCount = 0
        foreach ($key in $keys) {
            $pem = Get-Content -Raw $key.FullName
            $byNew = Test-Opens $pem $newText
            $byOld = Test-Opens $pem $oldText
            ($byNew -or $byOld) | Should -BeTrue -Because "$($key.FullName) is whole"
            if ($byNew) { $newCount++ }
        }
        $newCount | Should -BeGreaterThan 0
        $newCount | Should -BeLessThan $keys.Count

        # A read with the old passphrase of a key already re-encrypted says the passphrase was changed.
        $failed = $null
        foreach ($name in 'default', 'second') {
            $null = Get-AcmeAccount -Name $name -StatePath $sp -KeyPassphrase $old -ErrorVariable +failed -ErrorAction SilentlyContinue
        }
        foreach ($name in 'a1.rot.test', 'b1.rot.test', 'c1.rot.test') {
            $null = Get-AcmeCertificate -Name $name -StatePath $sp -KeyPassphrase $old -ErrorVariable +failed -ErrorAction SilentlyContinue
        }
        @($failed).Count | Should -BeGreaterThan 0
        @($failed)[0].FullyQualifiedErrorId | Should -BeLike 'AcmeKeyPassphraseChanged,*'
        @($failed)[0].Exception.Message | Should -BeLike '*did not finish*'

        $total = $keys.Count + 1
        $result = Update-AcmeKeyPassphrase -StatePath $sp -KeyPassphrase $old -NewKeyPassphrase $new -Force
        $result.Failed | Should -Be 0
        $result.AlreadyRotated | Should -Be 3 -Because 'the killed run re-encrypted 3 secrets'
        $result.Rotated | Should -Be ($total - 3) -Because 'every key file and the DNS provider file'
        @($result.AlreadyRotatedItems) + @($result.RotatedItems) | ForEach-Object { $_ | Should -Match '^[^/]+/(accounts|certificates)/' }
        $all = @($result.AlreadyRotatedItems) + @($result.RotatedItems)
        @($all | Where-Object { $_ -like '*/certificates/a1.rot.test/dns-provider.json' }).Count | Should -Be 1
        @($all | Where-Object { $_ -like '*/accounts/second/account-key.pem' }).Count | Should -Be 1
        @($all | Where-Object { $_ -like '*/certificates/c1.rot.test/*/key.pem' }).Count | Should -Be 2 -Because 'both versions of c1.rot.test have a key'
    }

    It 'leaves every secret opening with the new passphrase only, owner-only' {
        foreach ($key in Get-KeyFiles $sp) {
            $pem = Get-Content -Raw $key.FullName
            Test-Opens $pem $newText | Should -BeTrue -Because $key.FullName
            Test-Opens $pem $oldText | Should -BeFalse -Because $key.FullName
            if (-not $IsWindows) { ([System.IO.File]::GetUnixFileMode($key.FullName)) | Should -Be ([System.IO.UnixFileMode] 'UserRead, UserWrite') }
        }
        $server = (Get-AcmeAccount -Name default -StatePath $sp -KeyPassphrase $new).Server
        $store = [Acme.Protocol.State.AcmeStateStore]::new($sp, $newText.ToCharArray())
        ($store.ReadDnsProvider($server, 'a1.rot.test').Values | Where-Object Name -EQ 'Token').Value | Should -Be $dnsSecret
        $oldStore = [Acme.Protocol.State.AcmeStateStore]::new($sp, $oldText.ToCharArray())
        $thrown = $null
        try { $null = $oldStore.ReadDnsProvider($server, 'a1.rot.test') } catch { $thrown = $_.Exception.InnerException }
        $thrown | Should -BeOfType ([Acme.Protocol.Errors.AcmeArgumentException])
        $thrown.Id | Should -Be 'KeyPassphraseChanged'
        $thrown.Message | Should -BeLike '*was changed at*'
    }

    It 'renews a certificate from Pebble with the new passphrase; the old one fails with AcmeKeyPassphraseChanged' {
        $issue = @{ StatePath = $sp; HttpPort = $pebble.HttpPort; AcceptTermsOfService = $true; Confirm = $false } + $ca
        { New-AcmeCertificate -DnsName b1.rot.test -AccountName second -Force -KeyPassphrase $old @issue -ErrorAction Stop } |
            Should -Throw -ErrorId 'AcmeKeyPassphraseChanged,*'
        $renewed = New-AcmeCertificate -DnsName b1.rot.test -AccountName second -Force -KeyPassphrase $new @issue
        $renewed.Result | Should -Be 'Renewed'
        Test-Opens (Get-Content -Raw (Get-KeyFiles $sp | Where-Object { $_.FullName -like "*$($renewed.Thumbprint)*" }).FullName) $newText | Should -BeTrue
    }

    It 'run again changes nothing: every secret already opens with the new passphrase' {
        $before = Get-Hashes $sp
        $again = Update-AcmeKeyPassphrase -StatePath $sp -KeyPassphrase $old -NewKeyPassphrase $new -Force
        $again.Rotated | Should -Be 0
        $again.AlreadyRotated | Should -BeGreaterOrEqual 8
        Get-Hashes $sp | Should -Be $before
    }

    It 'shows the change as a table and a list' {
        $again = Update-AcmeKeyPassphrase -StatePath $sp -KeyPassphrase $new -NewKeyPassphrase $new -Force
        ($again | Format-Table | Out-String) | Should -Match 'Rotated\s+AlreadyRotated\s+Failed'
        ($again | Format-List | Out-String) | Should -Match 'AlreadyRotatedItems'
    }
}

Describe 'Update-AcmeKeyPassphrase from none to one, and back' {
    BeforeAll {
        $script:plain = Join-Path $TestDrive 'plain'
        New-RotationState $plain $null '2'
    }

    It 'encrypts a folder of unencrypted keys, and no passphrase or key is in any stream' {
        Get-KeyFiles $plain | ForEach-Object { Get-Content -Raw $_.FullName | Should -Match 'BEGIN PRIVATE KEY' }
        $pems = @(Get-KeyFiles $plain | ForEach-Object { (Get-Content $_.FullName)[1] })
        $script:result = $null
        $text = Get-AllStreams { $script:result = Update-AcmeKeyPassphrase -StatePath $plain -NewKeyPassphrase $new -Force -Verbose -Debug -WarningAction Continue; $script:result }
        $result.Rotated | Should -Be (Get-KeyFiles $plain).Count
        $result.Encrypted | Should -BeTrue
        $text | Should -Match 'Re-encrypted'
        $text.Contains($newText) | Should -BeFalse
        foreach ($line in $pems) { $text.Contains($line) | Should -BeFalse }
        Get-KeyFiles $plain | ForEach-Object { Test-Opens (Get-Content -Raw $_.FullName) $newText | Should -BeTrue }
    }

    It 'removes the passphrase of a folder with -RemoveKeyPassphrase' {
        $result = Update-AcmeKeyPassphrase -StatePath $plain -KeyPassphrase $new -RemoveKeyPassphrase -Force
        $result.Rotated | Should -Be (Get-KeyFiles $plain).Count
        $result.Encrypted | Should -BeFalse
        Get-KeyFiles $plain | ForEach-Object { Get-Content -Raw $_.FullName | Should -Match 'BEGIN PRIVATE KEY' }
        (Get-AcmeAccount -Name second -StatePath $plain).Name | Should -Be 'second'
    }
}

Describe 'Update-AcmeKeyPassphrase on a PostgreSQL state' {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'PostgresServer.psm1') -Force
        $script:pg = Start-TestPostgres
        $null = Initialize-AcmeStateStore -StatePath $pg.Url
        New-RotationState $pg.Url $old '3'
        function Get-DatabaseKeys { @(Invoke-TestPsql $pg "SELECT path || '|' || replace(content, E'\n', '~') FROM acme.item WHERE is_key AND content LIKE '-----BEGIN%PRIVATE KEY-----%' ORDER BY path" -Database $pg.Database) }
        function Get-DatabaseHash { (Invoke-TestPsql $pg "SELECT md5(string_agg(path || content, ',' ORDER BY path)) FROM acme.item WHERE NOT is_folder AND path NOT LIKE '%.lock'" -Database $pg.Database) }
    }
    AfterAll {
        if ($script:pg) { Stop-TestPostgres $pg }
    }

    It '-WhatIf writes nothing to the database' {
        $before = Get-DatabaseHash
        Update-AcmeKeyPassphrase -StatePath $pg.Url -KeyPassphrase $old -NewKeyPassphrase $new -WhatIf | Should -BeNullOrEmpty
        Get-DatabaseHash | Should -Be $before
    }

    It 'refuses to remove the passphrase of a database not initialized with -AllowPlaintextKeys' {
        $before = Get-DatabaseHash
        { Update-AcmeKeyPassphrase -StatePath $pg.Url -KeyPassphrase $old -RemoveKeyPassphrase -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'AcmeStatePlaintextKeyRefused,*'
        Get-DatabaseHash | Should -Be $before
    }

    It 'is interrupted after 2 secrets, then a rerun re-encrypts every key and sealed secret; the password and passphrases are in no stream' {
        $signal = Join-Path $TestDrive 'pg-rotate.signal'
        $script = '$ErrorActionPreference = "Stop"; Import-Module Acme; ' +
            'Update-AcmeKeyPassphrase -StatePath $env:T_STATE -KeyPassphrase (ConvertTo-SecureString $env:T_OLD -AsPlainText -Force) ' +
            '-NewKeyPassphrase (ConvertTo-SecureString $env:T_NEW -AsPlainText -Force) -Force | Out-Null'
        $environment = @{ T_STATE = $pg.Url; T_OLD = $oldText; T_NEW = $newText; ACME_TEST_FAILPOINT = 'key-rotated:2'; ACME_TEST_FAILPOINT_SIGNAL = $signal }
        $child = Start-TestChild $script $environment -ModulePath (Get-TestFailpointModule)
        try {
            Wait-TestEndpoint -What 'the child reaching key-rotated:2' -TimeoutSec 120 -Probe { (Test-Path $signal) -or $child.Process.HasExited }
        } finally {
            if (-not $child.Process.HasExited) { Stop-Process -Id $child.Process.Id -Force }
        }
        $ended = Wait-TestChild $child
        Test-Path $signal | Should -BeTrue -Because "the child stopped after 2 secrets ($($ended.Out) $($ended.Err))"
        $keys = Get-DatabaseKeys
        $keys.Count | Should -BeGreaterOrEqual 6
        $opened = foreach ($row in $keys) {
            $pem = ($row -split '\|', 2)[1] -replace '~', "`n"
            $byNew = Test-Opens $pem $newText
            ($byNew -or (Test-Opens $pem $oldText)) | Should -BeTrue -Because ($row -split '\|')[0]
            $byNew
        }
        @($opened | Where-Object { $_ }).Count | Should -BeGreaterThan 0

        $script:result = $null
        $text = Get-AllStreams { $script:result = Update-AcmeKeyPassphrase -StatePath $pg.Url -KeyPassphrase $old -NewKeyPassphrase $new -Force -Verbose -Debug -WarningAction Continue; $script:result }
        $result.Failed | Should -Be 0
        $result.AlreadyRotated | Should -Be 2
        $result.Rotated | Should -Be ($keys.Count + 1 - 2)
        $result.StatePath | Should -Not -BeLike "*$($pg.Password)*"
        foreach ($secret in $pg.Password, $oldText, $newText, $dnsSecret) { $text.Contains($secret) | Should -BeFalse }
        foreach ($row in Get-DatabaseKeys) {
            $pem = ($row -split '\|', 2)[1] -replace '~', "`n"
            Test-Opens $pem $newText | Should -BeTrue
            Test-Opens $pem $oldText | Should -BeFalse
        }
    }

    It 'holds at most a few locks at a time: it completes with a connection pool smaller than the count of certificates and accounts' {
        # Each lock holds a connection of its own; holding every certificate's at once would exhaust this pool.
        $small = "$($pg.Url)?maxpoolsize=4"
        $owners = @(Invoke-TestPsql $pg "SELECT count(*) FROM acme.item WHERE is_folder AND (path ~ '/certificates/[^/]+$' OR path ~ '/accounts/[^/]+$')" -Database $pg.Database)
        [int]$owners[0] | Should -BeGreaterThan 4
        $back = Update-AcmeKeyPassphrase -StatePath $small -KeyPassphrase $new -NewKeyPassphrase $old -Force
        $back.Failed | Should -Be 0
        $back.Rotated | Should -BeGreaterOrEqual 6
        foreach ($row in Get-DatabaseKeys) { Test-Opens (($row -split '\|', 2)[1] -replace '~', "`n") $oldText | Should -BeTrue }
        $again = Update-AcmeKeyPassphrase -StatePath $small -KeyPassphrase $old -NewKeyPassphrase $new -Force
        $again.Rotated | Should -Be $back.Rotated
    }

    It 'renews from Pebble with the new passphrase; the old one fails with AcmeKeyPassphraseChanged' {
        $issue = @{ StatePath = $pg.Url; HttpPort = $pebble.HttpPort; AcceptTermsOfService = $true; Confirm = $false } + $ca
        { New-AcmeCertificate -DnsName a3.rot.test -Force -KeyPassphrase $old @issue -ErrorAction Stop } | Should -Throw -ErrorId 'AcmeKeyPassphraseChanged,*'
        (New-AcmeCertificate -DnsName a3.rot.test -Force -KeyPassphrase $new @issue).Result | Should -Be 'Renewed'
        $server = (Get-AcmeAccount -Name default -StatePath $pg.Url -KeyPassphrase $new).Server
        $store = [Acme.Protocol.State.AcmeStateStore]::new($pg.Url, $newText.ToCharArray())
        ($store.ReadDnsProvider($server, 'a3.rot.test').Values | Where-Object Name -EQ 'Token').Value | Should -Be $dnsSecret
    }
}
