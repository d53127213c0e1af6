#Requires -Version 7.2
# The AcmeCertificate DSC resource, created through `using module` on the built module and driven by
# its Get, Test and Set methods as a DSC engine drives them, against a real Pebble (5% bad nonces).
# Requests are counted with [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount. Pebble 2.4 has no
# ARI, so renewal here follows the lifetime rule: this Pebble issues certificates valid for 30 seconds,
# which fall due 15 seconds after issuance (half the lifetime, under 10 days). That a CA's ARI window
# makes one due and the renewal names it in "replaces" is shown against a fake CA in
# tests/Acme.Protocol.Tests/StateFlowTests.cs.
BeforeAll {
    # `using module` takes a literal path, so the statement is compiled here for the module under test.
    $script:resourceType = & ([scriptblock]::Create("using module '$env:ACME_TEST_MODULE'`n[AcmeCertificate]"))
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force
    $script:pebble = Start-TestPebble -CertificateValidityPeriod 30
    $script:pebbleRoot = Get-PebbleRootCertificate $pebble
    $script:pfxCredential = [pscredential]::new('pfx', (ConvertTo-SecureString 'pfx-secret' -AsPlainText -Force))

    function New-Resource([hashtable] $Properties) {
        <# The resource as a configuration gives it: Pebble's directory, its root, its http-01 port, and the properties given. #>
        $resource = $resourceType::new()
        $resource.Server = $pebble.Directory
        $resource.TrustedRootCertificate = $pebble.ApiRootPath
        $resource.HttpPort = $pebble.HttpPort
        $resource.AcceptTermsOfService = $true
        foreach ($key in $Properties.Keys) { $resource.$key = $Properties[$key] }
        $resource
    }

    function Get-RequestCount { [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount }

    function Read-Thumbprint([string] $Path) { [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($Path).Thumbprint }

    function New-SelfSignedPfx {
        <# A PFX with the resource's password that holds some other certificate. #>
        $key = [System.Security.Cryptography.ECDsa]::Create()
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=old.web.dsc.test', $key, 'SHA256')
        $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddDays(-1), [DateTimeOffset]::UtcNow.AddDays(1)).Export('Pfx', 'pfx-secret')
    }

    function Get-Snapshot([string[]] $Folder) {
        <# Every file under the folders with its content hash, to prove that nothing changed. #>
        @(Get-ChildItem -LiteralPath ($Folder | Where-Object { Test-Path $_ }) -Recurse -Force -File | Sort-Object FullName |
                ForEach-Object { "$($_.FullName) $((Get-FileHash -LiteralPath $_.FullName).Hash)" })
    }
}

AfterAll {
    if ($script:pebble) { Stop-TestPebble $script:pebble }
}

Describe 'The resource as DSC sees it' {
    It 'is exported by the manifest and found as a class with Get, Test and Set' {
        (Import-PowerShellDataFile $env:ACME_TEST_MODULE).DscResourcesToExport | Should -Be @('AcmeCertificate')
        $resourceType.Name | Should -Be 'AcmeCertificate'
        $resourceType.GetCustomAttributes([System.Management.Automation.DscResourceAttribute], $false) | Should -Not -BeNullOrEmpty
        foreach ($method in 'Get', 'Test', 'Set') { $resourceType.GetMethod($method, [type[]]@()) | Should -Not -BeNullOrEmpty -Because $method }
    }

    It 'has the key, the settings and the read-only results the docs list' {
        $properties = @{}
        foreach ($p in $resourceType.GetProperties()) {
            $attribute = $p.GetCustomAttributes([System.Management.Automation.DscPropertyAttribute], $false)[0]
            $properties[$p.Name] = if ($attribute.Key) { 'Key' } elseif ($attribute.NotConfigurable) { 'Read' } else { 'Write' }
        }
        $properties['Name'] | Should -Be 'Key'
        foreach ($read in 'Thumbprint', 'NotAfter', 'RenewalDue') { $properties[$read] | Should -Be 'Read' -Because $read }
        foreach ($write in 'DnsName', 'Server', 'Contact', 'Ensure', 'ChallengeType', 'HttpPort', 'WebRoot', 'DnsScriptPath', 'DnsServer', 'DnsProvider', 'DnsProviderParameter', 'DnsProviderCredential', 'DnsChallengeType', 'StatePath',
            'Path', 'PfxPath', 'PfxCredential', 'KeyAlgorithm', 'Profile', 'RevokeOnAbsent', 'TrustedRootCertificate') {
            $properties[$write] | Should -Be 'Write' -Because $write
        }
    }
}

Describe 'One certificate through its life' {
    BeforeAll {
        $script:state = Join-Path $TestDrive 'life-state'
        $script:out = Join-Path $TestDrive 'life-pem'
        $script:pfx = Join-Path $TestDrive 'life.pfx'
        $script:resource = New-Resource @{ Name = 'web'; DnsName = 'web.dsc.test', 'www.web.dsc.test'; StatePath = $state; Path = $out
            PfxPath = $pfx; PfxCredential = $pfxCredential }
    }

    It 'is absent at first: Test is false and Get says Absent, and neither sends a request' {
        $before = Get-RequestCount
        $resource.Test() | Should -BeFalse
        $current = $resource.Get()
        $current.Ensure | Should -Be 'Absent'
        $current.Thumbprint | Should -BeNullOrEmpty
        $current.NotAfter | Should -BeNullOrEmpty
        Get-RequestCount | Should -Be $before
    }

    It 'Set issues the certificate and writes the PEM files and the PFX' {
        $before = Get-RequestCount
        $resource.Set()
        Get-RequestCount | Should -BeGreaterThan $before
        $saved = Get-AcmeCertificate -Name web -StatePath $state
        @($saved.Names | Sort-Object) | Should -Be @('web.dsc.test', 'www.web.dsc.test')
        $leaf = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile((Join-Path $out 'cert.pem'), (Join-Path $out 'key.pem'))
        $leaf.Thumbprint | Should -Be $saved.Thumbprint
        $chain = [System.Security.Cryptography.X509Certificates.X509Certificate2Collection]::new()
        $chain.ImportFromPemFile((Join-Path $out 'chain.pem'))
        Test-CertificateChain -Certificate $leaf -Intermediate $chain -Root $pebbleRoot | Should -BeTrue
        $fromPfx = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfx, 'pfx-secret')
        $fromPfx.Thumbprint | Should -Be $saved.Thumbprint
        $fromPfx.HasPrivateKey | Should -BeTrue
    }

    It 'Test is true right after Set, without a request' {
        $before = Get-RequestCount
        $resource.Test() | Should -BeTrue
        Get-RequestCount | Should -Be $before
    }

    It 'Get shows the thumbprint, NotAfter and the names, not due, without the PFX password' {
        $saved = Get-AcmeCertificate -Name web -StatePath $state
        $before = Get-RequestCount
        $current = $resource.Get()
        Get-RequestCount | Should -Be $before
        $current.Ensure | Should -Be 'Present'
        $current.Name | Should -Be 'web'
        $current.Thumbprint | Should -Be $saved.Thumbprint
        $current.NotAfter | Should -Be $saved.NotAfter
        $current.RenewalDue | Should -BeFalse
        @($current.DnsName | Sort-Object) | Should -Be @('web.dsc.test', 'www.web.dsc.test')
        $current.KeyAlgorithm | Should -Be 'EC256'
        $current.PfxCredential | Should -BeNullOrEmpty
    }

    It 'a second Set sends no request and rewrites nothing' {
        $files = Get-Snapshot $out, $pfx, $state
        $before = Get-RequestCount
        $resource.Set()
        Get-RequestCount | Should -Be $before
        Get-Snapshot $out, $pfx, $state | Should -Be $files
    }

    It 'a missing or stale output makes Test false, and Set writes it again without ordering' {
        Remove-Item -LiteralPath (Join-Path $out 'key.pem')
        $resource.Test() | Should -BeFalse
        $before = Get-RequestCount
        $resource.Set()
        Get-RequestCount | Should -Be $before -Because 'the saved certificate is only exported again'
        Join-Path $out 'key.pem' | Should -Exist

        # A PFX holding another certificate (an old one restored from a backup, say) is stale too.
        $other = New-SelfSignedPfx
        [System.IO.File]::WriteAllBytes($pfx, $other)
        $resource.Test() | Should -BeFalse
        $resource.Set()
        [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfx, 'pfx-secret').Thumbprint | Should -Be (Read-Thumbprint (Join-Path $out 'cert.pem'))
        $resource.Test() | Should -BeTrue
    }

    It 'another key in key.pem, or a chain file changed, makes Test false, and Set writes it again without ordering' {
        $key = Join-Path $out 'key.pem'
        $good = Get-Content -Raw -LiteralPath $key
        Set-Content -LiteralPath $key -Value ([Acme.Protocol.Crypto.AcmeKey]::Generate('EC256').ExportPkcs8Pem()) -NoNewline
        $resource.Test() | Should -BeFalse -Because 'key.pem holds a key that is not the certificate''s'
        $before = Get-RequestCount
        $resource.Set()
        Get-RequestCount | Should -Be $before -Because 'the saved certificate is only exported again'
        Get-Content -Raw -LiteralPath $key | Should -Be $good
        $resource.Test() | Should -BeTrue

        Set-Content -LiteralPath (Join-Path $out 'fullchain.pem') -Value (Get-Content -Raw -LiteralPath (Join-Path $out 'cert.pem')) -NoNewline
        $resource.Test() | Should -BeFalse -Because 'fullchain.pem lacks the chain'
        $resource.Set()
        Get-RequestCount | Should -Be $before
        $resource.Test() | Should -BeTrue
    }

    It 'a certificate made due makes Test false, and Set renews it (without "replaces": Pebble 2.4 offers no ARI)' -Skip:$pebble.External {
        $saved = Get-AcmeCertificate -Name web -StatePath $state
        $renewAt = ($saved | Test-AcmeRenewal).RenewAt
        $wait = ($renewAt - [DateTimeOffset]::UtcNow).TotalSeconds + 1
        if ($wait -gt 0) { Start-Sleep -Seconds $wait }

        $resource.Test() | Should -BeFalse
        $resource.Get().RenewalDue | Should -BeTrue
        $resource.Set()
        $renewed = Get-AcmeCertificate -Name web -StatePath $state
        $renewed.Thumbprint | Should -Not -Be $saved.Thumbprint
        @($renewed.Names | Sort-Object) | Should -Be @('web.dsc.test', 'www.web.dsc.test')
        (Get-AcmeOrder -Name web -StatePath $state).Replaces | Should -BeNullOrEmpty -Because 'the order names what it replaces only where the CA offers ARI'
        Read-Thumbprint (Join-Path $out 'cert.pem') | Should -Be $renewed.Thumbprint
        [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfx, 'pfx-secret').Thumbprint | Should -Be $renewed.Thumbprint
        $resource.Test() | Should -BeTrue
    }

    It 'names changed make Test false, and Set orders the new names' {
        $resource.DnsName = 'web.dsc.test', 'www.web.dsc.test', 'api.web.dsc.test'
        $resource.Test() | Should -BeFalse
        $resource.Set()
        @($resource.Get().DnsName | Sort-Object) | Should -Be @('api.web.dsc.test', 'web.dsc.test', 'www.web.dsc.test')
        $resource.Test() | Should -BeTrue
        # The same names in another case and order, with a trailing dot, are the same names.
        $resource.DnsName = 'API.web.dsc.test.', 'www.web.dsc.test', 'web.dsc.test'
        $resource.Test() | Should -BeTrue
    }

    It 'Ensure Absent: Test is false while the files exist; Set removes them and the saved certificate, and revokes nothing' {
        $last = Get-AcmeCertificate -Name web -StatePath $state
        $resource.Ensure = 'Absent'
        $resource.Test() | Should -BeFalse
        $resource.Set()
        foreach ($file in 'cert.pem', 'chain.pem', 'fullchain.pem', 'key.pem') { Join-Path $out $file | Should -Not -Exist }
        $pfx | Should -Not -Exist
        Get-AcmeCertificate -StatePath $state | Should -BeNullOrEmpty
        $resource.Test() | Should -BeTrue
        $resource.Get().Ensure | Should -Be 'Absent'
        if (-not $pebble.External) {
            (Invoke-RestMethod -Uri "$($pebble.ManagementUrl)/cert-status-by-serial/$($last.SerialNumber)" -SkipCertificateCheck).Status | Should -Be 'Valid'
        }
    }
}

