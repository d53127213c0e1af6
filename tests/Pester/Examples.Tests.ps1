#Requires -Version 7.2
# Runs every example script the help pages and README.md embed (examples/*.ps1 with "# example:" snippets)
# against a real Pebble, each in an empty working folder, and checks what it produced. Help.Tests.ps1
# checks that the embedded copies match these scripts.
BeforeDiscovery {
    $scripts = @(Get-ChildItem (Join-Path $PSScriptRoot '../../examples') -Filter *.ps1 |
            Where-Object { (Get-Content -Raw $_.FullName) -match '(?m)^\s*# example:' } |
            ForEach-Object { @{ Name = $_.BaseName; Path = $_.FullName } })
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $pebble = Start-TestPebble
    $pebbleRoot = Get-PebbleRootCertificate $pebble

    function Assert-PemFolder([string] $Folder, [string[]] $Names) {
        $cert = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile(
            (Join-Path $Folder 'cert.pem'), (Join-Path $Folder 'key.pem'))
        $cert.HasPrivateKey | Should -BeTrue
        $san = [System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension]::new(
            ($cert.Extensions | Where-Object { $_.Oid.Value -eq '2.5.29.17' }).RawData)
        @($san.EnumerateDnsNames() | Sort-Object) | Should -Be @($Names | Sort-Object)
        $chain = [System.Security.Cryptography.X509Certificates.X509Certificate2Collection]::new()
        $chain.ImportFromPemFile((Join-Path $Folder 'chain.pem'))
        Test-CertificateChain -Certificate $cert -Intermediate $chain -Root $pebbleRoot | Should -BeTrue
    }

    # Record scripts for pebble-challtestsrv's DNS server, which Pebble validates dns-01 with.
    $challSrv = $pebble.ChallSrvUrl
    $addRecord = { param($RecordName, $Value) Invoke-RestMethod -Method Post -Uri "$challSrv/set-txt" -Body (@{ host = "$RecordName."; value = $Value } | ConvertTo-Json) | Out-Null }.GetNewClosure()
    $removeRecord = { param($RecordName) Invoke-RestMethod -Method Post -Uri "$challSrv/clear-txt" -Body (@{ host = "$RecordName." } | ConvertTo-Json) | Out-Null }.GetNewClosure()
    # What differs between a reader's machine and this one, for the examples that do not show it.
    $environmentDefaults = @{
        'New-AcmeAccount:TrustedRootCertificate' = $pebble.ApiRootPath
        'Start-AcmeDnsChallenge:DnsServer'       = "127.0.0.1:$($pebble.DnsPort)"
        'Start-AcmeTlsAlpnChallenge:Port'        = $pebble.TlsPort
        'New-AcmeCertificate:TrustedRootCertificate' = $pebble.ApiRootPath
        'New-AcmeCertificate:DnsServer'          = "127.0.0.1:$($pebble.DnsPort)"
    }

    # What each script must produce. A script with snippets but no entry here fails its test.
    $expectations = @{
        QuickStart = @{ Check = {
                param($Output, $Folder)
                @($Output.Name | Sort-Object) | Should -Be @('cert.pem', 'chain.pem', 'fullchain.pem', 'key.pem')
                Assert-PemFolder (Join-Path $Folder 'cert') 'example.com', 'www.example.com'
            }
        }
        PrivateCa  = @{ Check = {
                param($Output, $Folder)
                @($Output | Where-Object { $_ -is [System.IO.FileInfo] }).Count | Should -Be 4
                Assert-PemFolder (Join-Path $Folder 'cert') 'intranet.internal.example'
            }
        }
        NewAccount = @{ Check = {
                param($Output)
                $Output.Count | Should -Be 3
                $Output | ForEach-Object { $_ | Should -BeOfType ([Acme.Protocol.AcmeAccount]); $_.Status | Should -Be 'Valid' }
                $Output[0].Contact | Should -Be @('mailto:admin@example.com')
                $Output[1].Key.Name | Should -Be 'RSA2048'
                $Output[2].Server.DirectoryUrl.AbsoluteUri | Should -Be $pebble.Directory -Because 'the server came from $env:ACME_SERVER'
            }
        }
        NewOrder   = @{
            Parameters = @{ RefusedName = 'blocked.test' }  # on the test Pebble's block list
            Check      = {
                param($Output, $Folder)
                $authorizations = @($Output | Where-Object { $_ -is [Acme.Protocol.AcmeAuthorization] })
                @($authorizations.Identifier.Value | Sort-Object) | Should -Be @('example.com', 'www.example.com')
                $authorizations | ForEach-Object { $_.Challenges.Type | Should -Contain 'http-01' }
                $order = @($Output | Where-Object { $_ -is [Acme.Protocol.AcmeOrder] })
                $order.Count | Should -Be 1
                @($order[0].Identifiers | ForEach-Object { "$($_.Type):$($_.Value)" } | Sort-Object) | Should -Be @('ip:192.0.2.10', 'ip:2001:db8::10')
                Join-Path $Folder 'acme-trace.log' | Should -Exist
                $text = @($Output | Where-Object { $_ -is [string] })
                @($text -match "^POST $([regex]::Escape($pebble.Directory -replace '/dir$'))/\S+ -> 201 Created \(\d+ ms").Count | Should -Be 1 -Because 'the log holds the newOrder request'
                $text | Should -Contain 'AcmeRejectedIdentifier,Acme.PowerShell.Commands.NewAcmeOrderCommand'
                $Output | Where-Object { $_ -is [System.Management.Automation.ErrorCategory] } | Should -Be 'PermissionDenied'
                @($text -like '*forbidden by policy*blocked.test*').Count | Should -Be 1 -Because 'the CA''s detail is shown'
            }
        }
        Issue      = @{
            # The PFX example reads its password with Read-Host; the test answers it.
            Setup    = { function global:Read-Host { ConvertTo-SecureString 'example-pfx-password' -AsPlainText -Force } }
            Teardown = { Remove-Item -LiteralPath function:Read-Host }
            Check    = {
                param($Output, $Folder)
                $orders = @($Output | Where-Object { $_ -is [Acme.Protocol.AcmeOrder] })
                @($orders.Names) | Should -Be @('example.com', 'app.example.com')
                $orders | ForEach-Object { $_.Status | Should -Be 'Ready' }
                $certificates = @($Output | Where-Object { $_ -is [Acme.Protocol.AcmeCertificate] })
                $certificates.Count | Should -Be 2
                @($certificates[0].Names | Sort-Object) | Should -Be @('example.com', 'www.example.com')
                $certificates[0].Key.Name | Should -Be 'EC256'
                $certificates[1].Key.Name | Should -Be 'RSA2048'
                $rsa = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPublicKey($certificates[1].Certificate)
                $rsa.ExportParameters($false).Modulus.Length * 8 | Should -Be 2048 -Because 'the certificate is for the RSA key'
                foreach ($c in $certificates) { Test-CertificateChain -Certificate $c.Certificate -Intermediate $c.Chain -Root $pebbleRoot | Should -BeTrue }
                @(($Output | Where-Object { $_ -is [System.IO.FileInfo] }).Name) | Should -Be @('cert.pem', 'chain.pem', 'fullchain.pem', 'key.pem', 'example.pfx')
                Assert-PemFolder (Join-Path $Folder 'cert') 'example.com', 'www.example.com'
                $pfx = [System.Security.Cryptography.X509Certificates.X509Certificate2Collection]::new()
                $pfx.Import((Join-Path $Folder 'example.pfx'), 'example-pfx-password', 'EphemeralKeySet')
                @($pfx | Where-Object HasPrivateKey).Count | Should -Be 1
            }
        }
        DnsChallenge   = @{ Check = {
                param($Output)
                $certificate = @($Output | Where-Object { $_ -is [Acme.Protocol.AcmeCertificate] })
                $certificate.Count | Should -Be 1
                @($certificate[0].Names | Sort-Object) | Should -Be @('*.example.com', 'example.com')
                Test-CertificateChain -Certificate $certificate[0].Certificate -Intermediate $certificate[0].Chain -Root $pebbleRoot | Should -BeTrue
                $order = @($Output | Where-Object { $_ -is [Acme.Protocol.AcmeOrder] })
                $order.Names | Should -Be @('www.example.com')
                $order.Status | Should -Be 'Ready'
            }
        }
        DnsAlias       = @{
            # The CNAME a reader creates in their zone once.
            Setup    = { Invoke-RestMethod -Method Post -Uri "$challSrv/set-cname" -Body (@{ host = '_acme-challenge.example.com.'; target = 'example-com.acme.example.net.' } | ConvertTo-Json) | Out-Null }
            Teardown = { Invoke-RestMethod -Method Post -Uri "$challSrv/clear-cname" -Body (@{ host = '_acme-challenge.example.com.' } | ConvertTo-Json) | Out-Null }
            Check    = {
                param($Output)
                $Output.Names | Should -Be @('example.com')
                $Output.Status | Should -Be 'Ready' -Because 'Pebble followed the CNAME to the record published at the alias'
            }
        }
        TlsAlpn        = @{ Check = {
                param($Output)
                $Output.Names | Should -Be @('mail.example.com')
                Test-CertificateChain -Certificate $Output[0].Certificate -Intermediate $Output[0].Chain -Root $pebbleRoot | Should -BeTrue
            }
        }
        BuildingBlocks = @{
            Setup    = {
                param($Folder, $Parameters)
                # The share every web server serves: here a folder behind a static file server on Pebble's http-01 port.
                $Parameters.Share = Join-Path $Folder 'share'
                $null = New-Item -ItemType Directory (Join-Path $Parameters.Share '.well-known/acme-challenge')
                Start-TestFileServer -Root $Parameters.Share -Port $pebble.HttpPort
            }
            Teardown = { param($State) Stop-TestFileServer $State }
            Check    = {
                param($Output, $Folder, $State)
                $pending = @($Output | Where-Object { $_ -is [Acme.Protocol.AcmeAuthorization] })
                @($pending.Identifier.Value | Sort-Object) | Should -Be @('example.com', 'www.example.com')
                $pending | ForEach-Object { $_.Status | Should -Be 'Pending' }
                $table = $Output | Where-Object { $_.GetType().FullName -like 'Microsoft.PowerShell.Commands.Internal.Format.*' } | Out-String -Width 300
                $table | Should -Match '_acme-challenge\.example\.com\s+\S{43}'
                $table | Should -Match '_acme-challenge\.www\.example\.com\s+\S{43}'
                $certificates = @($Output | Where-Object { $_ -is [Acme.Protocol.AcmeCertificate] })
                @($certificates | ForEach-Object { ($_.Names | Sort-Object) -join ',' }) | Should -Be @('example.com,www.example.com', 'api.example.com', 'cdn.example.com')
                foreach ($c in $certificates) { Test-CertificateChain -Certificate $c.Certificate -Intermediate $c.Chain -Root $pebbleRoot | Should -BeTrue }
                @($State.Served | Sort-Object -Unique).Count | Should -Be 4 -Because 'the CA fetched each answer from the share'
            }
        }
        State      = @{ Check = {
                param($Output, $Folder)
                $accounts = @($Output | Where-Object { $_ -is [Acme.Protocol.AcmeAccount] })
                $accounts.Count | Should -Be 2 -Because 'New-AcmeAccount wrote one, and Get-AcmeAccount listed the only one saved'
                $accounts | ForEach-Object { $_.Name | Should -Be 'web' }
                $orders = @($Output | Where-Object { $_ -is [Acme.Protocol.AcmeOrder] })
                $orders[0].Name | Should -Be 'example.com'
                $orders[0].Status | Should -Be 'Pending'
                $orders[-1].Status | Should -Be 'Valid' -Because 'Get-AcmeOrder lists the order as saved after completion'
                $certificates = @($Output | Where-Object { $_ -is [Acme.Protocol.AcmeCertificate] })
                $certificates.Count | Should -Be 2
                $certificates[1].Thumbprint | Should -Be $certificates[0].Thumbprint -Because 'Get-AcmeCertificate read back the one just issued'
                Assert-PemFolder (Join-Path $Folder 'cert') 'example.com', 'www.example.com'
            }
        }
        Renewal    = @{ Check = {
                param($Output, $Folder)
                $checks = @($Output | Where-Object { $_ -is [Acme.Protocol.AcmeRenewalCheck] })
                $checks.Count | Should -Be 1
                $checks[0].Due | Should -BeFalse -Because 'a Pebble certificate is valid for years'
                Test-Path (Join-Path $Folder 'cert') | Should -BeFalse -Because 'nothing was due, so nothing was renewed or exported'
                $renewed = @($Output | Where-Object { $_ -is [Acme.Protocol.AcmeCertificate] })
                $renewed.Count | Should -Be 1
                $renewed[0].Thumbprint | Should -Not -Be $checks[0].Certificate.Thumbprint
                @($renewed[0].Names | Sort-Object) | Should -Be @('example.com', 'www.example.com')
                $renewed[0].Name | Should -Be 'example.com'
            }
        }
        NewCertificate = @{ Check = {
                param($Output, $Folder)
                $certificates = @($Output | Where-Object { $_ -is [Acme.Protocol.AcmeCertificate] })
                $certificates.Count | Should -Be 3
                $certificates[1].Thumbprint | Should -Be $certificates[0].Thumbprint -Because 'the second run returns the saved certificate'
                Assert-PemFolder (Join-Path $Folder 'cert') 'example.com', 'www.example.com'
                $certificates[2].Name | Should -Be '_.example.com'
                $certificates[2].Names | Should -Be @('*.example.com')
            }
        }
        Runbook    = @{
            Parameters = @{ Runbook = (Resolve-Path (Join-Path $PSScriptRoot '../../examples/Update-AcmeCertificates.ps1')).Path }
            Check      = {
                param($Output, $Folder)
                @($Output | ForEach-Object { "$($_.Name):$($_.Action)" }) | Should -Be @('example.com:Issued', 'api.example.com:Issued')
                Assert-PemFolder (Join-Path $Folder 'certs/example.com') 'example.com', 'www.example.com'
                Assert-PemFolder (Join-Path $Folder 'certs/api.example.com') 'api.example.com'
                @(Get-AcmeCertificate -StatePath (Join-Path $Folder 'acme-state')).Count | Should -Be 2
            }
        }
        WebRoot    = @{
            Setup    = {
                param($Folder, $Parameters)
                $Parameters.WebRoot = Join-Path $Folder 'www'
                $null = New-Item -ItemType Directory $Parameters.WebRoot
                # A static file server on Pebble's http-01 port stands in for the reader's web server.
                Start-TestFileServer -Root $Parameters.WebRoot -Port $pebble.HttpPort
            }
            Teardown = { param($State) Stop-TestFileServer $State }
            Check    = {
                param($Output, $Folder, $State)
                $Output.Status | Should -Be 'Ready'
                @($State.Served | Sort-Object -Unique).Count | Should -Be 2 -Because 'the CA fetched each name''s answer from the web root'
                Get-ChildItem -Recurse -Force (Join-Path $Folder 'www') | Should -BeNullOrEmpty
            }
        }
    }
}

