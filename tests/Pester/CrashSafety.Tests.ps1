#Requires -Version 7.2
<#
    Crash safety with real processes and a real Pebble: a child pwsh runs New-AcmeCertificate from the
    test flavour of the module (Get-TestFailpointModule, built with -c Failpoints) with a test-only
    failpoint (ACME_TEST_FAILPOINT, src/Acme.Protocol/Diagnostics/Failpoint.cs) that stops it at a
    named step, or inside a state file's write; the test kills it there (Stop-Process -Force), checks
    the state folder, and runs the same command again. No key the CA has seen is lost or replaced, no
    file is half-written (a temporary file an interrupted write left is swept by the next run), and the
    next run resumes the saved order instead of placing a new one once there is one. Then two
    processes on one folder: one held mid-issuance, the other fails clearly (AcmeStateLocked) on the
    same certificate and issues another meanwhile. And the module build.ps1 Build stages (the one users
    install) ignores ACME_TEST_FAILPOINT: it holds no failpoint at all.
#>
BeforeDiscovery {
    # The failpoints need this harness's Pebble log (request counts); an external CA is skipped.
    $script:external = [bool]$env:ACME_TEST_DIRECTORY
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:failpointModule = Get-TestFailpointModule
    $script:pebble = Start-TestPebble
    $script:ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath; AcceptTermsOfService = $true; HttpPort = $pebble.HttpPort }
    $script:issue = {
        $ErrorActionPreference = 'Stop'
        Import-Module Acme
        $c = New-AcmeCertificate -DnsName $env:T_NAME -Server $env:T_DIR -TrustedRootCertificate $env:T_ROOT -AcceptTermsOfService -HttpPort $env:T_PORT
        "issued $($c.Thumbprint)"
    }.ToString()

    function Get-PebbleCount([string] $Pattern) {
        $pebble.Processes[-1].Log.Flush()
        @(Select-String -LiteralPath $pebble.PebbleLog -Pattern $Pattern).Count
    }

    # Starts New-AcmeCertificate in a child pwsh stopped at $Point, waits until it is there, and kills it.
    function Stop-AtFailpoint([string] $StatePath, [string] $Name, [string] $Point, [hashtable] $Environment = @{}) {
        $signal = Join-Path $TestDrive "$([guid]::NewGuid().ToString('N')).signal"
        $child = Start-TestChild $issue (@{
                ACME_STATE_PATH = $StatePath; T_NAME = $Name; T_DIR = $pebble.Directory; T_ROOT = $pebble.ApiRootPath; T_PORT = $pebble.HttpPort
                ACME_TEST_FAILPOINT = $Point; ACME_TEST_FAILPOINT_SIGNAL = $signal
            } + $Environment) -ModulePath $failpointModule
        try {
            Wait-TestEndpoint -What "the child reaching $Point" -TimeoutSec 90 -Probe { (Test-Path $signal) -or $child.Process.HasExited }
        } finally {
            if (-not $child.Process.HasExited) { Stop-Process -Id $child.Process.Id -Force }
        }
        $ended = Wait-TestChild $child
        Test-Path $signal | Should -BeTrue -Because "the child stopped at $Point (it ended first: $($ended.Out) $($ended.Err))"
        $ended.Out | Should -Not -Match 'issued' -Because 'the process was killed before it finished'
        $ended
    }

    function Get-KeyThumbprint([System.IO.FileInfo[]] $File, [string] $Passphrase) {
        foreach ($f in $File) { [Acme.Protocol.Crypto.AcmeKey]::ImportPem((Get-Content -Raw $f.FullName), $(if ($Passphrase) { $Passphrase.ToCharArray() })).Thumbprint }
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'A process killed at each step' -Skip:$external {
    It 'killed <When> (<Point>): <Then>' -ForEach @(
        @{ Point = 'account-key-saved'; When = 'after saving the account key, before newAccount'; Then = 'the same key makes the account'; NewOrders = 1; NewFinalizes = 1 }
        @{ Point = 'account-saved'; When = 'after newAccount'; Then = 'the saved account is used'; NewOrders = 1; NewFinalizes = 1 }
        @{ Point = 'writing:account.json'; When = 'while account.json is written'; Then = 'the saved key finds the account again'; NewOrders = 1; NewFinalizes = 1 }
        @{ Point = 'order-saved'; When = 'after newOrder'; Then = 'the saved order is resumed'; NewOrders = 0; NewFinalizes = 1 }
        @{ Point = 'challenge-ready'; When = 'with the challenge answer up, before the CA is told'; Then = 'the order is resumed'; NewOrders = 0; NewFinalizes = 1 }
        @{ Point = 'writing:order-key'; When = 'while the certificate key is written'; Then = 'a new key finalizes the resumed order'; NewOrders = 0; NewFinalizes = 1 }
        @{ Point = 'order-key-saved'; When = 'after saving the certificate key, before finalize'; Then = 'that key finalizes the resumed order'; NewOrders = 0; NewFinalizes = 1; KeySeen = $true }
        @{ Point = 'finalized'; When = 'after finalize'; Then = 'the certificate is downloaded for the saved key, not finalized again'; NewOrders = 0; NewFinalizes = 0; KeySeen = $true }
        @{ Point = 'writing:fullchain.pem'; When = 'while the certificate version is written'; Then = 'the version is written again whole'; NewOrders = 0; NewFinalizes = 0; KeySeen = $true }
        @{ Point = 'writing:current'; When = 'before the new version becomes current'; Then = 'the version becomes current'; NewOrders = 0; NewFinalizes = 0; KeySeen = $true }
        @{ Point = 'writing:order-key'; When = 'while an encrypted certificate key is written'; Then = 'every key file, even the interrupted one, stays encrypted'; NewOrders = 0; NewFinalizes = 1; Passphrase = $true }
        @{ Point = 'finalized'; When = 'after finalize, keys encrypted'; Then = 'the encrypted key is read back and used'; NewOrders = 0; NewFinalizes = 0; KeySeen = $true; Passphrase = $true }
    ) {
        $sp = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        $name = ($Point -replace '[^a-z]', '') + $(if ($Passphrase) { '-enc' }) + '.crash.test'
        $environment = @{}
        if ($Passphrase) { $environment.ACME_KEY_PASSPHRASE = 'crash-passphrase-' + [guid]::NewGuid().ToString('N') }

        $null = Stop-AtFailpoint $sp $name $Point $environment

        # The folder as the killed process left it: whole JSON files, owner-only keys, and at most the
        # temporary file of the write that was interrupted.
        $leftovers = @(Get-ChildItem -LiteralPath $sp -Recurse -Force | Where-Object Name -Like '*.tmp')
        if ($Point -like 'writing:*') {
            $leftovers.Count | Should -BeGreaterThan 0 -Because 'the kill landed inside the write'
        } else {
            $leftovers | Should -BeNullOrEmpty
        }
        foreach ($json in Get-StateFile $sp '*.json') { { Get-Content -Raw $json.FullName | ConvertFrom-Json } | Should -Not -Throw -Because $json.FullName }
        $keyFiles = @(Get-ChildItem -LiteralPath $sp -Recurse -Force -File | Where-Object { (Get-Content -Raw $_.FullName) -match 'PRIVATE KEY-----' })
        foreach ($file in $keyFiles) {
            [int][System.IO.File]::GetUnixFileMode($file.FullName) | Should -Be 0x180 -Because "$($file.FullName) holds a key"
            if ($Passphrase) { Get-Content -Raw $file.FullName | Should -Match '^-----BEGIN ENCRYPTED PRIVATE KEY-----' -Because "$($file.FullName) is written encrypted" }
        }
        $accountKey = @(Get-StateFile $sp 'account-key.pem')
        $accountKey.Count | Should -Be 1 -Because 'the account key is saved before newAccount'
        $accountThumbprint = Get-KeyThumbprint $accountKey $environment.ACME_KEY_PASSPHRASE
        $orderKey = @(Get-StateFile $sp 'order-key-*.pem') + @(Get-StateFile $sp 'key.pem')
        if ($KeySeen) { $orderKey.Count | Should -BeGreaterThan 0 -Because 'the certificate key is saved before finalize' }
        $orderKeyThumbprint = @(Get-KeyThumbprint $orderKey $environment.ACME_KEY_PASSPHRASE)
        $savedOrder = Get-AcmeOrder -StatePath $sp -Name $name -ErrorAction SilentlyContinue
        if ($NewOrders) { $savedOrder | Should -BeNullOrEmpty } else { $savedOrder.Status | Should -Not -Be 'Invalid' }
        $orders = Get-PebbleCount 'POST /order-plz'
        $finalizes = Get-PebbleCount 'POST /finalize-order/'

        # The next run: the same command, to the end.
        foreach ($k in $environment.Keys) { Set-Item "Env:$k" $environment[$k] }
        try {
            $certificate = New-AcmeCertificate -DnsName $name -StatePath $sp @ca -ErrorAction Stop
            $account = Get-AcmeAccount -StatePath $sp -Name default
            $saved = Get-AcmeCertificate -StatePath $sp -Name $name
        } finally {
            foreach ($k in $environment.Keys) { Remove-Item "Env:$k" }
        }

        $certificate.Names | Should -Be @($name)
        $saved.Thumbprint | Should -Be $certificate.Thumbprint
        $saved.Key.MatchesCertificate($saved.Certificate) | Should -BeTrue
        $account.KeyThumbprint | Should -Be $accountThumbprint -Because 'the account key saved before newAccount is the account''s key'
        if ($KeySeen) { $certificate.Key.Thumbprint | Should -BeIn $orderKeyThumbprint -Because 'the key saved before finalize is the certificate''s' }
        # Pebble logs a request again when it rejects its nonce (5%), so "none" is exact and "some" is at least one.
        $newOrders = (Get-PebbleCount 'POST /order-plz') - $orders
        $newFinalizes = (Get-PebbleCount 'POST /finalize-order/') - $finalizes
        if ($NewOrders) { $newOrders | Should -BeGreaterThan 0 } else { $newOrders | Should -Be 0 -Because 'the unfinished saved order is resumed, not placed again' }
        if ($NewFinalizes) { $newFinalizes | Should -BeGreaterThan 0 } else { $newFinalizes | Should -Be 0 -Because 'the order was finalized before the kill' }
        if ($savedOrder) { $certificate.Order.Location | Should -Be $savedOrder.Location }
        Assert-StateIntact $sp
        if ($Passphrase) {
            foreach ($file in Get-StateFile $sp '*.pem' | Where-Object { (Get-Content -Raw $_.FullName) -match 'PRIVATE KEY-----' }) {
                Get-Content -Raw $file.FullName | Should -Match '^-----BEGIN ENCRYPTED PRIVATE KEY-----' -Because $file.FullName
            }
        }
    }
}

Describe 'Two processes on one state folder' -Skip:$external {
    It 'the second fails clearly on the certificate the first holds, issues another meanwhile, and resumes the first''s order once it is killed' {
        $sp = Join-Path $TestDrive 'two-processes'
        $null = New-AcmeCertificate -DnsName warmup.crash.test -StatePath $sp @ca
        $signal = Join-Path $TestDrive 'held.signal'
        $holder = Start-TestChild $issue @{
            ACME_STATE_PATH = $sp; T_NAME = 'held.crash.test'; T_DIR = $pebble.Directory; T_ROOT = $pebble.ApiRootPath; T_PORT = $pebble.HttpPort
            ACME_TEST_FAILPOINT = 'challenge-ready'; ACME_TEST_FAILPOINT_SIGNAL = $signal
        } -ModulePath $failpointModule
        try {
            Wait-TestEndpoint -What 'the first process holding held.crash.test' -TimeoutSec 90 -Probe { (Test-Path $signal) -or $holder.Process.HasExited }
            $holder.Process.HasExited | Should -BeFalse

            $common = @{ ACME_STATE_PATH = $sp; T_DIR = $pebble.Directory; T_ROOT = $pebble.ApiRootPath; ACME_STATE_LOCK_TIMEOUT = '2' }
            $blocked = Invoke-TestChild -Environment ($common + @{ T_NAME = 'held.crash.test'; T_PORT = $pebble.HttpPort }) -Script {
                Import-Module Acme
                try {
                    $null = New-AcmeCertificate -DnsName $env:T_NAME -Server $env:T_DIR -TrustedRootCertificate $env:T_ROOT -AcceptTermsOfService -HttpPort $env:T_PORT -ErrorAction Stop
                    'issued'
                } catch {
                    "error $($_.FullyQualifiedErrorId) $($_.CategoryInfo.Category) $($_.Exception.Message)"
                }
            }.ToString()
            # The first process's http-01 listener holds the http port, so this one answers by tls-alpn-01.
            $other = Invoke-TestChild ($issue -replace '-HttpPort', '-TlsAlpnPort') ($common + @{ T_NAME = 'other.crash.test'; T_PORT = $pebble.TlsPort })
        } finally {
            if (-not $holder.Process.HasExited) { Stop-Process -Id $holder.Process.Id -Force }
            $null = Wait-TestChild $holder
        }

        $blocked.Out | Should -Match 'error AcmeStateLocked,\S+ ResourceBusy' -Because "the certificate is held by the first process ($($blocked.Err))"
        $other.ExitCode | Should -Be 0 -Because $other.Err
        $other.Out | Should -Match 'issued [0-9A-F]{40}'
        Get-AcmeCertificate -StatePath $sp -Name held.crash.test -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

        $held = Get-AcmeOrder -StatePath $sp -Name held.crash.test
        $orders = Get-PebbleCount 'POST /order-plz'
        $resumed = New-AcmeCertificate -DnsName held.crash.test -StatePath $sp @ca
        $resumed.Names | Should -Be @('held.crash.test')
        $resumed.Order.Location | Should -Be $held.Location -Because 'the killed process''s order is resumed'
        Get-PebbleCount 'POST /order-plz' | Should -Be $orders
        @(Get-AcmeAccount -StatePath $sp).Name | Should -Be @('default')
        Assert-StateIntact $sp
    }
}

Describe 'The module build.ps1 Build stages (the one users install)' {
    It 'holds no failpoint: its Acme.Protocol.dll never names ACME_TEST_FAILPOINT, the test flavour''s does' {
        # .NET keeps string literals in UTF-16 (the #US heap) and names in UTF-8: look for both.
        function Test-Names([string] $Manifest) {
            $bytes = [System.IO.File]::ReadAllBytes((Join-Path (Split-Path $Manifest) 'Acme.Protocol.dll'))
            $text = [System.Text.Encoding]::Unicode.GetString($bytes) + [System.Text.Encoding]::Unicode.GetString($bytes, 1, $bytes.Length - 1) +
                [System.Text.Encoding]::UTF8.GetString($bytes)
            $text.Contains('ACME_TEST_FAILPOINT')
        }
        Test-Names $env:ACME_TEST_MODULE | Should -BeFalse -Because "$env:ACME_TEST_MODULE is the module build.ps1 Build stages and Package ships"
        Test-Names $failpointModule | Should -BeTrue -Because 'the test flavour reads the variable (so the check above can fail)'
    }

    It 'ignores ACME_TEST_FAILPOINT=<Point>: New-AcmeCertificate runs to the end and the signal file is never created' -Skip:$external -ForEach @(
        @{ Point = 'order-saved' }
        @{ Point = 'writing:order-key' }
    ) {
        $sp = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        $signal = Join-Path $TestDrive "$([guid]::NewGuid().ToString('N')).signal"
        $name = ($Point -replace '[^a-z]', '') + '.shipped.crash.test'
        $child = Start-TestChild $issue @{
            ACME_STATE_PATH = $sp; T_NAME = $name; T_DIR = $pebble.Directory; T_ROOT = $pebble.ApiRootPath; T_PORT = $pebble.HttpPort
            ACME_TEST_FAILPOINT = $Point; ACME_TEST_FAILPOINT_SIGNAL = $signal
        }
        try {
            Wait-TestEndpoint -What "the child issuing $name" -TimeoutSec 90 -Probe { $child.Process.HasExited -or (Test-Path $signal) }
        } finally {
            if (-not $child.Process.HasExited) { Stop-Process -Id $child.Process.Id -Force }
        }
        $ended = Wait-TestChild $child

        $ended.ExitCode | Should -Be 0 -Because $ended.Err
        $ended.Out | Should -Match 'issued [0-9A-F]{40}'
        Test-Path $signal | Should -BeFalse -Because 'the shipped module has no failpoint to stop at'
        (Get-AcmeCertificate -StatePath $sp -Name $name).Names | Should -Be @($name)
        Assert-StateIntact $sp
    }
}
