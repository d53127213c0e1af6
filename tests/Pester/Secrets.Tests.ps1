#Requires -Version 7.2
<#
    No secret leaves through a stream: a full issuance with -Verbose -Debug on every cmdlet, an account
    bound with EAB, its key exported with a passphrase and rolled over, a PFX password, and failures on
    purpose (a wrong HMAC key among them), run in its own PowerShell so every stream is captured
    (output, error, warning, verbose, debug, information and progress), plus every error's full
    exception text and every file written but key.pem. None may hold a private key, a password or
    passphrase, or an HMAC key. Then the state folder: every file in it after an issuance with EAB,
    a rollover, New-AcmeCertificate and a wrong passphrase, keys encrypted by -KeyPassphrase and by
    ACME_KEY_PASSPHRASE (key files stay encrypted, so no file holds a secret in the clear); and the
    challenge stores: a Redis password in a connection string (right, wrong, server down, malformed)
    appears in no stream or error.
#>
BeforeDiscovery {
    # These need a Pebble this harness configures (its external account binding keys); an external one is skipped.
    $script:external = [bool]$env:ACME_TEST_DIRECTORY
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:hmacKey = [byte[]]::new(32); [System.Security.Cryptography.RandomNumberGenerator]::Fill($script:hmacKey)
    $script:wrongHmacKey = [byte[]]::new(32); [System.Security.Cryptography.RandomNumberGenerator]::Fill($script:wrongHmacKey)
    $script:pebble = Start-TestPebble -ExternalAccountMacKeys @{ 'secrets-kid' = [Acme.Protocol.Crypto.Base64Url]::Encode($hmacKey) }

    # The text forms a secret could leak in: as is, base64, base64url and hex.
    function Get-SecretForm([Parameter(Mandatory)] $Secret) {
        $bytes = if ($Secret -is [string]) { [System.Text.Encoding]::UTF8.GetBytes($Secret) } else { [byte[]]$Secret }
        if ($Secret -is [string]) { $Secret }
        [Convert]::ToBase64String($bytes)
        [Acme.Protocol.Crypto.Base64Url]::Encode($bytes)
        [Convert]::ToHexString($bytes)
        [Convert]::ToHexString($bytes).ToLowerInvariant()
    }

    # The private parts of a key: its PEM body, and its private scalars (EC d; RSA d, p, q) in every form.
    function Get-PrivateKeyForm([Parameter(Mandatory)][Acme.Protocol.Crypto.AcmeKey] $Key) {
        $pem = $Key.ExportPkcs8Pem()
        ($pem -replace '-----[A-Z ]+-----' -replace '\s').Trim()
        '-----BEGIN PRIVATE KEY-----'
        if ($Key.KeyType -eq 'EC') {
            $ec = [System.Security.Cryptography.ECDsa]::Create(); $ec.ImportFromPem($pem)
            Get-SecretForm $ec.ExportParameters($true).D
        } else {
            $rsa = [System.Security.Cryptography.RSA]::Create(); $rsa.ImportFromPem($pem)
            $p = $rsa.ExportParameters($true)
            foreach ($part in $p.D, $p.P, $p.Q) { Get-SecretForm $part }
        }
    }

    # Runs a script in its own PowerShell and returns its output, its streams and a corpus of their text.
    function Invoke-Streams([scriptblock] $Script, [object[]] $Arguments) {
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript($Script)
            foreach ($a in $Arguments) { $null = $ps.AddArgument($a) }
            $output = @($ps.Invoke())
            # Copied out: disposing the PowerShell clears its streams.
            $streams = [pscustomobject]@{
                Error = @($ps.Streams.Error); Warning = @($ps.Streams.Warning); Verbose = @($ps.Streams.Verbose)
                Debug = @($ps.Streams.Debug); Information = @($ps.Streams.Information); Progress = @($ps.Streams.Progress)
            }
        } finally {
            $ps.Dispose()
        }
        $corpus = @{
            output      = ($output | ForEach-Object { ($_ | Format-List * | Out-String) + [System.Management.Automation.PSSerializer]::Serialize($_, 3) }) -join "`n"
            error       = ($streams.Error | ForEach-Object { $_.ToString(); $_.Exception.ToString(); $_.ErrorDetails.Message; $_.ErrorDetails.RecommendedAction; $_.TargetObject | Out-String }) -join "`n"
            warning     = ($streams.Warning.Message) -join "`n"
            verbose     = ($streams.Verbose.Message) -join "`n"
            debug       = ($streams.Debug.Message) -join "`n"
            information = ($streams.Information | ForEach-Object { "$($_.MessageData)" }) -join "`n"
            progress    = ($streams.Progress | ForEach-Object { "$($_.Activity) $($_.StatusDescription) $($_.CurrentOperation)" }) -join "`n"
        }
        [pscustomobject]@{ Output = $output; Streams = $streams; Corpus = $corpus }
    }

    function Find-Secret([string[]] $Form, [hashtable] $Corpus) {
        foreach ($where in $Corpus.Keys) {
            foreach ($f in $Form) {
                if ($f.Length -ge 8 -and $Corpus[$where].Contains($f, [StringComparison]::Ordinal)) { "$where holds '$($f.Substring(0, 8))...'" }
            }
        }
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'Secrets' -Skip:$external {
    It 'appear in no stream, error or file but key.pem of an issuance with EAB, key export and rollover, a PFX, -Verbose and -Debug' {
        $password = 'pfx-' + [guid]::NewGuid().ToString('N')
        $passphrase = 'key-' + [guid]::NewGuid().ToString('N')
        $out = Join-Path $TestDrive 'out'
        $issuance = {
            param($Module, $Pebble, $Password, $Passphrase, $Hmac, $WrongHmac, $Out)
            $ErrorActionPreference = 'Continue'
            Import-Module $Module
            $secure = ConvertTo-SecureString $Password -AsPlainText -Force
            $securePassphrase = ConvertTo-SecureString $Passphrase -AsPlainText -Force
            $ca = @{ Server = $Pebble.Directory; TrustedRootCertificate = $Pebble.ApiRootPath; AcceptTermsOfService = $true; Verbose = $true; Debug = $true }
            $binding = [pscredential]::new('secrets-kid', (ConvertTo-SecureString $Hmac -AsPlainText -Force))
            $account = New-AcmeAccount @ca -Contact secrets@acme.test -ExternalAccountBinding $binding
            $account.Key
            $account | Export-AcmeAccountKey -Path (Join-Path $Out 'account.key') -Password $securePassphrase -Verbose -Debug
            $account = $account | Update-AcmeAccountKey -NewKeyAlgorithm EC384 -NewKeyExportPath (Join-Path $Out 'new-account.key') -NewKeyPassword $securePassphrase -Confirm:$false -Verbose -Debug
            $cert = $account | New-AcmeOrder -DnsName secrets.test -Verbose -Debug | Start-AcmeHttpChallenge -Port $Pebble.HttpPort -Verbose -Debug |
                Complete-AcmeOrder -KeyAlgorithm RSA2048 -Verbose -Debug
            $cert | Export-AcmeCertificate -Path $Out -PfxPath (Join-Path $Out 'c.pfx') -Password $secure -Verbose -Debug
            # Failures on purpose, with the secrets at hand: a wrong HMAC key, a CA refusal, a local write error.
            New-AcmeAccount @ca -ExternalAccountBinding ([pscredential]::new('secrets-kid', (ConvertTo-SecureString $WrongHmac -AsPlainText -Force)))
            $account | New-AcmeOrder -DnsName blocked.test -Verbose -Debug
            $cert | Export-AcmeCertificate -PfxPath $Out -Password $secure -Verbose -Debug
            $account
            $cert
        }
        $run = Invoke-Streams $issuance @($env:ACME_TEST_MODULE, $pebble, $password, $passphrase, [Acme.Protocol.Crypto.Base64Url]::Encode($hmacKey),
            [Acme.Protocol.Crypto.Base64Url]::Encode($wrongHmacKey), $out)
        $output = $run.Output
        $streams = $run.Streams
        $corpus = $run.Corpus
        $firstKey = $output | Where-Object { $_ -is [Acme.Protocol.Crypto.AcmeKey] }
        $account = $output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeAccount] }
        $cert = $output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] }
        $streams.Error | ForEach-Object { Write-Host "    expected failure: $($_.FullyQualifiedErrorId)" }
        $account.Key.Thumbprint | Should -Not -Be $firstKey.Thumbprint -Because 'the account key was rolled over'
        $cert.Key | Should -Not -BeNullOrEmpty

        foreach ($file in Get-ChildItem $out -File | Where-Object Name -NE 'key.pem') {
            $corpus["file $($file.Name)"] = [System.Text.Encoding]::Latin1.GetString([System.IO.File]::ReadAllBytes($file.FullName))
        }

        # The capture is real: the streams carry the traffic and the binding, the failures happened, and
        # the detector finds a key where it belongs.
        $streams.Verbose.Count | Should -BeGreaterThan 10
        $streams.Debug.Count | Should -BeGreaterThan 10
        $corpus.debug | Should -BeLike '*externalAccountBinding*'
        $streams.Error.Count | Should -Be 3
        $corpus.Keys | Should -Contain 'file c.pfx'
        $corpus.Keys | Should -Contain 'file new-account.key'
        Find-Secret (Get-PrivateKeyForm $cert.Key) @{ 'key.pem' = (Get-Content -Raw (Join-Path $out 'key.pem')) } | Should -Not -BeNullOrEmpty

        $secrets = @(Get-PrivateKeyForm $firstKey) + @(Get-PrivateKeyForm $account.Key) + @(Get-PrivateKeyForm $cert.Key) +
            @(Get-SecretForm $password) + @(Get-SecretForm $passphrase) + @(Get-SecretForm $hmacKey) + @(Get-SecretForm $wrongHmacKey)
        Find-Secret $secrets $corpus | Should -BeNullOrEmpty
    }
}