Describe 'Other ways to the same state' {
    It 'Absent with RevokeOnAbsent revokes the certificate at the CA first, without a prompt' {
        $state = Join-Path $TestDrive 'revoke-state'
        $resource = New-Resource @{ Name = 'gone'; DnsName = 'gone.dsc.test'; StatePath = $state; RevokeOnAbsent = $true }
        $resource.Set()
        $issued = Get-AcmeCertificate -Name gone -StatePath $state
        $resource.Ensure = 'Absent'
        $resource.Set()
        Get-AcmeCertificate -StatePath $state | Should -BeNullOrEmpty
        if (-not $pebble.External) {
            (Invoke-RestMethod -Uri "$($pebble.ManagementUrl)/cert-status-by-serial/$($issued.SerialNumber)" -SkipCertificateCheck).Status | Should -Be 'Revoked'
        }
    }

    It 'ChallengeType Dns issues a wildcard through a DNS script file' {
        $state = Join-Path $TestDrive 'dns-state'
        $script = Join-Path $TestDrive 'dns-records.ps1'
        @'
function Add-AcmeDnsRecord {
    param($RecordName, $Value, $Identifier)
    Invoke-RestMethod -Method Post -Uri '@API@/set-txt' -Body (@{ host = "$RecordName."; value = $Value } | ConvertTo-Json) | Out-Null
}
function Remove-AcmeDnsRecord {
    param($RecordName, $Value, $Identifier)
    Invoke-RestMethod -Method Post -Uri '@API@/clear-txt' -Body (@{ host = "$RecordName." } | ConvertTo-Json) | Out-Null
}
'@.Replace('@API@', $pebble.ChallSrvUrl) | Set-Content -LiteralPath $script
        $resource = New-Resource @{ Name = 'wild'; DnsName = '*.wild.dsc.test'; StatePath = $state; ChallengeType = 'Dns'; DnsScriptPath = $script
            DnsServer = "127.0.0.1:$($pebble.DnsPort)"; KeyAlgorithm = 'EC384' }
        $resource.Test() | Should -BeFalse
        $resource.Set()
        $resource.Test() | Should -BeTrue
        $current = $resource.Get()
        $current.DnsName | Should -Be @('*.wild.dsc.test')
        $current.KeyAlgorithm | Should -Be 'EC384'

        # Another key type is another certificate.
        $resource.KeyAlgorithm = 'RSA2048'
        $resource.Test() | Should -BeFalse
        $resource.Set()
        $resource.Get().KeyAlgorithm | Should -Be 'RSA2048'
        $resource.Test() | Should -BeTrue
    }

    It 'a CA refusal reaches the caller with its ErrorId and the CA''s detail' {
        $resource = New-Resource @{ Name = 'blocked'; DnsName = 'blocked.test'; StatePath = (Join-Path $TestDrive 'blocked-state') }
        $e = { $resource.Set() } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeRejectedIdentifier,*'
        "$($e.Exception.Message) $($e.ErrorDetails.Message)" | Should -BeLike '*blocked.test*'
    }
}

