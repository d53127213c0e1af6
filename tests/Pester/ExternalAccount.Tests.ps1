#Requires -Version 7.2
# External account binding (RFC 8555 section 7.3.4) against a Pebble that requires it.
BeforeDiscovery {
    $script:external = [bool]$env:ACME_TEST_DIRECTORY
}

Describe 'A CA that requires external account binding' -Skip:$external {
    BeforeAll {
        Import-Module $env:ACME_TEST_MODULE -Force
        Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
        $bytes = [byte[]]::new(32)
        [System.Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
        $script:hmac = [Convert]::ToBase64String($bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_')
        # RFC 7518 section 3.2: an HMAC key at least as long as the hash; Pebble 2.10.1 (go-jose v4) enforces it.
        $script:longHmac = @{}
        foreach ($size in 48, 64) {
            $long = [byte[]]::new($size)
            [System.Security.Cryptography.RandomNumberGenerator]::Fill($long)
            $script:longHmac["HS$($size * 8)"] = [Convert]::ToBase64String($long).TrimEnd('=').Replace('+', '-').Replace('/', '_')
        }
        $script:pebble = Start-TestPebble -ExternalAccountBindingRequired -ExternalAccountMacKeys @{
            'kid-1' = $hmac; 'kid-384' = $longHmac.HS384; 'kid-512' = $longHmac.HS512 }
        $script:ca = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath; AcceptTermsOfService = $true }
        $script:binding = [pscredential]::new('kid-1', (ConvertTo-SecureString $hmac -AsPlainText -Force))
    }

    AfterAll {
        if ($script:pebble) { Stop-TestPebble $script:pebble }
    }

    It 'says so in its directory' {
        (Get-AcmeDirectory -Server $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath).ExternalAccountRequired | Should -BeTrue
    }

    It 'refuses an account without a binding before sending newAccount, and says how to give one' {
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        $e = { New-AcmeAccount @ca -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeExternalAccountRequired,*'
        $e.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $e.ErrorDetails.RecommendedAction | Should -BeLike '*-ExternalAccountBinding*'
        $e.ErrorDetails.RecommendedAction | Should -BeLike '*-ExternalAccountKeyPath*'
        # At most the directory GET (it may be cached); newAccount would also need a nonce and a POST.
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount - $before | Should -BeLessOrEqual 1
    }

    It 'maps Pebble''s own externalAccountRequired problem to the same ErrorId and advice' {
        # Sent through the core directly, as a client that skipped the check would.
        $root = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem((Get-Content -Raw $pebble.ApiRootPath))
        $server = [Acme.Protocol.Model.AcmeServer]::new([uri]$pebble.Directory, $root, $false)
        $client = [Acme.Protocol.Client.AcmeClient]::new($server, $null)
        $key = [Acme.Protocol.Crypto.AcmeKey]::Generate('EC256')
        $failure = $null
        try {
            $null = $client.NewAccountAsync($key, [string[]]@(), $true, $null, $false, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
        } catch {
            $failure = $_.Exception.InnerException
        }
        $failure | Should -BeOfType ([Acme.Protocol.Model.AcmeProblemException])
        $failure.Problem.Type | Should -Be 'urn:ietf:params:acme:error:externalAccountRequired'
        $record = [Acme.PowerShell.Errors.AcmeErrorRecords]::Create($failure, $null)
        $record.FullyQualifiedErrorId | Should -Be 'AcmeExternalAccountRequired'
        $record.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $record.ErrorDetails.Message | Should -BeLike '*externalAccountBinding*'
        $record.ErrorDetails.RecommendedAction | Should -BeLike '*-ExternalAccountBinding*'
    }

    It 'creates the account with -ExternalAccountBinding (HS256 by default)' {
        $account = New-AcmeAccount @ca -ExternalAccountBinding $binding -Contact 'eab@acme.test'
        $account.Status | Should -Be 'Valid'
        ($account | New-AcmeOrder -DnsName eab.test).Status | Should -Be 'Pending'
    }

    It 'creates the account with -ExternalAccountKeyId and a key file, with <_>' -ForEach 'HS384', 'HS512' {
        $file = Join-Path $TestDrive "hmac-$_.txt"
        Set-Content -LiteralPath $file -Value $longHmac[$_]
        $account = New-AcmeAccount @ca -ExternalAccountKeyId "kid-$($_.Substring(2))" -ExternalAccountKeyPath $file -ExternalAccountAlgorithm $_
        $account.Status | Should -Be 'Valid'
    }

    It 'refuses an HMAC key shorter than the hash of <_> before any request' -ForEach 'HS384', 'HS512' {
        # The 32-byte key fits HS256 only (RFC 7518 section 3.2); Pebble 2.10.1 would answer "error in cryptographic primitive".
        $file = Join-Path $TestDrive "short-$_.txt"
        Set-Content -LiteralPath $file -Value $hmac
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        $e = { New-AcmeAccount @ca -ExternalAccountKeyId 'kid-1' -ExternalAccountKeyPath $file -ExternalAccountAlgorithm $_ -ErrorAction Stop } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeInvalidBinding,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.Exception.Message | Should -BeLike "*32 bytes; $_ needs one of at least*"
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before
        ($e | Out-String) + $e.Exception.ToString() | Should -Not -Match ([regex]::Escape($hmac))
    }

    It 'reports a wrong HMAC key with Pebble''s detail and never shows the key' {
        $bytes = [byte[]]::new(32)
        [System.Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
        $wrong = [Convert]::ToBase64String($bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_')
        $credential = [pscredential]::new('kid-1', (ConvertTo-SecureString $wrong -AsPlainText -Force))
        $e = { New-AcmeAccount @ca -ExternalAccountBinding $credential -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeUnauthorized,*'
        $e.ErrorDetails.Message | Should -BeLike '*external account binding*'
        ($e | Out-String) + $e.Exception.ToString() | Should -Not -Match ([regex]::Escape($wrong))
    }

    It 'reports an unknown key id' {
        $credential = [pscredential]::new('kid-404', (ConvertTo-SecureString $hmac -AsPlainText -Force))
        $e = { New-AcmeAccount @ca -ExternalAccountBinding $credential -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeUnauthorized,*'
        $e.ErrorDetails.Message | Should -BeLike '*kid*'
    }

    It 'writes the HMAC key to no stream, even with -Verbose and -Debug' {
        $streams = New-AcmeAccount @ca -ExternalAccountBinding $binding -Verbose -Debug *>&1 | Out-String
        $streams | Should -Match 'sign-me-up' -Because 'the trace must have run for this test to mean anything'
        $streams | Should -Not -Match ([regex]::Escape($hmac))
    }

    It 'New-AcmeCertificate refuses to create its account without a binding, creates it with one, then needs it no more' {
        $state = Join-Path $TestDrive 'state-one-shot'
        $common = @{ Server = $pebble.Directory; TrustedRootCertificate = $pebble.ApiRootPath; AcceptTermsOfService = $true
            StatePath = $state; HttpPort = $pebble.HttpPort; Confirm = $false }
        $e = { New-AcmeCertificate @common -DnsName eab-one.test -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeExternalAccountRequired,*'
        $e.ErrorDetails.RecommendedAction | Should -BeLike '*-ExternalAccountBinding*'

        $file = Join-Path $TestDrive 'one-shot-hmac.txt'
        Set-Content -LiteralPath $file -Value $hmac
        $first = New-AcmeCertificate @common -DnsName eab-one.test -ExternalAccountKeyId 'kid-1' -ExternalAccountKeyPath $file -Verbose 4>&1 |
            Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] }
        $first.Names | Should -Be @('eab-one.test')
        $account = Get-AcmeAccount -StatePath $state -Name default
        $account.Status | Should -Be 'Valid'
        $first.Order.Account.Location | Should -Be $account.Location

        $second = New-AcmeCertificate @common -DnsName eab-two.test
        $second.Order.Account.Location | Should -Be $account.Location -Because 'the saved account is used, with no binding needed'
    }

    It 'the AcmeCertificate DSC resource creates its account with ExternalAccountCredential, and Get never returns it' {
        $type = & ([scriptblock]::Create("using module '$env:ACME_TEST_MODULE'`n[AcmeCertificate]"))
        $resource = $type::new()
        $resource.Name = 'eab-dsc.test'
        $resource.DnsName = 'eab-dsc.test'
        $resource.Server = $pebble.Directory
        $resource.TrustedRootCertificate = $pebble.ApiRootPath
        $resource.HttpPort = $pebble.HttpPort
        $resource.AcceptTermsOfService = $true
        $resource.StatePath = Join-Path $TestDrive 'state-dsc'
        $resource.Path = Join-Path $TestDrive 'dsc-out'

        $resource.Test() | Should -BeFalse
        $e = { $resource.Set() } | Should -Throw -PassThru
        "$e" | Should -BeLike '*external account binding*'
        $resource.ExternalAccountCredential = $binding
        $resource.Set()
        $resource.Test() | Should -BeTrue
        $state = $resource.Get()
        $state.Thumbprint | Should -Not -BeNullOrEmpty
        $state.ExternalAccountCredential | Should -BeNullOrEmpty
        Test-Path (Join-Path $resource.Path 'fullchain.pem') | Should -BeTrue
    }

    It 'refuses <Name> before any request' -ForEach @(
        @{ Name = 'both binding forms'; Arguments = @{ ExternalAccountBinding = $null; ExternalAccountKeyId = 'kid-1'; ExternalAccountKeyPath = 'x' }; Id = 'AcmeInvalidBinding' }
        @{ Name = 'a key id without a key file'; Arguments = @{ ExternalAccountKeyId = 'kid-1' }; Id = 'AcmeInvalidBinding' }
        @{ Name = 'a key that is not base64url'; Arguments = @{ ExternalAccountBinding = 'not base64!' }; Id = 'AcmeInvalidBinding' }
        @{ Name = 'a missing key file'; Arguments = @{ ExternalAccountKeyId = 'kid-1'; ExternalAccountKeyPath = 'no-such-file.txt' }; Id = 'AcmeKeyFileNotFound' }
    ) {
        $arguments = $Arguments.Clone()
        if ($arguments.ContainsKey('ExternalAccountBinding')) {
            $secret = if ($arguments.ExternalAccountBinding) { $arguments.ExternalAccountBinding } else { $hmac }
            $arguments.ExternalAccountBinding = [pscredential]::new('kid-1', (ConvertTo-SecureString $secret -AsPlainText -Force))
        }
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        $e = { New-AcmeAccount @ca @arguments -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike "$Id,*"
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before
        $e.Exception.Message | Should -Not -Match ([regex]::Escape($hmac))
    }
}