Describe 'Secrets in the state folder and the challenge stores' -Skip:$external {
    It 'appear in no file of the state folder, whose key files stay encrypted under -KeyPassphrase and ACME_KEY_PASSPHRASE' {
        $sp = Join-Path $TestDrive 'state'
        $passphrase = 'state-' + [guid]::NewGuid().ToString('N')
        $wrongPassphrase = 'wrong-' + [guid]::NewGuid().ToString('N')
        $password = 'pfx-' + [guid]::NewGuid().ToString('N')
        $out = Join-Path $TestDrive 'state-out'
        $null = New-Item -ItemType Directory $out
        $script = {
            param($Module, $Pebble, $StatePath, $Passphrase, $WrongPassphrase, $Password, $Hmac, $Out)
            $ErrorActionPreference = 'Continue'
            Import-Module $Module
            $securePassphrase = ConvertTo-SecureString $Passphrase -AsPlainText -Force
            $ca = @{ Server = $Pebble.Directory; TrustedRootCertificate = $Pebble.ApiRootPath; AcceptTermsOfService = $true; StatePath = $StatePath; Verbose = $true; Debug = $true }
            $binding = [pscredential]::new('secrets-kid', (ConvertTo-SecureString $Hmac -AsPlainText -Force))
            $account = New-AcmeAccount @ca -Name bound -KeyPassphrase $securePassphrase -ExternalAccountBinding $binding
            $account.Key
            $account = $account | Update-AcmeAccountKey -NewKeyAlgorithm EC384 -Confirm:$false -Verbose -Debug
            $cert = $account | New-AcmeOrder -DnsName state-secrets.test -Verbose -Debug | Start-AcmeHttpChallenge -Port $Pebble.HttpPort -Verbose -Debug |
                Complete-AcmeOrder -KeyAlgorithm RSA2048 -Verbose -Debug
            $cert | Export-AcmeCertificate -PfxPath (Join-Path $Out 'c.pfx') -Password (ConvertTo-SecureString $Password -AsPlainText -Force) -Verbose -Debug | Out-Null
            $env:ACME_KEY_PASSPHRASE = $Passphrase
            try {
                $oneShot = New-AcmeCertificate -DnsName oneshot-secrets.test @ca -HttpPort $Pebble.HttpPort -PfxPath (Join-Path $Out 'one.pfx') -Password (ConvertTo-SecureString $Password -AsPlainText -Force)
                # A renewal check and a read back, with the passphrase from the environment.
                Get-AcmeCertificate -StatePath $StatePath | Test-AcmeRenewal -Verbose -Debug | Out-Null
                $default = Get-AcmeAccount -StatePath $StatePath -Name default -Verbose -Debug
            } finally {
                Remove-Item Env:ACME_KEY_PASSPHRASE
            }
            # Failures on purpose: a wrong passphrase, and none at all.
            Get-AcmeAccount -StatePath $StatePath -Name bound -KeyPassphrase (ConvertTo-SecureString $WrongPassphrase -AsPlainText -Force) -Verbose -Debug
            Get-AcmeCertificate -StatePath $StatePath -Name oneshot-secrets.test -Verbose -Debug
            $account
            $cert
            $oneShot
            $default
        }
        $run = Invoke-Streams $script @($env:ACME_TEST_MODULE, $pebble, $sp, $passphrase, $wrongPassphrase, $password, [Acme.Protocol.Crypto.Base64Url]::Encode($hmacKey), $out)
        $keys = @($run.Output | Where-Object { $_ -is [Acme.Protocol.Crypto.AcmeKey] }) + @($run.Output | ForEach-Object { if ($_.Key -is [Acme.Protocol.Crypto.AcmeKey]) { $_.Key } })
        $run.Streams.Error | ForEach-Object { Write-Host "    expected failure: $($_.FullyQualifiedErrorId)" }
        @($run.Streams.Error.FullyQualifiedErrorId | ForEach-Object { ($_ -split ',')[0] }) | Should -Be @('AcmeKeyPasswordIncorrect', 'AcmeKeyPasswordRequired')
        $keys.Count | Should -Be 5 -Because 'the first and the rolled-over account key, two certificate keys and the default account''s key'

        # Every file of the state folder joins the corpus; key files must be encrypted PKCS#8.
        $files = @(Get-ChildItem -LiteralPath $sp -Recurse -Force -File)
        $keyFiles = @($files | Where-Object { (Get-Content -Raw $_.FullName) -match 'PRIVATE KEY-----' })
        $keyFiles.Count | Should -BeGreaterOrEqual 4
        foreach ($file in $keyFiles) { Get-Content -Raw $file.FullName | Should -Match '^-----BEGIN ENCRYPTED PRIVATE KEY-----' -Because $file.FullName }
        @($files | Where-Object Name -Like '*.json').Count | Should -BeGreaterOrEqual 4
        $corpus = $run.Corpus
        foreach ($file in $files) { $corpus["state $($file.FullName.Substring($sp.Length))"] = [System.Text.Encoding]::Latin1.GetString([System.IO.File]::ReadAllBytes($file.FullName)) }

        # The detector finds a key once decrypted.
        $decrypted = [Acme.Protocol.Crypto.AcmeKey]::ImportPem((Get-Content -Raw $keyFiles[0].FullName), $passphrase.ToCharArray())
        Find-Secret (Get-PrivateKeyForm $decrypted) @{ decrypted = $decrypted.ExportPkcs8Pem() } | Should -Not -BeNullOrEmpty

        $secrets = @($keys | ForEach-Object { Get-PrivateKeyForm $_ }) + @(Get-SecretForm $passphrase) + @(Get-SecretForm $wrongPassphrase) +
            @(Get-SecretForm $password) + @(Get-SecretForm $hmacKey)
        Find-Secret $secrets $corpus | Should -BeNullOrEmpty
    }

    It 'never show a Redis password from a connection string: right, wrong, server down, malformed' {
        Import-Module (Join-Path $PSScriptRoot 'ScaleOutHelpers.psm1') -Force
        $redis = Start-TestRedis -Folder (Join-Path $TestDrive 'redis')
        try {
            $wrongPassword = 'wrong-' + [guid]::NewGuid().ToString('N')
            $stores = @(
                "redis://:$($redis.Password)@127.0.0.1:$($redis.Port)/0?prefix=secrets:"
                "redis://:$wrongPassword@127.0.0.1:$($redis.Port)/0"
                "redis://:$($redis.Password)@127.0.0.1:$(Get-FreeTcpPort)/0"
                "redis://:$($redis.Password)@127.0.0.1:notaport"
                "127.0.0.1:$($redis.Port),password=$wrongPassword"
            )
            $script = {
                param($Module, $Account, $Stores, $Port)
                $ErrorActionPreference = 'Continue'
                Import-Module $Module
                $Account | New-AcmeOrder -DnsName redis-secrets.test -LockStore $Stores[0] -Verbose -Debug
                Start-AcmeChallengeResponder -Store $Stores[0] -Port $Port -ListenAddress 127.0.0.1 -TimeoutSec 1 -Verbose
                $pending = $Account | New-AcmeOrder -DnsName redis-failures.test
                $pending | Start-AcmeHttpChallenge -Store $Stores[1] -Verbose -Debug
                Start-AcmeChallengeResponder -Store $Stores[2] -Port $Port -ListenAddress 127.0.0.1 -TimeoutSec 1 -Verbose
                $Account | New-AcmeOrder -DnsName redis-malformed.test -LockStore $Stores[3] -Verbose -Debug
                $pending | Start-AcmeHttpChallenge -Store $Stores[4] -Verbose -Debug
            }
            $run = Invoke-Streams $script @($env:ACME_TEST_MODULE, (New-TestAccount $pebble), $stores, (Get-FreeTcpPort))
        } finally {
            Stop-TestProcess $redis.Process
        }
        $run.Streams.Error | ForEach-Object { Write-Host "    expected failure: $($_.FullyQualifiedErrorId)" }
        @($run.Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] }).Count | Should -Be 1 -Because 'the right password works'
        $run.Streams.Error.Count | Should -Be 3 -Because 'each bad store fails once'
        $run.Streams.Warning.Message | Should -BeLike '*unavailable*' -Because 'the responder on a store that is down warns and carries on'
        $run.Corpus.verbose | Should -BeLike "*127.0.0.1:$($redis.Port)*" -Because 'the store is named, without its password'
        Find-Secret (@(Get-SecretForm $redis.Password) + @(Get-SecretForm $wrongPassword)) $run.Corpus | Should -BeNullOrEmpty
    }
}
