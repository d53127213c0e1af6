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
    Import-Module (Join-Path $PSScriptRoot 'ScaleOutHelpers.psm1') -Force
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
    # What differs between a reader's machine and this one, for the examples that do not show it:
    # Pebble's root for every cmdlet that names a server, and its test DNS server and tls-alpn-01 port.
    function Get-EnvironmentDefault($Ca) {
        @{
            '*-Acme*:TrustedRootCertificate'  = $Ca.ApiRootPath
            'Start-AcmeDnsChallenge:DnsServer' = "127.0.0.1:$($Ca.DnsPort)"
            'Start-AcmeTlsAlpnChallenge:Port'  = $Ca.TlsPort
            'New-AcmeCertificate:DnsServer'    = "127.0.0.1:$($Ca.DnsPort)"
        }
    }

    # The account as the CA shows it now, found by its key (onlyReturnExisting), not the local object.
    function Get-AccountAtCa([Acme.Protocol.Model.AcmeAccount] $Account) {
        [Acme.Protocol.Client.AcmeClient]::new($Account.Server, $null).FindAccountAsync($Account.Key, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
    }

    function Get-PebbleCertificateStatus($Ca, [System.Security.Cryptography.X509Certificates.X509Certificate2] $Certificate) {
        Invoke-RestMethod -Uri "$($Ca.ManagementUrl)/cert-status-by-serial/$($Certificate.SerialNumber)" -SkipCertificateCheck
    }

    function Read-PemCertificate([string] $Path) {
        [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem((Get-Content -Raw $Path))
    }

    function Get-KeyThumbprint([string] $Path, [string] $Password) {
        [Acme.Protocol.Crypto.AcmeKey]::ImportPem((Get-Content -Raw $Path), $(if ($Password) { $Password.ToCharArray() })).Thumbprint
    }

    function Get-OfType($Output, [type] $Type) { @($Output | Where-Object { $_ -is $Type }) }

    # External account binding keys for the Pebble that ExternalAccount.ps1 runs against (base64url, as CAs hand them out).
    $eabKeys = 1..2 | ForEach-Object {
        $bytes = [byte[]]::new(32)
        [System.Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
        [Convert]::ToBase64String($bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_')
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
                $dated = @($Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] })
                $dated.Count | Should -Be 1
                $from = $dated[0].Certificate.NotBefore.ToUniversalTime()
                ($from - [datetime]::UtcNow).TotalMinutes | Should -BeGreaterThan 50 -Because 'the certificate starts in an hour, as asked'
                $dated[0].Certificate.NotAfter.ToUniversalTime() - $from | Should -Be ([timespan]::FromHours(12))
            }
        }
        NewAccount = @{ Check = {
                param($Output)
                $Output.Count | Should -Be 3
                $Output | ForEach-Object { $_ | Should -BeOfType ([Acme.Protocol.Model.AcmeAccount]); $_.Status | Should -Be 'Valid' }
                $Output[0].Contact | Should -Be @('mailto:admin@example.com')
                $Output[1].Key.Name | Should -Be 'RSA2048'
                $Output[2].Server.DirectoryUrl.AbsoluteUri | Should -Be $pebble.Directory -Because 'the server came from $env:ACME_SERVER'
            }
        }
        NewOrder   = @{
            Parameters = @{ RefusedName = 'blocked.test' }  # on the test Pebble's block list
            Check      = {
                param($Output, $Folder)
                $authorizations = @($Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeAuthorization] })
                @($authorizations.Identifier.Value | Sort-Object) | Should -Be @('example.com', 'www.example.com')
                $authorizations | ForEach-Object { $_.Challenges.Type | Should -Contain 'http-01' }
                $order = @($Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] })
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
            Answer = 'example-pfx-password'  # the PFX example reads its password with Read-Host
            Check  = {
                param($Output, $Folder)
                $orders = @($Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] })
                @($orders.Names) | Should -Be @('example.com', 'app.example.com')
                $orders | ForEach-Object { $_.Status | Should -Be 'Ready' }
                $certificates = @($Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] })
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
        DnsPersist     = @{ Check = {
                param($Output)
                $records = @($Output | Where-Object { $_ -is [Acme.Protocol.Challenges.Dns01.DnsTxtRecord] })
                @($records.Name) | Should -Be @('_validation-persist.example.com', '_validation-persist.example.com')
                $records[0].Value | Should -Match '^letsencrypt\.org; accounturi=https://\S+/my-account/\S+; persistUntil=\d+$'
                $records[1].Value | Should -Match '; policy=wildcard; persistUntil=\d+$'
            }
        }
        DnsChallenge   = @{ Check = {
                param($Output)
                $certificate = @($Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] })
                $certificate.Count | Should -Be 1
                @($certificate[0].Names | Sort-Object) | Should -Be @('*.example.com', 'example.com')
                Test-CertificateChain -Certificate $certificate[0].Certificate -Intermediate $certificate[0].Chain -Root $pebbleRoot | Should -BeTrue
                $order = @($Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] })
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
                $pending = @($Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeAuthorization] })
                @($pending.Identifier.Value | Sort-Object) | Should -Be @('example.com', 'www.example.com')
                $pending | ForEach-Object { $_.Status | Should -Be 'Pending' }
                $table = $Output | Where-Object { $_.GetType().FullName -like 'Microsoft.PowerShell.Commands.Internal.Format.*' } | Out-String -Width 300
                $table | Should -Match '_acme-challenge\.example\.com\s+\S{43}'
                $table | Should -Match '_acme-challenge\.www\.example\.com\s+\S{43}'
                $certificates = @($Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] })
                @($certificates | ForEach-Object { ($_.Names | Sort-Object) -join ',' }) | Should -Be @('example.com,www.example.com', 'api.example.com', 'cdn.example.com')
                foreach ($c in $certificates) { Test-CertificateChain -Certificate $c.Certificate -Intermediate $c.Chain -Root $pebbleRoot | Should -BeTrue }
                @($State.Served | Sort-Object -Unique).Count | Should -Be 4 -Because 'the CA fetched each answer from the share'
            }
        }
        ScaleOut   = @{
            Setup    = {
                param($Folder, $Parameters, $Ca)
                # The shared store: a folder here. The first example's responder serves it on a free port for a
                # few seconds while a probe fetches an answer from it; a responder process on Pebble's http-01
                # port (a host behind the balancer) serves it for the second example's validations.
                $Parameters.Store = Join-Path $Folder 'share'
                $null = New-Item -ItemType Directory $Parameters.Store
                $Parameters.Port = Get-FreeTcpPort
                $Parameters.CheckUrl = "http://127.0.0.1:$($Ca.HttpPort)"
                $global:PSDefaultParameterValues['Start-AcmeChallengeResponder:TimeoutSec'] = 4
                $store = [Acme.Protocol.ChallengeStores.ChallengeStoreFactory]::Open($Parameters.Store)
                $store.PublishAsync('probeToken', 'probeToken.thumbprint', [DateTimeOffset]::UtcNow.AddMinutes(5), [Threading.CancellationToken]::None).GetAwaiter().GetResult()
                $probe = Start-ThreadJob -ArgumentList $Parameters.Port -ScriptBlock {
                    param($Port)
                    $deadline = [DateTime]::UtcNow.AddSeconds(20)
                    while ([DateTime]::UtcNow -lt $deadline) {
                        try { return [Text.Encoding]::ASCII.GetString((Invoke-WebRequest "http://127.0.0.1:$Port/.well-known/acme-challenge/probeToken").Content) } catch { Start-Sleep -Milliseconds 100 }
                    }
                }
                $responder = Start-TestResponder -Store $Parameters.Store -Port $Ca.HttpPort -LogPath (Join-Path $Folder 'responder.log')
                Wait-TestResponder $responder
                @{ Probe = $probe; Responder = $responder; Store = $store }
            }
            Teardown = {
                param($State)
                $global:PSDefaultParameterValues.Remove('Start-AcmeChallengeResponder:TimeoutSec')
                Stop-TestProcess $State.Responder.Process
            }
            Check    = {
                param($Output, $Folder, $State)
                $summary = Get-OfType $Output ([Acme.Protocol.Challenges.Http01.AcmeResponderSummary])
                $summary.Count | Should -Be 1
                $summary[0].Answered | Should -Be 1
                $State.Probe | Wait-Job | Receive-Job | Should -Be 'probeToken.thumbprint'
                @((Get-OfType $Output ([System.IO.FileInfo])).Name) | Should -Be @('cert.pem', 'chain.pem', 'fullchain.pem', 'key.pem')
                Assert-PemFolder (Join-Path $Folder 'cert') 'example.com', 'www.example.com'
                (Get-TestAnswerCount $State.Responder) | Should -BeGreaterOrEqual 4 -Because 'the responder answered two self-checks and two validations'
                $null = $State.Store.RemoveAsync('probeToken', [Threading.CancellationToken]::None).GetAwaiter().GetResult()
                Get-ChildItem -Recurse -Force (Join-Path $Folder 'share') | Should -BeNullOrEmpty -Because 'answers and the lock are gone'
            }
        }
        State      = @{ Check = {
                param($Output, $Folder)
                $accounts = @($Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeAccount] })
                $accounts.Count | Should -Be 2 -Because 'New-AcmeAccount wrote one, and Get-AcmeAccount listed the only one saved'
                $accounts | ForEach-Object { $_.Name | Should -Be 'web' }
                $orders = @($Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeOrder] })
                $orders[0].Name | Should -Be 'example.com'
                $orders[0].Status | Should -Be 'Pending'
                $orders[-1].Status | Should -Be 'Valid' -Because 'Get-AcmeOrder lists the order as saved after completion'
                $certificates = @($Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] })
                $certificates.Count | Should -Be 2
                $certificates[1].Thumbprint | Should -Be $certificates[0].Thumbprint -Because 'Get-AcmeCertificate read back the one just issued'
                Assert-PemFolder (Join-Path $Folder 'cert') 'example.com', 'www.example.com'
            }
        }
        Renewal    = @{ Check = {
                param($Output, $Folder)
                $checks = @($Output | Where-Object { $_ -is [Acme.Protocol.Renewal.AcmeRenewalCheck] })
                $checks.Count | Should -Be 1
                $checks[0].Due | Should -BeFalse -Because 'a Pebble certificate is valid for years'
                Test-Path (Join-Path $Folder 'certs') | Should -BeFalse -Because 'nothing was due, so nothing was renewed or exported'
                $renewed = @($Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] })
                $renewed.Count | Should -Be 1
                $renewed[0].Thumbprint | Should -Not -Be $checks[0].Certificate.Thumbprint
                @($renewed[0].Names | Sort-Object) | Should -Be @('example.com', 'www.example.com')
                $renewed[0].Name | Should -Be 'example.com'
                # ExportEach: the script block named the folder of each certificate; WhereExported reads it back.
                (Read-PemCertificate (Join-Path $Folder 'sites/example.com/cert.pem')).Thumbprint | Should -Be $renewed[0].Thumbprint
                $where = @($Output | Where-Object { $_ -isnot [Acme.Protocol.Model.AcmeCertificate] -and $_.PSObject.Properties['FullChainFile'] })
                $where.Count | Should -Be 1
                $where[0].Name | Should -Be 'example.com'
                $where[0].FullChainFile | Should -Be (Join-Path $Folder 'sites/example.com/fullchain.pem')
                $where[0].DaysLeft | Should -BeGreaterThan 0
            }
        }
        RenewalWorker = @{ Check = {
                param($Output, $Folder)
                $results = @($Output | Where-Object { $_ -is [Acme.Protocol.Renewal.AcmeRenewalResult] })
                # WorkerOnce: both certificates issued and exported, each to its own folder.
                $first = @($results | Where-Object Pass -EQ 1 | Select-Object -First 2)
                @($first.Action) | Should -Be @('Issued', 'Issued')
                @($first.Name | Sort-Object) | Should -Be @('api.example.com', 'example.com')
                Assert-PemFolder (Join-Path $Folder 'certs/example.com') 'example.com', 'www.example.com'
                Assert-PemFolder (Join-Path $Folder 'certs/api.example.com') 'api.example.com'
                # WorkerIssuedBefore: both replaced, whatever the renewal rule says (selected, so plain objects).
                $replaced = @($Output | Where-Object { $_ -isnot [Acme.Protocol.Renewal.AcmeRenewalResult] -and $_.PSObject.Properties['Action'] -and $_.PSObject.Properties['Thumbprint'] })
                $replaced.Count | Should -Be 2
                @($replaced.Action | Sort-Object -Unique) | Should -Be @('Renewed')
                @($replaced.Reason | Sort-Object -Unique) | Should -Be @('IssuedBefore')
                foreach ($r in $replaced) { $r.Thumbprint | Should -Not -Be ($first | Where-Object Name -EQ $r.Name).Thumbprint }
                # WorkerNotDue: the new versions are not due; nothing was ordered.
                $notDue = @($Output | Where-Object { $_.PSObject.Properties['RenewAt'] -and -not $_.PSObject.Properties['Action'] })
                $notDue.Count | Should -Be 2
                @($notDue.Reason | Sort-Object -Unique) | Should -Be @('NotDue')
                foreach ($n in $notDue) { $n.RenewAt | Should -BeGreaterThan ([DateTimeOffset]::UtcNow) }
            }
        }
        NewCertificate = @{ Check = {
                param($Output, $Folder)
                $certificates = @($Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] })
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
        KeyPassphrase = @{
            Answer = 'example-key-passphrase'  # the new passphrase, read with Read-Host
            Check  = {
                param($Output, $Folder, $State, $Ca)
                $change = @($Output | Where-Object { $_ -is [Acme.Protocol.State.AcmeKeyPassphraseChange] })
                $change.Count | Should -Be 1
                $change[0].Rotated | Should -Be 2 -Because 'the account key and the certificate key'
                $change[0].Failed | Should -Be 0
                $change[0].Encrypted | Should -BeTrue
                $keys = @(Get-ChildItem -LiteralPath $change[0].StatePath -Recurse -File | Where-Object Name -Match 'key.*\.pem$')
                $keys.Count | Should -Be 2
                $keys | ForEach-Object {
                    $pem = Get-Content -Raw $_.FullName
                    $pem | Should -Match '^-----BEGIN ENCRYPTED PRIVATE KEY-----'
                    { [Acme.Protocol.Crypto.AcmeKey]::ImportPem($pem, 'example-key-passphrase'.ToCharArray()) } | Should -Not -Throw
                }
            }
        }
        AccountKey = @{
            Answer = 'example-key-passphrase'  # the passphrase the encrypted key is written and read with
            Check  = {
                param($Output, $Folder, $State, $Ca)
                $path = { param($Name) Join-Path $Folder $Name }
                @((Get-OfType $Output ([System.IO.FileInfo])).Name) | Should -Be @('account.pem', 'account-encrypted.pem')
                Get-Content -Raw (& $path 'account.pem') | Should -Match '^-----BEGIN PRIVATE KEY-----'
                Get-Content -Raw (& $path 'account-encrypted.pem') | Should -Match '^-----BEGIN ENCRYPTED PRIVATE KEY-----'
                $accounts = Get-OfType $Output ([Acme.Protocol.Model.AcmeAccount])
                $accounts.Count | Should -Be 3
                $moved, $found, $existing = $accounts
                $moved.Contact | Should -Be @('mailto:admin@example.com') -Because 'the key file found the account the script made with that contact'
                $moved.KeyThumbprint | Should -Be (Get-KeyThumbprint (& $path 'account.pem'))
                $found.Location | Should -Be $moved.Location -Because 'the encrypted file holds the same key'
                Get-Content -Raw (& $path 'my-account-key.pem') | Should -Match '^-----BEGIN ENCRYPTED PRIVATE KEY-----'
                $existing.KeyThumbprint | Should -Be (Get-KeyThumbprint (& $path 'my-account-key.pem') 'example-key-passphrase')
                $existing.Location | Should -Not -Be $moved.Location
                # Rolled over twice: to the EC P-384 key saved in account-2026.pem, then to new-account-key.pem.
                [Acme.Protocol.Crypto.AcmeKey]::ImportPem((Get-Content -Raw (& $path 'account-2026.pem'))).Name | Should -Be 'EC384'
                $server = @{ Server = $Ca.Directory; TrustedRootCertificate = $Ca.ApiRootPath }
                (Get-AcmeAccount @server -KeyPath (& $path 'new-account-key.pem')).Location | Should -Be $moved.Location
                foreach ($old in 'account.pem', 'account-2026.pem') {
                    $e = { Get-AcmeAccount @server -KeyPath (& $path $old) -ErrorAction Stop } | Should -Throw -PassThru
                    $e.FullyQualifiedErrorId | Should -BeLike 'AcmeAccountDoesNotExist,*' -Because "the CA no longer takes the key in $old"
                }
            }
        }
        Account    = @{ Check = {
                param($Output, $Folder, $State, $Ca)
                $accounts = Get-OfType $Output ([Acme.Protocol.Model.AcmeAccount])
                $accounts.Count | Should -Be 4
                $changed, $cleared, $disabled, $disabledFromFile = $accounts
                (Get-AccountAtCa $changed).Contact | Should -Be @('mailto:ops@example.com') -Because 'the CA holds the new contact'
                $cleared.Contact | Should -BeNullOrEmpty
                (Get-AccountAtCa $cleared).Contact | Should -BeNullOrEmpty -Because 'the CA dropped admin@example.com'
                foreach ($a in $disabled, $disabledFromFile) {
                    $a.Status | Should -Be 'Deactivated'
                    { $a | New-AcmeOrder -DnsName example.com -ErrorAction Stop } | Should -Throw -ExpectedMessage '*deactivated*'
                }
                { Get-AcmeAccount -Server $Ca.Directory -TrustedRootCertificate $Ca.ApiRootPath -KeyPath (Join-Path $Folder 'old-account.pem') -ErrorAction Stop } |
                    Should -Throw -ExpectedMessage '*deactivated*'
            }
        }
        ResumeOrder = @{ Check = {
                param($Output, $Folder, $State, $Ca)
                $certificate = Get-OfType $Output ([Acme.Protocol.Model.AcmeCertificate])
                $certificate.Count | Should -Be 1
                $certificate[0].Names | Should -Be @('example.com')
                $certificate[0].Order.Location.AbsoluteUri | Should -Be (Get-Content (Join-Path $Folder 'order-url.txt')) -Because 'the saved order was resumed, not a new one placed'
                Test-CertificateChain -Certificate $certificate[0].Certificate -Intermediate $certificate[0].Chain -Root $pebbleRoot | Should -BeTrue
                $authorizations = Get-OfType $Output ([Acme.Protocol.Model.AcmeAuthorization])
                $authorizations.Identifier.Value | Should -Be @('shop.example.net')
                $authorizations.Status | Should -Be @('Deactivated')
                $Output[-1] | Should -Be 'Invalid' -Because 'the CA invalidated the order whose authorization was deactivated'
            }
        }
        Remove     = @{ Check = {
                param($Output, $Folder)
                $statePath = Join-Path $Folder '.acme-state'
                @($Output | Where-Object { $_ -is [Acme.Protocol.Model.AcmeAccount] }).Count | Should -Be 0 -Because 'the only account was removed, and Remove-* write nothing without -PassThru'
                Get-AcmeCertificate -StatePath $statePath | Should -BeNullOrEmpty
                Get-AcmeAccount -StatePath $statePath | Should -BeNullOrEmpty
                @(Get-ChildItem -Path $statePath -Recurse -Filter '*key*.pem' -File).Count | Should -Be 0 -Because 'no key is left behind'
                @(Get-ChildItem -Path $statePath -Recurse -Filter 'fullchain.pem' -File).Count | Should -Be 0 -Because 'no certificate version is left behind'
                @(Get-ChildItem -Path $statePath -Recurse -Filter '*.pem' -File).Name | Should -Be @('trusted-root.pem') -Because 'only the server''s trusted root stays'
            }
        }
        Revoke     = @{ Check = {
                param($Output, $Folder, $State, $Ca)
                $certificate = Get-OfType $Output ([Acme.Protocol.Model.AcmeCertificate])
                $certificate.Count | Should -Be 1
                $status = Get-PebbleCertificateStatus $Ca $certificate[0].Certificate
                $status.Status | Should -Be 'Revoked'
                $status.Reason | Should -Be 4 -Because 'Superseded is RFC 5280 reason code 4'
                $status = Get-PebbleCertificateStatus $Ca (Read-PemCertificate (Join-Path $Folder 'cert/cert.pem'))
                $status.Status | Should -Be 'Revoked'
                $status.Reason | Should -Be 1 -Because 'KeyCompromise is RFC 5280 reason code 1'
            }
        }
        Finalize   = @{
            Pebble = @{ AlternateRoots = 1 }
            Answer = 'example-pfx-password'  # the PFX file is written and read with it
            Setup  = { param($Folder, $Parameters, $Ca) $Parameters.RootName = (Get-PebbleRootCertificate $Ca -Index 1).GetNameInfo('SimpleName', $false) }
            Check  = {
                param($Output, $Folder, $State, $Ca)
                $certificates = Get-OfType $Output ([Acme.Protocol.Model.AcmeCertificate])
                $certificates.Count | Should -Be 4
                $reused, $fromPfx, $fromCsr, $preferred = $certificates
                $earlier = Read-PemCertificate (Join-Path $Folder 'cert/cert.pem')
                $reused.Thumbprint | Should -Not -Be $earlier.Thumbprint
                $reused.Certificate.GetPublicKeyString() | Should -Be $earlier.GetPublicKeyString() -Because 'the new certificate is for the key in cert/key.pem'
                $fromPfx.Thumbprint | Should -Not -Be $earlier.Thumbprint
                $fromPfx.Certificate.GetPublicKeyString() | Should -Be $earlier.GetPublicKeyString() -Because 'the new certificate is for the key in site.pfx'
                $fromPfx.Key.Thumbprint | Should -Be $reused.Key.Thumbprint
                $csr = [System.Security.Cryptography.X509Certificates.CertificateRequest]::LoadSigningRequestPem(
                    (Get-Content -Raw (Join-Path $Folder 'example.csr')), 'SHA256')
                [Convert]::ToHexString($fromCsr.Certificate.PublicKey.EncodedKeyValue.RawData) |
                    Should -Be ([Convert]::ToHexString($csr.PublicKey.EncodedKeyValue.RawData)) -Because 'the certificate is for the CSR''s key'
                $fromCsr.Key | Should -BeNullOrEmpty -Because 'the CSR''s key never left where it was made'
                @($fromCsr.Names | Sort-Object) | Should -Be @('example.com', 'www.example.com')
                $roots = 0, 1 | ForEach-Object { Get-PebbleRootCertificate $Ca -Index $_ }
                $reused.ChainIssuer | Should -Be $roots[0].Subject -Because 'without -PreferredChain the CA''s default chain is kept'
                $preferred.ChainIssuer | Should -Be $roots[1].Subject
                Test-CertificateChain -Certificate $preferred.Certificate -Intermediate $preferred.Chain -Root $roots[1] | Should -BeTrue
            }
        }
        DnsProvider = @{
            Check = {
                param($Output)
                $providers = Get-OfType $Output ([Acme.Protocol.Challenges.Dns01.DnsProviderInfo])
                $providers.Name | Should -Contain 'PowerDNS'
                $providers | ForEach-Object { $_.HelpTopic | Should -Be 'about_Acme_DnsProviders' }
                $parameters = Get-OfType $Output ([Acme.Protocol.Challenges.Dns01.DnsProviderParameter])
                $parameters.Count | Should -BeGreaterThan 1
                @($parameters | Where-Object IsSecret).Count | Should -BeGreaterThan 0 -Because 'PowerDNS has an API key'
                @($parameters | Where-Object IsRequired).Count | Should -BeGreaterThan 0
            }
        }
        Directory  = @{
            Setup = { param($Folder, $Parameters, $Ca) $Parameters.PrivateCa = $Ca.Directory }
            Check = {
                param($Output, $Folder, $State, $Ca)
                $base = [regex]::Escape(($Ca.Directory -replace '/dir$'))
                $list = $Output | Where-Object { $_.GetType().FullName -like 'Microsoft.PowerShell.Commands.Internal.Format.*' } | Out-String -Width 300
                $list | Should -Match "NewOrder\s+: $base/\S+"
                $list | Should -Match "RevokeCert\s+: $base/\S+"
                $list | Should -Match 'TermsOfService\s+: data:text/plain'
                $list | Should -Match 'ExternalAccountRequired\s+: False'
                $directory = Get-OfType $Output ([Acme.Protocol.Model.AcmeDirectory])
                $directory.Count | Should -Be 1
                $directory[0].NewAccount.AbsoluteUri | Should -Match "^$base/"
            }
        }
        ExternalAccount = @{
            # A Pebble that creates no account without a valid binding: the accounts prove the bindings.
            Pebble     = @{ ExternalAccountBindingRequired = $true; ExternalAccountMacKeys = @{ 'kid-1' = $eabKeys[0]; 'kid-2' = $eabKeys[1] } }
            Parameters = @{ KeyId = 'kid-2' }
            Setup      = {
                param($Folder)
                # The first example's prompt is answered with kid-1; the second reads kid-2's HMAC key from a file.
                Set-Content -Path (Join-Path $Folder 'eab-hmac.key') -Value $eabKeys[1]
                $credential = [pscredential]::new('kid-1', (ConvertTo-SecureString $eabKeys[0] -AsPlainText -Force))
                $null = New-Item -Path function:global:Get-Credential -Value { $credential }.GetNewClosure() -Force
            }
            Teardown   = { Remove-Item -LiteralPath function:global:Get-Credential }
            Check      = {
                param($Output, $Folder)
                $accounts = Get-OfType $Output ([Acme.Protocol.Model.AcmeAccount])
                $accounts.Count | Should -Be 2
                $accounts | ForEach-Object { $_.Status | Should -Be 'Valid' }
                $accounts[0].Contact | Should -Be @('mailto:admin@example.com')
                $accounts[0].Location | Should -Not -Be $accounts[1].Location
                # New-AcmeCertificate made a third account, bound with kid-2, and issued with it.
                $certificate = @(Get-OfType $Output ([Acme.Protocol.Model.AcmeCertificate]))
                $certificate.Count | Should -Be 1
                $certificate[0].Names | Should -Be @('example.com')
                $eab = Get-AcmeAccount -Name eab -StatePath (Join-Path $Folder '.acme-state')
                $eab.Status | Should -Be 'Valid'
                $eab.Location | Should -Not -BeIn @($accounts.Location)
                $certificate[0].Order.Account.Location | Should -Be $eab.Location
                Test-Path (Join-Path $Folder 'cert/fullchain.pem') | Should -BeTrue
                @($Output | Where-Object { "$_" -match [regex]::Escape($eabKeys[0]) -or "$_" -match [regex]::Escape($eabKeys[1]) }) | Should -BeNullOrEmpty -Because 'an HMAC key is never output'
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
        # A script that needs a CA set up otherwise (external account binding, alternate chains) gets its own Pebble.
        $ownPebble = $expectation.Pebble
        if ($ownPebble -and $pebble.External) { Set-ItResult -Skipped -Because 'it needs a Pebble of its own, and the tests run against an external CA'; return }
        $ca = if ($ownPebble) { Start-TestPebble @ownPebble } else { $pebble }
        $declared = (Get-Command $Path).Parameters
        $parameters = @{}
        if ($declared.ContainsKey('Server')) { $parameters.Server = $ca.Directory }
        if ($declared.ContainsKey('TrustedRootCertificate')) { $parameters.TrustedRootCertificate = $ca.ApiRootPath }
        if ($declared.ContainsKey('HttpPort')) { $parameters.HttpPort = $ca.HttpPort }
        if ($declared.ContainsKey('DnsServer')) { $parameters.DnsServer = "127.0.0.1:$($ca.DnsPort)" }
        if ($declared.ContainsKey('AddRecord')) { $parameters.AddRecord = $addRecord; $parameters.RemoveRecord = $removeRecord }
        if ($expectation.Parameters) { $parameters += $expectation.Parameters }
        $environmentDefaults = Get-EnvironmentDefault $ca
        $savedServer = $env:ACME_SERVER
        $savedConfirm = $global:ConfirmPreference
        # Each script gets a state folder of its own, as a reader's first run would.
        $savedState = $env:ACME_STATE_PATH
        $env:ACME_STATE_PATH = Join-Path $folder '.acme-state'
        try {
            $state = if ($expectation.Setup) { & $expectation.Setup $folder $parameters $ca }
            foreach ($d in $environmentDefaults.GetEnumerator()) { $global:PSDefaultParameterValues[$d.Key] = $d.Value }
            # Nobody is at the keyboard: confirmation prompts (revoke, deactivate, key rollover) are answered
            # Yes, and Read-Host, which examples read passphrases with, with the entry's Answer.
            $global:ConfirmPreference = 'None'
            if ($expectation.Answer) {
                $answer = $expectation.Answer
                $null = New-Item -Path function:global:Read-Host -Value { ConvertTo-SecureString $answer -AsPlainText -Force }.GetNewClosure() -Force
            }
            Push-Location $folder
            try {
                $output = @(& $Path @parameters)
            } finally {
                Pop-Location
                foreach ($key in $environmentDefaults.Keys) { $global:PSDefaultParameterValues.Remove($key) }
                $env:ACME_SERVER = $savedServer
                $env:ACME_STATE_PATH = $savedState
                $global:ConfirmPreference = $savedConfirm
                Remove-Item -LiteralPath function:global:Read-Host -ErrorAction Ignore
                if ($expectation.Teardown) { & $expectation.Teardown $state }
            }
            & $expectation.Check $output $folder $state $ca
        } finally {
            if ($ownPebble) { Stop-TestPebble $ca }
        }
    }
}
