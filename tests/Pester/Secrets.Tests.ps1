#Requires -Version 7.2
<#
    No secret leaves through a stream: a full issuance with -Verbose -Debug on every cmdlet, an account
    bound with EAB, its key exported with a passphrase and rolled over, a PFX password, and failures on
    purpose (a wrong HMAC key among them), run in its own PowerShell so every stream is captured
    (output, error, warning, verbose, debug, information and progress), plus every error's full
    exception text and every file written but key.pem. None may hold a private key, a password or
    passphrase, or an HMAC key. The state folder (issue 5) joins the files scanned when it lands.
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
    $script:pebble = Start-TestPebble -ExternalAccountMacKeys @{ 'secrets-kid' = [Acme.Protocol.Base64Url]::Encode($hmacKey) }

    # The text forms a secret could leak in: as is, base64, base64url and hex.
    function Get-SecretForm([Parameter(Mandatory)] $Secret) {
        $bytes = if ($Secret -is [string]) { [System.Text.Encoding]::UTF8.GetBytes($Secret) } else { [byte[]]$Secret }
        if ($Secret -is [string]) { $Secret }
        [Convert]::ToBase64String($bytes)
        [Acme.Protocol.Base64Url]::Encode($bytes)
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
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript($issuance).AddArgument($env:ACME_TEST_MODULE).AddArgument($pebble).AddArgument($password).AddArgument($passphrase).
                AddArgument([Acme.Protocol.Base64Url]::Encode($hmacKey)).AddArgument([Acme.Protocol.Base64Url]::Encode($wrongHmacKey)).AddArgument($out)
            $output = @($ps.Invoke())
            # Copied out: disposing the PowerShell clears its streams.
            $streams = [pscustomobject]@{
                Error = @($ps.Streams.Error); Warning = @($ps.Streams.Warning); Verbose = @($ps.Streams.Verbose)
                Debug = @($ps.Streams.Debug); Information = @($ps.Streams.Information); Progress = @($ps.Streams.Progress)
            }
        } finally {
            $ps.Dispose()
        }
        $firstKey = $output | Where-Object { $_ -is [Acme.Protocol.Crypto.AcmeKey] }
        $account = $output | Where-Object { $_ -is [Acme.Protocol.AcmeAccount] }
        $cert = $output | Where-Object { $_ -is [Acme.Protocol.AcmeCertificate] }
        $streams.Error | ForEach-Object { Write-Host "    expected failure: $($_.FullyQualifiedErrorId)" }
        $account.Key.Thumbprint | Should -Not -Be $firstKey.Thumbprint -Because 'the account key was rolled over'
        $cert.Key | Should -Not -BeNullOrEmpty

        $corpus = @{
            output      = ($output | ForEach-Object { ($_ | Format-List * | Out-String) + [System.Management.Automation.PSSerializer]::Serialize($_, 3) }) -join "`n"
            error       = ($streams.Error | ForEach-Object { $_.ToString(); $_.Exception.ToString(); $_.ErrorDetails.Message; $_.ErrorDetails.RecommendedAction; $_.TargetObject | Out-String }) -join "`n"
            warning     = ($streams.Warning.Message) -join "`n"
            verbose     = ($streams.Verbose.Message) -join "`n"
            debug       = ($streams.Debug.Message) -join "`n"
            information = ($streams.Information | ForEach-Object { "$($_.MessageData)" }) -join "`n"
            progress    = ($streams.Progress | ForEach-Object { "$($_.Activity) $($_.StatusDescription) $($_.CurrentOperation)" }) -join "`n"
        }
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
