#Requires -Version 7.2
<#
    The Cloudflare and Azure DNS providers against local fakes of their documented APIs (tests/Acme.TestKit:
    CloudflareFake, AzureDnsFake), which check what the real endpoints check (the bearer token they issued,
    zone lookup, request bodies, etags, their error shapes). Each fake serves the records it holds through
    the real pebble-challtestsrv Pebble validates with, as a cloud's name servers would, so issuance goes the
    whole real dns-01 path: provider -> API -> DNS -> propagation check -> Pebble.
#>
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    Import-TestKit
    $script:pebble = Start-TestPebble -AuthzReusePercent 0
    $script:root = Get-PebbleRootCertificate $pebble
    $script:account = New-TestAccount $pebble -Contact 'cloud-dns@acme.test'
    $script:dnsServer = "127.0.0.1:$($pebble.DnsPort)"
    $script:cf = [Acme.TestKit.CloudflareFake]::new()
    $cf.ChallTestSrvUrl = $pebble.ChallSrvUrl
    $script:az = [Acme.TestKit.AzureDnsFake]::new()
    $az.ChallTestSrvUrl = $pebble.ChallSrvUrl

    function New-TestZone([string] $Prefix) { "$Prefix-$([guid]::NewGuid().ToString('N').Substring(0, 8)).test" }

    # Issues the apex and wildcard of $Zone through the provider with -Verbose -Debug -WarningAction Continue, and returns the
    # certificate and everything every stream showed.
    function Invoke-ProviderIssue([string] $Zone, [string] $Provider, [hashtable] $Parameters) {
        $seen = [System.Collections.Generic.List[string]]::new()
        $DebugPreference = 'Continue'
        $orders = $account | New-AcmeOrder -DnsName $Zone, "*.$Zone" |
            Start-AcmeDnsChallenge -Provider $Provider -ProviderParameter $Parameters -DnsServer $dnsServer -Verbose -Debug -WarningAction Continue *>&1 |
            ForEach-Object { $seen.Add(($_ | Out-String)); $_ } | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] }
        $cert = $orders | Complete-AcmeOrder -Verbose -Debug -WarningAction Continue *>&1 | ForEach-Object { $seen.Add(($_ | Out-String)); $_ } |
            Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] }
        [pscustomobject]@{ Certificate = $cert; Seen = ($seen -join "`n") }
    }

    # The error a run ends with (the script splats @args onto the cmdlet, which gets -ErrorAction Stop).
    function Get-RunError([scriptblock] $Script) {
        try { $null = & $Script -ErrorAction Stop; @() } catch { , @($_) }
    }

    function Assert-NoSecret([string[]] $Secret, [string] $Text) {
        foreach ($s in $Secret) {
            $Text | Should -Not -BeLike "*$s*"
            foreach ($f in @(Get-ChildItem -LiteralPath $env:ACME_STATE_PATH -Recurse -File -Force)) {
                [System.IO.File]::ReadAllText($f.FullName) | Should -Not -BeLike "*$s*" -Because $f.FullName
            }
        }
    }
}

