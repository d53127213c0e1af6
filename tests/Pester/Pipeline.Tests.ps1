#Requires -Version 7.2
# The five-cmdlet pipeline against a real Pebble with its default 5% bad-nonce rejection.
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:pebble = Start-TestPebble
    $script:root = Get-PebbleRootCertificate $pebble
    $script:account = New-TestAccount $pebble -Contact 'pipeline@acme.test'
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'New-AcmeAccount against Pebble' {
    It 'creates a valid account with its contact and a key thumbprint' {
        $account.Status | Should -Be 'Valid'
        $account.Contact | Should -Be @('mailto:pipeline@acme.test')
        $account.Location.AbsoluteUri | Should -BeLike "$($pebble.Directory -replace '/dir$')/*"
        $account.KeyThumbprint | Should -Match '^[A-Za-z0-9_-]{43}$'
    }

    It 'refuses to create an account without -AcceptTermsOfService when the CA has terms' {
        $e = { New-AcmeAccount -Server $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeTermsOfServiceNotAccepted,*'
        "$e" | Should -BeLike '*-AcceptTermsOfService*' -Because 'the message shown names the parameter (from the error catalogue)'
        $e.Exception.Message | Should -Not -BeLike '*-AcceptTermsOfService*' -Because 'the core says what happened, not which parameter to pass'
    }

    It 'fails clearly when the CA''s TLS certificate is not trusted' {
        # A state folder of its own: the shared one remembers the root New-TestAccount gave for this server.
        $e = { New-AcmeAccount -Server $pebble.Directory -AcceptTermsOfService -StatePath (Join-Path $TestDrive 'untrusted') -ErrorAction Stop } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeConnectionFailed,*'
        $e.CategoryInfo.Category | Should -Be 'ConnectionError'
    }
}

Describe 'The five-cmdlet pipeline' {
    It 'issues a certificate for two names that chains to Pebble''s root, and writes the files' {
        $dir = Join-Path $TestDrive 'out'
        $files = $account | New-AcmeOrder -DnsName a.test, b.test | Start-AcmeHttpChallenge -Port $pebble.HttpPort |
            Complete-AcmeOrder | Export-AcmeCertificate -Path $dir

        ($files.Name | Sort-Object) | Should -Be @('cert.pem', 'chain.pem', 'fullchain.pem', 'key.pem')
        $cert = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile(
            (Join-Path $dir 'cert.pem'), (Join-Path $dir 'key.pem'))
        $cert.HasPrivateKey | Should -BeTrue
        $san = [System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension]::new(
            ($cert.Extensions | Where-Object { $_.Oid.Value -eq '2.5.29.17' }).RawData)
        ($san.EnumerateDnsNames() | Sort-Object) | Should -Be @('a.test', 'b.test')
        $chain = [System.Security.Cryptography.X509Certificates.X509Certificate2Collection]::new()
        $chain.ImportFromPemFile((Join-Path $dir 'chain.pem'))
        Test-CertificateChain -Certificate $cert -Intermediate $chain -Root $root | Should -BeTrue
        $full = Get-Content -Raw (Join-Path $dir 'fullchain.pem')
        $full | Should -Be ((Get-Content -Raw (Join-Path $dir 'cert.pem')) + (Get-Content -Raw (Join-Path $dir 'chain.pem')))
    }

    It 'writes key.pem owner-only (0600)' -Skip:$IsWindows {
        $dir = Join-Path $TestDrive 'perm'
        $account | New-AcmeOrder -DnsName perm.test | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder |
            Export-AcmeCertificate -Path $dir | Out-Null
        [int][System.IO.File]::GetUnixFileMode((Join-Path $dir 'key.pem')) | Should -Be 0x180 -Because 'mode 0600 is UserRead + UserWrite only'
        Get-ChildItem -Force $dir | Where-Object Name -Like '*.tmp' | Should -BeNullOrEmpty
    }

    It 'issues 20 certificates in a row with Pebble rejecting 5% of nonces, and none fails' {
        $failures = [System.Collections.Generic.List[object]]::new()
        $issued = 0
        foreach ($i in 1..20) {
            $c = $account | New-AcmeOrder -DnsName "run$i.test" | Start-AcmeHttpChallenge -Port $pebble.HttpPort |
                Complete-AcmeOrder -ErrorVariable +failures -ErrorAction Continue
            if ($c.Names -contains "run$i.test") { $issued++ }
        }
        $failures | Should -BeNullOrEmpty
        $issued | Should -Be 20
    }

    It 'writes a PFX that opens with its password and holds the key and chain' {
        $pfx = Join-Path $TestDrive 'c.pfx'
        $password = ConvertTo-SecureString 'pfx-test-password' -AsPlainText -Force
        $account | New-AcmeOrder -DnsName pfx.test | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder |
            Export-AcmeCertificate -PfxPath $pfx -Password $password | Should -BeOfType [System.IO.FileInfo]
        $collection = [System.Security.Cryptography.X509Certificates.X509Certificate2Collection]::new()
        $collection.Import($pfx, 'pfx-test-password', 'EphemeralKeySet')
        $collection.Count | Should -BeGreaterOrEqual 2
        ($collection | Where-Object HasPrivateKey).Count | Should -Be 1
        { $collection.Import($pfx, 'wrong', 'EphemeralKeySet') } | Should -Throw
    }

    It 'answers from a web root when given -WebRoot, and removes the files afterwards' {
        $webRoot = Join-Path $TestDrive 'www'
        $null = New-Item -ItemType Directory $webRoot
        # A plain static file server on Pebble's http-01 port stands in for the user's web server.
        $server = Start-TestFileServer -Root $webRoot -Port $pebble.HttpPort
        try {
            $cert = $account | New-AcmeOrder -DnsName webroot.test | Start-AcmeHttpChallenge -WebRoot $webRoot | Complete-AcmeOrder
        } finally {
            Stop-TestFileServer $server
        }
        $cert.Names | Should -Be @('webroot.test')
        $server.Served.Count | Should -BeGreaterThan 0
        Get-ChildItem -Recurse -Force $webRoot | Should -BeNullOrEmpty
    }
}

Describe 'Failures carry the CA''s detail' {
    It 'reports a name Pebble refuses with Pebble''s detail and AcmeRejectedIdentifier' {
        $err = $null
        $order = $account | New-AcmeOrder -DnsName blocked.test -ErrorVariable err -ErrorAction SilentlyContinue
        $order | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeRejectedIdentifier,*'
        $err[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        $err[0].ErrorDetails.Message | Should -BeLike '*forbidden by policy*blocked.test*'
    }

    It 'ends a failed authorization (nothing listening) with an error naming the identifier and the CA''s detail' {
        $err = $null
        $order = $account | New-AcmeOrder -DnsName nobody-home.test
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        # Files in a folder no web server serves: Pebble's connection to the http-01 port is refused.
        $result = $order | Start-AcmeHttpChallenge -WebRoot $TestDrive -ErrorVariable err -ErrorAction SilentlyContinue
        $watch.Stop()
        $result | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeAuthorizationFailed,*'
        $err[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        $err[0].ErrorDetails.Message | Should -BeLike '*nobody-home.test*connection refused*'
        Write-Host "    (the failure was reported after $([Math]::Round($watch.Elapsed.TotalSeconds, 2)) s)"
        Test-Path (Join-Path $TestDrive '.well-known/acme-challenge') | Should -BeFalse
    }

    It 'refuses to finalize an order whose challenges were not answered' {
        $order = $account | New-AcmeOrder -DnsName unanswered.test
        $e = { $order | Complete-AcmeOrder -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeOrderNotReady,*'
    }

    It 'names the port when the http-01 listener cannot bind' {
        $blocker = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Any, 0)
        $blocker.Start()
        try {
            $port = $blocker.LocalEndpoint.Port
            $order = $account | New-AcmeOrder -DnsName busy-port.test
            $err = $null
            $order | Start-AcmeHttpChallenge -Port $port -PortWaitSec 0 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeListenerPortInUse,*'
            $err[0].Exception.Message | Should -BeLike "*$port*"
        } finally {
            $blocker.Stop()
        }
    }
}

Describe '-WhatIf' {
    It '<Name> -WhatIf sends no request' -ForEach @(
        @{ Name = 'New-AcmeAccount'; Run = { New-AcmeAccount -Server $pebble.Directory -TrustedRootCertificate $pebble.ApiRootPath -AcceptTermsOfService -WhatIf } }
        @{ Name = 'New-AcmeOrder'; Run = { $account | New-AcmeOrder -DnsName whatif.test -WhatIf } }
        @{ Name = 'Start-AcmeHttpChallenge'; Run = { $script:pendingOrder | Start-AcmeHttpChallenge -Port $pebble.HttpPort -WhatIf } }
        @{ Name = 'Complete-AcmeOrder'; Run = { $script:pendingOrder | Complete-AcmeOrder -WhatIf } }
    ) {
        $script:pendingOrder ??= $account | New-AcmeOrder -DnsName whatif-pending.test
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        $output = & $Run
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before
        $output | Should -BeNullOrEmpty
    }

    It 'Export-AcmeCertificate -WhatIf writes no file' {
        $cert = $account | New-AcmeOrder -DnsName whatif-export.test | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
        $dir = Join-Path $TestDrive 'whatif'
        $cert | Export-AcmeCertificate -Path $dir -WhatIf | Should -BeNullOrEmpty
        Test-Path $dir | Should -BeFalse
    }
}