Describe 'Wrong settings fail in Test and Set with a clear error and change nothing' {
    BeforeAll {
        $script:state = Join-Path $TestDrive 'wrong-state'
        $script:out = Join-Path $TestDrive 'wrong-pem'
        $script:good = @{ Name = 'kept'; DnsName = 'kept.dsc.test'; StatePath = $state; Path = $out }
        (New-Resource $good).Set()
    }

    It '<Case>: <Method> fails with <ErrorId>' -ForEach @(
        foreach ($method in 'Test', 'Set', 'Get') {
            @{ Method = $method; Case = 'a DnsScriptPath that does not exist'; ErrorId = 'AcmeDnsScriptNotFound'; Category = 'ObjectNotFound'
                Settings = @{ ChallengeType = 'Dns'; DnsScriptPath = '/no/such/dns-records.ps1' } }
            @{ Method = $method; Case = 'a DnsProvider that does not exist'; ErrorId = 'AcmeDnsProviderUnknown'; Category = 'InvalidArgument'
                Settings = @{ ChallengeType = 'Dns'; DnsProvider = 'NoSuchDns' } }
            @{ Method = $method; Case = 'HttpPort 0'; ErrorId = 'AcmeInvalidPort'; Category = 'InvalidArgument'; Settings = @{ HttpPort = 0 } }
            @{ Method = $method; Case = 'an unknown server shortcut'; ErrorId = 'AcmeInvalidServer'; Category = 'InvalidArgument'; Settings = @{ Server = 'NoSuchCA' } }
            @{ Method = $method; Case = 'a PFX without a password'; ErrorId = 'AcmePfxPasswordRequired'; Category = 'InvalidArgument'
                Settings = @{ PfxPath = 'wrong.pfx' } }
            @{ Method = $method; Case = 'Present without DnsName'; ErrorId = 'AcmeSettingRequired'; Category = 'InvalidArgument'; Settings = @{ DnsName = $null } }
            @{ Method = $method; Case = 'an unknown server shortcut with Ensure Absent'; ErrorId = 'AcmeInvalidServer'; Category = 'InvalidArgument'
                Settings = @{ Server = 'NoSuchCA'; Ensure = 'Absent' } }
        }
    ) {
        $properties = $good.Clone()
        foreach ($key in $Settings.Keys) { $properties[$key] = $Settings[$key] }
        $resource = New-Resource $properties
        $files = Get-Snapshot $state, $out
        $before = Get-RequestCount
        $e = { $resource.$Method() } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike "$ErrorId*"
        $e.CategoryInfo.Category | Should -Be $Category
        $e.Exception.Message | Should -Not -Match '\bat \S+\.\S+\(' -Because 'the message is not a stack trace'
        Get-RequestCount | Should -Be $before
        Get-Snapshot $state, $out | Should -Be $files
    }
}

