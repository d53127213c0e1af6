#Requires -Version 7.2
# Orders beyond the basic pipeline, against a real Pebble: IP identifiers (RFC 8738), validity,
# profiles, resuming by URL, deactivating authorizations, bring-your-own CSR and key reuse.
BeforeDiscovery {
    # ::1 is only tried where this machine can listen on it.
    $script:hasIPv6Loopback = $false
    try {
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::IPv6Loopback, 0)
        $probe.Start(); $probe.Stop()
        $script:hasIPv6Loopback = $true
    } catch { }
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:pebble = Start-TestPebble
    $script:root = Get-PebbleRootCertificate $pebble
    $script:account = New-TestAccount $pebble

    function Get-SubjectAlternativeName([System.Security.Cryptography.X509Certificates.X509Certificate2] $Certificate) {
        $raw = ($Certificate.Extensions | Where-Object { $_.Oid.Value -eq '2.5.29.17' }).RawData
        [System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension]::new($raw)
    }

    function New-TestCsr([string[]] $DnsName, [System.Security.Cryptography.ECDsa] $Key) {
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new("CN=$($DnsName[0])", $Key, 'SHA256')
        $san = [System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
        foreach ($name in $DnsName) { $san.AddDnsName($name) }
        $request.CertificateExtensions.Add($san.Build())
        $request
    }

    function Get-ReadyOrder([string[]] $DnsName) {
        $account | New-AcmeOrder -DnsName $DnsName | Start-AcmeHttpChallenge -Port $pebble.HttpPort
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'IP address identifiers (RFC 8738)' {
    BeforeAll {
        function Test-IPCertificate([string[]] $Addresses) {
            $order = $account | New-AcmeOrder -IPAddress $Addresses
            ($order.Identifiers | ForEach-Object Type | Sort-Object -Unique) | Should -Be 'ip'
            $order.Authorizations.Challenges.Type | Should -Not -Contain 'dns-01' -Because 'RFC 8738 rules out dns-01 for IP identifiers'

            $cert = $order | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
            $san = Get-SubjectAlternativeName $cert.Certificate
            ($san.EnumerateIPAddresses() | ForEach-Object ToString | Sort-Object) | Should -Be ($Addresses | Sort-Object)
            @($san.EnumerateDnsNames()) | Should -HaveCount 0
            ($cert.Names | Sort-Object) | Should -Be ($Addresses | Sort-Object)
            Test-CertificateChain -Certificate $cert.Certificate -Intermediate $cert.Chain -Root $root | Should -BeTrue
        }
    }

    It 'issues a certificate for 127.0.0.1 via http-01, with an IP SAN and no DNS name' {
        Test-IPCertificate '127.0.0.1'
    }

    It 'issues a certificate for 127.0.0.1 and ::1 via http-01, with IP SANs' -Skip:(-not $hasIPv6Loopback) {
        Test-IPCertificate '127.0.0.1', '::1'
    }
}

Describe 'New-AcmeOrder options' {
    It 'sends -NotBefore and -NotAfter, and the order carries them' {
        $from = [DateTime]::UtcNow.AddHours(1)
        $until = [DateTime]::UtcNow.AddDays(3)
        $order = $account | New-AcmeOrder -DnsName validity.test -NotBefore $from -NotAfter $until
        [Math]::Abs(($order.NotBefore.UtcDateTime - $from).TotalSeconds) | Should -BeLessThan 1
        [Math]::Abs(($order.NotAfter.UtcDateTime - $until).TotalSeconds) | Should -BeLessThan 1
    }

    It 'refuses -NotAfter before -NotBefore without a request' {
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        { $account | New-AcmeOrder -DnsName validity.test -NotBefore ([DateTime]::UtcNow.AddDays(2)) -NotAfter ([DateTime]::UtcNow) -ErrorAction Stop } |
            Should -Throw -ErrorId 'AcmeInvalidValidity,*'
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before
    }

    It 'refuses a profile the CA does not offer before any order, and says where to look' {
        if ($pebble.Version -ne '2.4.0') { Set-ItResult -Skipped -Because "Pebble $($pebble.Version): it offers profiles (Pebble2.Tests.ps1 checks them)"; return }
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        $e = { $account | New-AcmeOrder -DnsName profile.test -Profile shortlived -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeUnknownProfile,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.Exception.Message | Should -BeLike '*shortlived*'
        $e.ErrorDetails.RecommendedAction | Should -BeLike '*Get-AcmeDirectory*'
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before
    }

    It 'orders without "replaces" from a CA without ARI, and says so' {
        if ($pebble.Version -ne '2.4.0') { Set-ItResult -Skipped -Because "Pebble $($pebble.Version): it offers ARI (Pebble2.Tests.ps1 renews with replaces)"; return }
        $previous = Get-ReadyOrder renewed.test | Complete-AcmeOrder
        $verbose = $account | New-AcmeOrder -DnsName renewed.test -Replaces $previous -Verbose 4>&1
        $order = $verbose | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] }
        $order.Status | Should -BeIn 'Pending', 'Ready' -Because 'Pebble may reuse the authorization the first certificate used'
        $order.Replaces | Should -BeNullOrEmpty
        ($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n" |
            Should -BeLike "*does not implement ACME Renewal Information*$([Acme.Protocol.Model.AcmeRenewalInfo]::GetCertificateId($previous.Certificate))*"
    }

    It 'refuses a -Replaces that is not a certificate identifier' {
        $e = { $account | New-AcmeOrder -DnsName renewed.test -Replaces 'not an id' -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError*'
        $e.Exception.Message | Should -BeLike '*certificate identifier*'
    }
}

Describe 'Get-AcmeOrder' {
    It 'resumes an order by URL and carries on to a certificate' {
        $placed = $account | New-AcmeOrder -DnsName resume.test
        $resumed = Get-AcmeOrder -Account $account -Url $placed.Location.AbsoluteUri
        $resumed | Should -Not -Be $placed
        $resumed.Location | Should -Be $placed.Location
        $resumed.Names | Should -Be @('resume.test')
        $resumed.Authorizations | Should -HaveCount 1
        $resumed.Authorizations[0].Account | Should -Be $account

        $cert = $resumed | Start-AcmeHttpChallenge -Port $pebble.HttpPort | Complete-AcmeOrder
        $cert.Names | Should -Be @('resume.test')
        ($placed | Get-AcmeOrder).Status | Should -Be 'Valid' -Because 'an AcmeOrder piped in binds Account and Location by name'
    }

    It 'says when the CA knows no order at the URL' {
        $e = { Get-AcmeOrder -Account $account -Url "$($pebble.Directory -replace '/dir$')/my-order/unknown" -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeOrderNotFound,*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}

Describe 'Disable-AcmeAuthorization' {
    It 'deactivates an order''s authorizations from the pipeline' {
        $order = $account | New-AcmeOrder -DnsName deactivate-a.test, deactivate-b.test
        $result = $order.Authorizations | Disable-AcmeAuthorization -Confirm:$false -PassThru
        $result | Should -HaveCount 2
        $result.Status | Should -Be @('Deactivated', 'Deactivated')
        $reread = Get-AcmeOrder -Account $account -Url $order.Location
        $reread.Authorizations.Status | Should -Be @('Deactivated', 'Deactivated')
        $reread.Status | Should -Be 'Invalid' -Because 'an order cannot be completed once its authorizations are given up'
        { $reread | Complete-AcmeOrder -ErrorAction Stop } | Should -Throw -ErrorId 'AcmeOrderFailed,*'
    }

    It 'sends nothing with -WhatIf' {
        $order = $account | New-AcmeOrder -DnsName deactivate-whatif.test
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        $order.Authorizations | Disable-AcmeAuthorization -WhatIf | Should -BeNullOrEmpty
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before
        (Get-AcmeOrder -Account $account -Url $order.Location).Authorizations[0].Status | Should -Be 'Pending'
    }
}

Describe 'Complete-AcmeOrder with a CSR or a key of your own' {
    It 'finalizes with a PEM CSR, and the certificate is for the CSR''s key' {
        $key = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
        $pem = (New-TestCsr -DnsName csr-pem.test -Key $key).CreateSigningRequestPem()
        $cert = Get-ReadyOrder csr-pem.test | Complete-AcmeOrder -CertificateSigningRequest $pem
        $cert.Names | Should -Be @('csr-pem.test')
        [Convert]::ToBase64String($cert.Certificate.GetPublicKey()) |
            Should -Be ([Convert]::ToBase64String($key.ExportSubjectPublicKeyInfo()[-65..-1]))
        $cert.Key | Should -BeNullOrEmpty -Because 'the module never saw the private key'
    }

    It 'finalizes with a DER CSR file' {
        $key = [System.Security.Cryptography.RSA]::Create(2048)
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=csr-der.test', $key, 'SHA256', [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $san = [System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
        'csr-der.test', 'www.csr-der.test' | ForEach-Object { $san.AddDnsName($_) }
        $request.CertificateExtensions.Add($san.Build())
        $der = Join-Path $TestDrive 'request.der'
        [System.IO.File]::WriteAllBytes($der, $request.CreateSigningRequest())

        $cert = Get-ReadyOrder csr-der.test, www.csr-der.test | Complete-AcmeOrder -CertificateSigningRequest $der
        ($cert.Names | Sort-Object) | Should -Be @('csr-der.test', 'www.csr-der.test')
        $cert.Certificate.PublicKey.Oid.FriendlyName | Should -Be 'RSA'
    }

    It 'refuses a CSR whose names differ from the order''s, naming the difference, before finalizing' {
        $key = [System.Security.Cryptography.ECDsa]::Create()
        $pem = (New-TestCsr -DnsName csr-other.test -Key $key).CreateSigningRequestPem()
        $order = Get-ReadyOrder csr-mine.test
        $before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount
        $err = $null
        $order | Complete-AcmeOrder -CertificateSigningRequest $pem -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeCsrMismatch,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].Exception.Message | Should -BeLike '*order names csr-mine.test but the CSR does not*CSR asks for csr-other.test*'
        [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $before
        ($order | Get-AcmeOrder).Status | Should -Be 'Ready'
    }

    It 'reuses a key: -CertificateKey takes an earlier certificate''s Key or its key.pem' {
        $first = Get-ReadyOrder reuse-1.test | Complete-AcmeOrder
        $second = Get-ReadyOrder reuse-2.test | Complete-AcmeOrder -CertificateKey $first.Key
        $folder = Join-Path $TestDrive 'reuse'
        $first | Export-AcmeCertificate -Path $folder | Out-Null
        $third = Get-ReadyOrder reuse-3.test | Complete-AcmeOrder -CertificateKey (Join-Path $folder 'key.pem')

        $firstKey = [Convert]::ToBase64String($first.Certificate.GetPublicKey())
        [Convert]::ToBase64String($second.Certificate.GetPublicKey()) | Should -Be $firstKey
        [Convert]::ToBase64String($third.Certificate.GetPublicKey()) | Should -Be $firstKey
        $third.Key.Thumbprint | Should -Be $first.Key.Thumbprint
        $first.Thumbprint | Should -Not -Be $second.Thumbprint
    }

    It 'refuses a -CertificateKey file that is not a key' {
        $file = Join-Path $TestDrive 'not-a-key.pem'
        Set-Content -LiteralPath $file -Value 'hello'
        $order = $account | New-AcmeOrder -DnsName not-a-key.test
        $e = { $order | Complete-AcmeOrder -CertificateKey $file -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError*'
        $e.Exception.Message | Should -BeLike '*private key*'
    }
}

Describe 'Get-AcmeRenewalInfo against a CA without ARI' {
    It 'says the CA does not offer renewal information' {
        if ($pebble.Version -ne '2.4.0') { Set-ItResult -Skipped -Because "Pebble $($pebble.Version): it offers ARI (Pebble2.Tests.ps1 reads it)"; return }
        $cert = Get-ReadyOrder ari.test | Complete-AcmeOrder
        $e = { $cert | Get-AcmeRenewalInfo -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeRenewalInfoUnsupported,*'
        $e.CategoryInfo.Category | Should -Be 'NotImplemented'
    }

    It 'needs -Account or -Server for a certificate read from a file' {
        if ($pebble.Version -ne '2.4.0') { Set-ItResult -Skipped -Because "Pebble $($pebble.Version): it offers ARI, so the calls this test expects to fail succeed"; return }
        $folder = Join-Path $TestDrive 'ari'
        Get-ReadyOrder ari-file.test | Complete-AcmeOrder | Export-AcmeCertificate -Path $folder | Out-Null
        $e = { Get-AcmeRenewalInfo -CertificatePath (Join-Path $folder 'fullchain.pem') -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeServerRequired,*'
        $e = { Get-AcmeRenewalInfo -CertificatePath (Join-Path $folder 'fullchain.pem') -Account $account -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeRenewalInfoUnsupported,*'
    }
}