AfterAll {
    if ($script:cf) { $cf.Dispose() }
    if ($script:az) { $az.Dispose() }
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'Start-AcmeDnsChallenge -Provider Cloudflare (Fake API, records served by challtestsrv)' {
    It 'Fake: issues an apex and wildcard certificate, the token in no stream, leaving the zone as it was' {
        $zone = New-TestZone 'cf'
        $null = $cf.AddZone($zone)
        $token = ConvertTo-SecureString $cf.Token -AsPlainText -Force
        $run = Invoke-ProviderIssue $zone Cloudflare @{ ApiToken = $token; ApiUrl = $cf.ApiUrl }

        ($run.Certificate.Names | Sort-Object) | Should -Be (@("*.$zone", $zone) | Sort-Object)
        Test-CertificateChain -Certificate $run.Certificate.Certificate -Intermediate $run.Certificate.Chain -Root $root | Should -BeTrue
        # Both values were held at once (apex and wildcard share the name), then both went.
        $name = "_acme-challenge.$zone"
        $history = @($cf.History | Where-Object { $_ -like "${name}:*" })
        @($history | Where-Object { ($_ -split ' ').Count -eq 3 }).Count | Should -BeGreaterThan 0
        $history[-1] | Should -Be "${name}:"
        $cf.GetTxt($name).Count | Should -Be 0
        @($cf.Calls | Where-Object { $_ -like "GET /client/v4/zones?name=$name *" }).Count | Should -Be 1
        $run.Seen | Should -BeLike '*Cloudflare: POST http*'
        Assert-NoSecret @($cf.Token) $run.Seen
        ($cf.Received -join "`n") | Should -BeLike "*Bearer $($cf.Token)*"
    }

    It 'Fake: takes a given ZoneId without looking the zone up, and keeps a value someone else holds at the name' {
        $zone = New-TestZone 'cfid'
        $id = $cf.AddZone($zone)
        $name = "_acme-challenge.www.$zone"
        Invoke-RestMethod -Method Post -Uri "$($cf.ApiUrl)/zones/$id/dns_records" -Headers @{ Authorization = "Bearer $($cf.Token)" } `
            -ContentType 'application/json' -Body (@{ type = 'TXT'; name = $name; content = 'kept-by-someone-else'; ttl = 120 } | ConvertTo-Json)
        $before = $cf.Calls.Count
        $cert = $account | New-AcmeOrder -DnsName "www.$zone" |
            Start-AcmeDnsChallenge -Provider Cloudflare -ProviderParameter @{ ApiToken = $cf.Token; ApiUrl = $cf.ApiUrl; ZoneId = $id } -DnsServer $dnsServer |
            Complete-AcmeOrder
        $cert.Names | Should -Be @("www.$zone")
        @($cf.Calls | Select-Object -Skip $before | Where-Object { $_ -like 'GET /client/v4/zones?name=*' }).Count | Should -Be 0
        $cf.GetTxt($name) | Should -Be @('kept-by-someone-else')
    }

    It 'Fake: refuses a wrong token with DnsProviderAuthenticationFailed, naming no token, and tells the CA nothing' {
        $zone = New-TestZone 'cfbad'
        $null = $cf.AddZone($zone)
        $order = $account | New-AcmeOrder -DnsName $zone
        $err = Get-RunError { $order | Start-AcmeDnsChallenge -Provider Cloudflare -ProviderParameter @{ ApiToken = 'wrong-token-0123456789'; ApiUrl = $cf.ApiUrl } -DnsServer $dnsServer @args }
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderAuthenticationFailed*'
        $err[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err[0].Exception.Message | Should -BeLike '*9109*Invalid access token*'
        ($err[0] | Out-String) | Should -Not -BeLike '*wrong-token-0123456789*'
        ($order | Get-AcmeChallenge -Type dns-01).Status | Should -Be 'Pending'
    }

    It 'Fake: removes what it added for the names before a refused one' {
        # Pebble lists an order's authorizations in no fixed order: take an order whose writable name comes first.
        for ($i = 0; $i -lt 20; $i++) {
            $good = New-TestZone 'cfgood'
            $readOnly = New-TestZone 'cfro2'
            $null = $cf.AddZone($good)
            $null = $cf.AddZone($readOnly, $true)
            $order = $account | New-AcmeOrder -DnsName $good, $readOnly
            if ($order.Authorizations[0].Identifier.Value -eq $good) { break }
        }
        $order.Authorizations[0].Identifier.Value | Should -Be $good
        $err = Get-RunError { $order | Start-AcmeDnsChallenge -Provider Cloudflare -ProviderParameter @{ ApiToken = $cf.Token; ApiUrl = $cf.ApiUrl } -DnsServer $dnsServer @args }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderRefused*'
        $history = @($cf.History | Where-Object { $_ -like "_acme-challenge.${good}:*" })
        $history.Count | Should -Be 2
        $history[0] | Should -Not -Be "_acme-challenge.${good}:"
        $history[-1] | Should -Be "_acme-challenge.${good}:"
        $cf.GetTxt("_acme-challenge.$good").Count | Should -Be 0
    }

    It 'Fake: says DnsProviderUnreachable when nothing listens at ApiUrl, naming no token' {
        $order = $account | New-AcmeOrder -DnsName (New-TestZone 'cfunreach')
        $port = Get-FreeTcpPort
        $err = Get-RunError { $order | Start-AcmeDnsChallenge -Provider Cloudflare -ProviderParameter @{ ApiToken = $cf.Token; ApiUrl = "http://127.0.0.1:$port/client/v4" } -DnsServer $dnsServer @args }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderUnreachable*'
        $err[0].Exception.Message | Should -BeLike "*127.0.0.1:$port*"
        ($err[0] | Out-String) | Should -Not -BeLike "*$($cf.Token)*"
    }

    It 'Fake: says DnsProviderZoneNotFound when the token sees no zone the name is in' {
        $order = $account | New-AcmeOrder -DnsName (New-TestZone 'cfnozone')
        $err = Get-RunError { $order | Start-AcmeDnsChallenge -Provider Cloudflare -ProviderParameter @{ ApiToken = $cf.Token; ApiUrl = $cf.ApiUrl } -DnsServer $dnsServer @args }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderZoneNotFound*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'

        $err = Get-RunError { $order | Start-AcmeDnsChallenge -Provider Cloudflare -ProviderParameter @{ ApiToken = $cf.Token; ApiUrl = $cf.ApiUrl; ZoneId = '0123456789abcdef' } -DnsServer $dnsServer @args }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderZoneNotFound*'
        $err[0].Exception.Message | Should -BeLike '*0123456789abcdef*7003*'
    }

    It 'Fake: says DnsProviderRefused for a zone the token may only read, and changes nothing' {
        $zone = New-TestZone 'cfro'
        $null = $cf.AddZone($zone, $true)
        $order = $account | New-AcmeOrder -DnsName $zone
        $err = Get-RunError { $order | Start-AcmeDnsChallenge -Provider Cloudflare -ProviderParameter @{ ApiToken = $cf.Token; ApiUrl = $cf.ApiUrl } -DnsServer $dnsServer @args }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderRefused*'
        $err[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        $err[0].Exception.Message | Should -BeLike '*403*10000*'
        $cf.GetTxt("_acme-challenge.$zone").Count | Should -Be 0
    }
}

Describe 'Start-AcmeDnsChallenge -Provider Azure (Fake ARM, identity platform and IMDS, records served by challtestsrv)' {
    BeforeAll {
        $script:azBase = @{ SubscriptionId = $az.SubscriptionId; ArmUrl = $az.ArmUrl; AuthorityUrl = $az.AuthorityUrl; ImdsUrl = $az.ImdsUrl }
    }

    It 'Fake: issues with a given access token, the zone found by listing the subscription, the record set deleted at the end' {
        $zone = New-TestZone 'azat'
        $az.AddZone('rg-at', $zone)
        $token = $az.IssueToken()
        $run = Invoke-ProviderIssue $zone Azure ($azBase + @{ AccessToken = (ConvertTo-SecureString $token -AsPlainText -Force) })
        ($run.Certificate.Names | Sort-Object) | Should -Be (@("*.$zone", $zone) | Sort-Object)
        $name = "_acme-challenge.$zone"
        @($az.History | Where-Object { $_ -like "${name}:*" -and ($_ -split ' ').Count -eq 3 }).Count | Should -BeGreaterThan 0
        $az.GetTxt($name).Count | Should -Be 0
        @($az.Calls | Where-Object { $_ -like "DELETE /subscriptions/*/resourceGroups/rg-at/providers/Microsoft.Network/dnszones/$zone/TXT/_acme-challenge?api-version=2018-05-01 200" }).Count | Should -Be 1
        $run.Seen | Should -BeLike '*Azure: PUT http*'
        Assert-NoSecret @($token) $run.Seen
    }

    It 'Fake: issues with a service principal and its client secret, in a given resource group, the secret and token in no stream' {
        $zone = New-TestZone 'azsp'
        $az.AddZone('rg-sp', $zone)
        $before = @($az.IssuedTokens)
        $secret = ConvertTo-SecureString $az.ClientSecret -AsPlainText -Force
        $run = Invoke-ProviderIssue $zone Azure ($azBase + @{ ResourceGroup = 'rg-sp'; TenantId = $az.TenantId; ClientId = $az.ClientId; ClientSecret = $secret })
        ($run.Certificate.Names | Sort-Object) | Should -Be (@("*.$zone", $zone) | Sort-Object)
        $issued = @($az.IssuedTokens | Where-Object { $_ -notin $before })
        $issued.Count | Should -Be 1
        @($az.Calls | Where-Object { $_ -like "POST /login/$($az.TenantId)/oauth2/v2.0/token 200" }).Count | Should -BeGreaterThan 0
        @($az.Calls | Where-Object { $_ -like 'GET /subscriptions/*/resourceGroups/rg-sp/providers/Microsoft.Network/dnszones?*' }).Count | Should -BeGreaterThan 0
        Assert-NoSecret @($az.ClientSecret, [uri]::EscapeDataString($az.ClientSecret), $issued[0]) $run.Seen
    }

    It 'Fake: issues with a service principal certificate (PFX), signing a client assertion the token endpoint verifies' {
        $zone = New-TestZone 'azcert'
        $az.AddZone('rg-cert', $zone)
        $rsa = [System.Security.Cryptography.RSA]::Create(2048)
        $req = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=acme-dns-sp', $rsa, 'SHA256', [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $certificate = $req.CreateSelfSigned([DateTimeOffset]::UtcNow.AddMinutes(-5), [DateTimeOffset]::UtcNow.AddDays(1))
        $az.RegisterCertificate($certificate.RawData)
        $pfx = Join-Path $TestDrive 'sp.pfx'
        [System.IO.File]::WriteAllBytes($pfx, $certificate.Export('Pfx', 'pfx-pass-123'))
        $run = Invoke-ProviderIssue $zone Azure ($azBase + @{ TenantId = $az.TenantId; ClientId = $az.ClientId; ClientCertificatePath = $pfx
                ClientCertificatePassword = (ConvertTo-SecureString 'pfx-pass-123' -AsPlainText -Force) })
        ($run.Certificate.Names | Sort-Object) | Should -Be (@("*.$zone", $zone) | Sort-Object)
        Assert-NoSecret @('pfx-pass-123') $run.Seen
    }

    It 'Fake: issues with a managed identity from the instance metadata service' {
        $zone = New-TestZone 'azmi'
        $az.AddZone('rg-mi', $zone)
        $run = Invoke-ProviderIssue $zone Azure ($azBase + @{ UseManagedIdentity = $true })
        ($run.Certificate.Names | Sort-Object) | Should -Be (@("*.$zone", $zone) | Sort-Object)
        @($az.Calls | Where-Object { $_ -like 'GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=https*management.azure.com* 200' }).Count | Should -Be 1
    }

    It 'Fake: issues with the managed identity of App Service or Azure Automation (IDENTITY_ENDPOINT and IDENTITY_HEADER)' {
        $zone = New-TestZone 'azapp'
        $az.AddZone('rg-app', $zone)
        $env:IDENTITY_ENDPOINT = $az.IdentityEndpoint
        $env:IDENTITY_HEADER = $az.IdentityHeader
        try {
            $p = @{ SubscriptionId = $az.SubscriptionId; ArmUrl = $az.ArmUrl; UseManagedIdentity = $true }
            $run = Invoke-ProviderIssue $zone Azure $p
        } finally {
            Remove-Item env:IDENTITY_ENDPOINT, env:IDENTITY_HEADER
        }
        ($run.Certificate.Names | Sort-Object) | Should -Be (@("*.$zone", $zone) | Sort-Object)
        @($az.Calls | Where-Object { $_ -like 'GET /msi/token?api-version=2019-08-01&resource=* 200' }).Count | Should -Be 1
        Assert-NoSecret @($az.IdentityHeader) $run.Seen
    }

    It 'Fake: issues with a service principal certificate and its key in one PEM file' {
        $zone = New-TestZone 'azpem'
        $az.AddZone('rg-pem', $zone)
        $rsa = [System.Security.Cryptography.RSA]::Create(2048)
        $req = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=acme-dns-sp-pem', $rsa, 'SHA256', [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $certificate = $req.CreateSelfSigned([DateTimeOffset]::UtcNow.AddMinutes(-5), [DateTimeOffset]::UtcNow.AddDays(1))
        $az.RegisterCertificate($certificate.RawData)
        $pem = Join-Path $TestDrive 'sp.pem'
        Set-Content -LiteralPath $pem -Value ($certificate.ExportCertificatePem() + "`n" + $rsa.ExportPkcs8PrivateKeyPem())
        $cert = $account | New-AcmeOrder -DnsName $zone |
            Start-AcmeDnsChallenge -Provider Azure -ProviderParameter ($azBase + @{ TenantId = $az.TenantId; ClientId = $az.ClientId; ClientCertificatePath = $pem }) -DnsServer $dnsServer |
            Complete-AcmeOrder
        $cert.Names | Should -Be @($zone)
    }

    It 'Fake: says DnsProviderUnreachable when the token endpoint cannot be reached, and DnsProviderAuthenticationFailed for a certificate the application does not have' {
        $order = $account | New-AcmeOrder -DnsName (New-TestZone 'azunreach')
        $port = Get-FreeTcpPort
        $p = $azBase.Clone(); $p.UseManagedIdentity = $true; $p.ImdsUrl = "http://127.0.0.1:$port/metadata/identity/oauth2/token"
        $err = Get-RunError { $order | Start-AcmeDnsChallenge -Provider Azure -ProviderParameter $p -DnsServer $dnsServer @args }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderUnreachable*'
        $err[0].CategoryInfo.Category | Should -Be 'ConnectionError'

        $rsa = [System.Security.Cryptography.RSA]::Create(2048)
        $req = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=not-registered', $rsa, 'SHA256', [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $other = Join-Path $TestDrive 'other.pfx'
        [System.IO.File]::WriteAllBytes($other, $req.CreateSelfSigned([DateTimeOffset]::UtcNow.AddMinutes(-5), [DateTimeOffset]::UtcNow.AddDays(1)).Export('Pfx'))
        $err = Get-RunError { $order | Start-AcmeDnsChallenge -Provider Azure -ProviderParameter ($azBase + @{ TenantId = $az.TenantId; ClientId = $az.ClientId; ClientCertificatePath = $other }) -DnsServer $dnsServer @args }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderAuthenticationFailed*'
        $err[0].Exception.Message | Should -BeLike '*AADSTS700027*'
    }

    It 'Fake: refuses a wrong client secret and an unknown access token with DnsProviderAuthenticationFailed, naming neither' {
        $zone = New-TestZone 'azbad'
        $az.AddZone('rg-bad', $zone)
        $order = $account | New-AcmeOrder -DnsName $zone
        $err = Get-RunError { $order | Start-AcmeDnsChallenge -Provider Azure -ProviderParameter ($azBase + @{ TenantId = $az.TenantId; ClientId = $az.ClientId; ClientSecret = 'not-the-secret-42' }) -DnsServer $dnsServer @args }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderAuthenticationFailed*'
        $err[0].Exception.Message | Should -BeLike '*AADSTS7000215*'
        ($err[0] | Out-String) | Should -Not -BeLike '*not-the-secret-42*'

        $err = Get-RunError { $order | Start-AcmeDnsChallenge -Provider Azure -ProviderParameter ($azBase + @{ AccessToken = 'eyJ.not-issued.x' }) -DnsServer $dnsServer @args }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderAuthenticationFailed*'
        $err[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err[0].Exception.Message | Should -BeLike '*401*InvalidAuthenticationToken*'
        ($err[0] | Out-String) | Should -Not -BeLike '*eyJ.not-issued.x*'
        ($order | Get-AcmeChallenge -Type dns-01).Status | Should -Be 'Pending'
    }

    It 'Fake: says DnsProviderZoneNotFound for a name in no zone and for an unknown resource group' {
        $order = $account | New-AcmeOrder -DnsName (New-TestZone 'aznozone')
        $token = $az.IssueToken()
        $err = Get-RunError { $order | Start-AcmeDnsChallenge -Provider Azure -ProviderParameter ($azBase + @{ AccessToken = $token }) -DnsServer $dnsServer @args }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderZoneNotFound*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err = Get-RunError { $order | Start-AcmeDnsChallenge -Provider Azure -ProviderParameter ($azBase + @{ AccessToken = $token; ResourceGroup = 'no-such-rg' }) -DnsServer $dnsServer @args }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderZoneNotFound*'
        $err[0].Exception.Message | Should -BeLike '*ResourceGroupNotFound*'
    }

    It 'Fake: reads the record set again when another writer changed it meanwhile (412 on the etag), keeping that value' {
        $zone = New-TestZone 'azetag'
        $az.AddZone('rg-etag', $zone)
        $name = "_acme-challenge.$zone"
        $az.ChangeBeforeNextWrite($name, 'written-by-another-client')
        $cert = $account | New-AcmeOrder -DnsName $zone |
            Start-AcmeDnsChallenge -Provider Azure -ProviderParameter ($azBase + @{ AccessToken = $az.IssueToken() }) -DnsServer $dnsServer | Complete-AcmeOrder
        $cert.Names | Should -Be @($zone)
        @($az.Calls | Where-Object { $_ -like "PUT */dnszones/$zone/TXT/_acme-challenge?* 412" }).Count | Should -Be 1
        $az.GetTxt($name) | Should -Be @('written-by-another-client')
    }

    It 'Fake: says DnsProviderRefused for a zone the principal may only read (403 AuthorizationFailed)' {
        $zone = New-TestZone 'azro'
        $az.AddZone('rg-ro', $zone, $true)
        $order = $account | New-AcmeOrder -DnsName $zone
        $err = Get-RunError { $order | Start-AcmeDnsChallenge -Provider Azure -ProviderParameter ($azBase + @{ AccessToken = $az.IssueToken() }) -DnsServer $dnsServer @args }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderRefused*'
        $err[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        $err[0].Exception.Message | Should -BeLike '*AuthorizationFailed*'
        $az.GetTxt("_acme-challenge.$zone").Count | Should -Be 0
    }

    It 'refuses parameters without any credentials before any request (DnsProviderParameterMissing)' {
        $order = $account | New-AcmeOrder -DnsName (New-TestZone 'aznocred')
        $before = $az.Calls.Count
        { $order | Start-AcmeDnsChallenge -Provider Azure -ProviderParameter $azBase } | Should -Throw -ErrorId 'AcmeDnsProviderParameterMissing*'
        $az.Calls.Count | Should -Be $before
    }
}