Describe 'The configurations in the docs' {
    BeforeDiscovery {
        $repository = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
        $pages = @('docs/en-US/about_Acme_Dsc.md', 'README.md' | ForEach-Object { @{ Page = $_; Path = Join-Path $repository $_ } })
    }

    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot '../../build/HelpMarkdown.psm1') -Force
        $script:configurable = @($resourceType.GetProperties() | Where-Object {
                -not $_.GetCustomAttributes([System.Management.Automation.DscPropertyAttribute], $false)[0].NotConfigurable } | ForEach-Object Name)

        function Assert-Settings([System.Collections.IDictionary] $Settings, [string] $Where) {
            <# Each property exists and is configurable, and each value is one the resource takes, assigned as the engines assign it. #>
            $resource = $resourceType::new()
            foreach ($name in $Settings.Keys) {
                $name | Should -BeIn ($configurable + 'DependsOn', 'PsDscRunAsCredential') -Because "$Where sets $name"
                if ($name -in $configurable -and $null -ne $Settings[$name]) { { $resource.$name = $Settings[$name] } | Should -Not -Throw -Because "$Where sets $name" }
            }
        }
    }

    It 'every AcmeCertificate block of a Configuration in <Page> parses and sets only what the resource takes' -ForEach $pages {
        $blocks = foreach ($fence in Get-MarkdownExample -Path $Path | Where-Object Code -Match '(?m)^\s*Configuration\s') {
            $parsed = Read-ExampleCode $fence.Code
            $parsed.Errors | Should -BeNullOrEmpty -Because "the Configuration at line $($fence.Line) must parse"
            foreach ($command in $parsed.Ast.FindAll({ param($a) $a -is [System.Management.Automation.Language.CommandAst] -and $a.GetCommandName() -eq 'AcmeCertificate' }, $true)) {
                $settings = [ordered]@{}
                foreach ($statement in $command.CommandElements[-1].ScriptBlock.EndBlock.Statements) {
                    $elements = $statement.PipelineElements[0].CommandElements
                    $elements[1].Extent.Text | Should -Be '=' -Because "line $($statement.Extent.StartLineNumber) of $Page is 'Property = value'"
                    $value = try { $elements[2].SafeGetValue() } catch { $null }  # a variable, such as a credential parameter
                    $settings[$elements[0].Value] = $value
                }
                Assert-Settings $settings "$Page (the fence at line $($fence.Line))"
                $settings
            }
        }
        @($blocks).Count | Should -BeGreaterThan 0
        foreach ($settings in $blocks) { $settings.Keys | Should -Contain 'Name' }
    }

    It 'the DSC v3 document in about_Acme_Dsc is YAML whose AcmeCertificate instances set only what the resource takes' {
        $nuget = Split-Path (Split-Path (Split-Path (Get-Module Pester).ModuleBase))
        Add-Type -Path (Join-Path $nuget 'yamldotnet/16.3.0/lib/net8.0/YamlDotNet.dll')
        $text = Get-Content -Raw (Join-Path $PSScriptRoot '../../docs/en-US/about_Acme_Dsc.md')
        $documents = @([regex]::Matches($text, '(?ms)^```yaml\r?\n(.*?)^```') | ForEach-Object { $_.Groups[1].Value } | Where-Object { $_ -match 'Acme/AcmeCertificate' })
        $documents.Count | Should -BeGreaterThan 0
        foreach ($yaml in $documents) {
            $document = [YamlDotNet.Serialization.DeserializerBuilder]::new().Build().Deserialize([System.IO.StringReader]::new($yaml))
            $document['$schema'] | Should -BeLike 'https://aka.ms/dsc/schemas/v3/*'
            $instances = @($document['resources'] | Where-Object { $_['type'] -eq 'Acme/AcmeCertificate' })
            $instances.Count | Should -BeGreaterThan 0
            foreach ($instance in $instances) {
                # YAML scalars arrive as text, as DSC hands them to the adapter: the resource converts them.
                $settings = [ordered]@{}
                foreach ($key in $instance['properties'].Keys) {
                    $value = $instance['properties'][$key]
                    $settings[$key] = if ($value -is [System.Collections.IList]) { [string[]]@($value) } elseif ($value -eq 'true') { $true } else { $value }
                }
                Assert-Settings $settings "the instance '$($instance['name'])'"
            }
        }
    }
}

Describe 'Where there is no Windows certificate store' -Skip:$IsWindows {
    It 'CertStoreLocation keeps Test false and makes Set stop with AcmeCertificateStoreUnavailable' {
        $state = Join-Path $TestDrive 'store-state'
        $resource = New-Resource @{ Name = 'stored'; DnsName = 'stored.dsc.test'; StatePath = $state; CertStoreLocation = 'Cert:\LocalMachine\My' }
        $e = { $resource.Set() } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeCertificateStoreUnavailable,*'
        $resource.Test() | Should -BeFalse
    }
}