AfterAll {
    if ($pebble) { Stop-TestPebble $pebble }
}

Describe 'Example script <Name>' -ForEach $scripts {
    It 'runs against Pebble and produces what its snippets show' {
        $expectations.ContainsKey($Name) | Should -BeTrue -Because "every example script needs an entry in Examples.Tests.ps1 saying what it must produce"
        $expectation = $expectations[$Name]
        $folder = Join-Path $TestDrive $Name
        $null = New-Item -ItemType Directory $folder
        $declared = (Get-Command $Path).Parameters
        $parameters = @{}
        if ($declared.ContainsKey('Server')) { $parameters.Server = $pebble.Directory }
        if ($declared.ContainsKey('TrustedRootCertificate')) { $parameters.TrustedRootCertificate = $pebble.ApiRootPath }
        if ($declared.ContainsKey('HttpPort')) { $parameters.HttpPort = $pebble.HttpPort }
        if ($declared.ContainsKey('DnsServer')) { $parameters.DnsServer = "127.0.0.1:$($pebble.DnsPort)" }
        if ($declared.ContainsKey('AddRecord')) { $parameters.AddRecord = $addRecord; $parameters.RemoveRecord = $removeRecord }
        if ($expectation.Parameters) { $parameters += $expectation.Parameters }
        $state = if ($expectation.Setup) { & $expectation.Setup $folder $parameters }
        $savedServer = $env:ACME_SERVER
        # Each script gets a state folder of its own, as a reader's first run would.
        $savedState = $env:ACME_STATE_PATH
        $env:ACME_STATE_PATH = Join-Path $folder '.acme-state'
        foreach ($d in $environmentDefaults.GetEnumerator()) { $global:PSDefaultParameterValues[$d.Key] = $d.Value }
        Push-Location $folder
        try {
            $output = @(& $Path @parameters)
        } finally {
            Pop-Location
            foreach ($key in $environmentDefaults.Keys) { $global:PSDefaultParameterValues.Remove($key) }
            $env:ACME_SERVER = $savedServer
            $env:ACME_STATE_PATH = $savedState
            if ($expectation.Teardown) { & $expectation.Teardown $state }
        }
        & $expectation.Check $output $folder $state
    }
}
