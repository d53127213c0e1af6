#Requires -Version 7.2
# The cmdlet layer around the DNS provider contract: Get-AcmeDnsProvider, tab completion of provider names
# and of a provider's parameter names, the errors for bad provider input, and the provider saved with the
# certificate so that a renewal's Start-AcmeDnsChallenge needs no parameters (against a real Pebble; the
# provider runs are in the Describe blocks that start a real DNS server).
BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'AcmeTestHelpers.psm1') -Force

    function Get-Completion([string] $Line) { @((TabExpansion2 $Line $Line.Length).CompletionMatches) }
}

Describe 'Get-AcmeDnsProvider' {
    It 'lists every provider as a DnsProviderInfo with its parameters and the help topic' {
        $providers = @(Get-AcmeDnsProvider)
        $providers | ForEach-Object {
            $_ | Should -BeOfType ([Acme.Protocol.Challenges.Dns01.DnsProviderInfo])
            $_.HelpTopic | Should -Be 'about_Acme_DnsProviders'
            $_.Description | Should -Not -BeNullOrEmpty
            $_.TestedAgainst | Should -Not -BeNullOrEmpty
            $_.Parameters | ForEach-Object { $_.IsSecret | Should -Be ($_.Type -eq 'Secret') }
        }
        @($providers.Name | Select-Object -Unique).Count | Should -Be $providers.Count -Because 'a name selects one provider'
    }

    It 'refuses a name that is no provider with AcmeDnsProviderUnknown, naming the providers' {
        Get-AcmeDnsProvider -Name 'NoSuchDns' -ErrorVariable problem -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $problem.Count | Should -Be 1
        $problem[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderUnknown,*'
        $problem[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $problem[0].Exception.Message | Should -BeLike "*'NoSuchDns'*"
        $problem[0].ErrorDetails.RecommendedAction + $problem[0].Exception.Message | Should -Not -BeNullOrEmpty
    }

    It 'takes wildcards; a pattern that matches nothing is no error' {
        Get-AcmeDnsProvider -Name 'NoSuch*' -ErrorVariable problem | Should -BeNullOrEmpty
        $problem.Count | Should -Be 0
    }

    It 'shows a table whose columns are the name, parameters, tested against and help topic' {
        $text = Get-AcmeDnsProvider | Format-Table | Out-String -Width 2000
        if (@(Get-AcmeDnsProvider).Count -gt 0) {
            $text | Should -Match 'Name\s+Parameters\s+TestedAgainst\s+HelpTopic'
        }
    }
}

Describe 'Tab completion of DNS providers' {
    It 'offers every provider name after -Provider, -DnsProvider and Get-AcmeDnsProvider' {
        $names = @((Get-AcmeDnsProvider).Name | Sort-Object)
        foreach ($line in 'Start-AcmeDnsChallenge -Provider ', 'New-AcmeCertificate -DnsProvider ', 'Get-AcmeDnsProvider ') {
            @((Get-Completion $line).CompletionText | Sort-Object) | Should -Be $names -Because $line
        }
    }

    It 'offers nothing for the parameters of a provider that does not exist' {
        Get-Completion 'Start-AcmeDnsChallenge -Provider NoSuchDns -ProviderParameter @{ ' | Where-Object ResultType -EQ 'ParameterValue' |
            Should -BeNullOrEmpty
    }
}

Describe 'Bad DNS provider input, before anything is sent' {
    BeforeAll {
        $script:pebble = Start-TestPebble
        $script:account = New-TestAccount $pebble
    }
    AfterAll { Stop-TestPebble $pebble }

    It 'New-AcmeCertificate -DnsProvider refuses an unknown provider with AcmeDnsProviderUnknown and orders nothing' {
        $state = Join-Path $TestDrive 'unknown'
        { New-AcmeCertificate -DnsName 'unknown.test' -DnsProvider 'NoSuchDns' -Server $pebble.Directory -StatePath $state -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'AcmeDnsProviderUnknown,*'
        Test-Path -LiteralPath $state | Should -BeFalse -Because 'the provider is checked before the state folder is touched'
    }

    It 'Start-AcmeDnsChallenge -Provider refuses an unknown provider with AcmeDnsProviderUnknown' {
        $order = $account | New-AcmeOrder -DnsName 'unknown2.test'
        { $order | Start-AcmeDnsChallenge -Provider 'NoSuchDns' -ErrorAction Stop } | Should -Throw -ErrorId 'AcmeDnsProviderUnknown,*'
        (Get-AcmeOrder -Name $order.Name).Status | Should -Be 'Pending' -Because 'nothing was answered'
    }

    It 'Start-AcmeDnsChallenge with no parameters on an order whose certificate has no saved provider is AcmeDnsProviderNotSaved' {
        $order = $account | New-AcmeOrder -DnsName 'nosaved.test'
        $order | Start-AcmeDnsChallenge -ErrorVariable problem -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $problem.Count | Should -Be 1
        $problem[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderNotSaved,*'
        $problem[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $problem[0].Exception.Message | Should -BeLike "*'nosaved.test'*"
        $problem[0].ErrorDetails.RecommendedAction | Should -BeLike '*-Provider*'
    }
}

Describe 'A provider saved with the certificate and reused by its renewal (PowerDNS on a real pdns_server, Pebble asking that server)' {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'PowerDnsServer.psm1') -Force
        $script:pdns = Start-TestPowerDns
        $script:zone = 'example.test'
        # Short-lived certificates fall due during the test; Pebble validates dns-01 against the pdns_server.
        $script:pebble = Start-TestPebble -AuthzReusePercent 0 -DnsServer $pdns.DnsServer -CertificateValidityPeriod 30
        $script:secret = $pdns.ApiKey
        $script:passphrase = ConvertTo-SecureString 'state passphrase 51' -AsPlainText -Force
        $script:key = ConvertTo-SecureString $secret -AsPlainText -Force
        # The zone's NS records name no server this machine reaches; what a reader's machine would not need comes by default.
        $PSDefaultParameterValues['Start-AcmeDnsChallenge:DnsServer'] = $pdns.DnsServer
        $PSDefaultParameterValues['New-AcmeCertificate:DnsServer'] = $pdns.DnsServer
        $PSDefaultParameterValues['*-Acme*:TrustedRootCertificate'] = $pebble.ApiRootPath
        Remove-Item Env:ACME_KEY_PASSPHRASE -ErrorAction Ignore

        function Get-StateText([string] $Folder) { (Get-ChildItem -LiteralPath $Folder -Recurse -File | ForEach-Object { Get-Content -LiteralPath $_.FullName -Raw }) -join "`n" }

        function Wait-Due($Certificate) {
            $wait = (($Certificate | Test-AcmeRenewal).RenewAt - [DateTimeOffset]::UtcNow).TotalSeconds + 1
            if ($wait -gt 0) { Start-Sleep -Seconds $wait }
        }

        function New-Issued([string] $State, [string] $Name, [hashtable] $Parameters, [switch] $NoPassphrase) {
            $issue = @{ DnsName = "$Name.$zone", "*.$Name.$zone"; Name = $Name; Server = $pebble.Directory; AcceptTermsOfService = $true
                StatePath = $State; DnsProvider = 'PowerDNS'; DnsProviderParameter = $Parameters; Confirm = $false; ErrorAction = 'Stop' }
            if (-not $NoPassphrase) { $issue.KeyPassphrase = $passphrase }
            New-AcmeCertificate @issue -Verbose *>&1
        }
    }
    AfterAll {
        $PSDefaultParameterValues.Remove('Start-AcmeDnsChallenge:DnsServer')
        $PSDefaultParameterValues.Remove('New-AcmeCertificate:DnsServer')
        $PSDefaultParameterValues.Remove('*-Acme*:TrustedRootCertificate')
        Stop-TestPebble $pebble
        Stop-TestPowerDns $pdns
    }

    It 'offers a hashtable of PowerDNS''s parameters after -ProviderParameter, the required ones first' {
        $offered = Get-Completion 'Start-AcmeDnsChallenge -Provider PowerDNS -ProviderParameter '
        $offered.Count | Should -Be 2
        $offered[0].CompletionText | Should -Be "@{ ApiUrl = ''; ApiKey = '' }"
        $offered[1].CompletionText | Should -BeLike "@{ ApiUrl = ''; ApiKey = ''; *Ttl = 0* }"
        $offered[1].ToolTip | Should -Match 'ApiKey \(Secret, required, secret'
        (Get-Completion 'New-AcmeCertificate -DnsProvider powerdns -DnsProviderParameter ').Count | Should -Be 2 -Because 'provider names are case-insensitive'
    }

    It 'refuses a missing required parameter and an unset env: reference before any change' {
        $state = Join-Path $TestDrive 'refused'
        { New-AcmeCertificate -DnsName "refused.$zone" -Server $pebble.Directory -StatePath $state -DnsProvider PowerDNS -DnsProviderParameter @{ ApiUrl = $pdns.ApiUrl } -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'AcmeDnsProviderParameterMissing,*'
        Remove-Item Env:I16_NO_SUCH_TSIG -ErrorAction Ignore
        $e = { New-AcmeCertificate -DnsName "refused.$zone" -Server $pebble.Directory -StatePath $state -DnsProvider PowerDNS -DnsProviderParameter @{ ApiUrl = $pdns.ApiUrl; ApiKey = 'env:I16_NO_SUCH_TSIG' } -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'AcmeDnsProviderSecretUnavailable,*' -PassThru
        $e.Exception.Message | Should -BeLike '*I16_NO_SUCH_TSIG*'
        Test-Path -LiteralPath $state | Should -BeFalse
    }

    It 'refuses secret:<Name> with AcmeDnsProviderSecretUnavailable naming the module to install when SecretManagement is absent' -Skip:([bool](Get-Module -ListAvailable Microsoft.PowerShell.SecretManagement)) {
        $e = { New-AcmeCertificate -DnsName "vault.$zone" -Server $pebble.Directory -StatePath (Join-Path $TestDrive 'vault') -DnsProvider PowerDNS -DnsProviderParameter @{ ApiUrl = $pdns.ApiUrl; ApiKey = 'secret:pdns' } -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'AcmeDnsProviderSecretUnavailable,*' -PassThru
        $e.Exception.Message | Should -BeLike '*Microsoft.PowerShell.SecretManagement*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'with a key passphrase: issues apex + wildcard, saves the provider with the API key sealed, and renews through it with no DNS parameters' {
        $state = Join-Path $TestDrive 'sealed'
        $first = New-Issued $state 'renew' @{ ApiUrl = $pdns.ApiUrl; ApiKey = $key }
        $issued = @($first | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] })
        $issued.Count | Should -Be 1
        @($issued[0].Names | Sort-Object) | Should -Be @("*.renew.$zone", "renew.$zone")
        ($first | Out-String) | Should -Not -Match ([regex]::Escape($secret)) -Because 'no stream shows the API key'
        $file = Get-ChildItem -LiteralPath $state -Recurse -Filter 'dns-provider.json'
        $file.Count | Should -Be 1
        $saved = Get-Content -LiteralPath $file.FullName -Raw | ConvertFrom-Json
        $saved.provider | Should -Be 'PowerDNS'
        $saved.parameters.ApiUrl.value | Should -Be $pdns.ApiUrl
        $saved.parameters.ApiKey.sealed | Should -Match '^v1\.'
        Get-StateText $state | Should -Not -Match ([regex]::Escape($secret)) -Because 'the state folder holds the secret only sealed'
        if (-not $IsWindows) { @((Get-Item -LiteralPath $file.FullName).UnixFileMode.ToString() -split ', ' | Sort-Object) | Should -Be @('UserRead', 'UserWrite') -Because 'the file is owner-only' }

        Wait-Due $issued[0]
        $renewal = & {
            Get-AcmeCertificate -Name renew -StatePath $state -KeyPassphrase $passphrase | Test-AcmeRenewal | Where-Object Due |
                New-AcmeOrder | Start-AcmeDnsChallenge -Verbose | Complete-AcmeOrder -Verbose
        } *>&1
        $renewed = @($renewal | Where-Object { $_ -is [Acme.Protocol.Model.AcmeCertificate] })
        $renewed.Count | Should -Be 1 -Because "the renewal ran: $($renewal | Out-String)"
        $renewed[0].Thumbprint | Should -Not -Be $issued[0].Thumbprint
        ($renewal | Out-String) | Should -Match 'PowerDNS' -Because 'the verbose stream says which provider published'
        ($renewal | Out-String) | Should -Not -Match ([regex]::Escape($secret))
        Get-TestPowerDnsTxt $pdns -Name "_acme-challenge.renew.$zone" | Should -BeNullOrEmpty -Because 'the provider removed its records'
        Get-StateText $state | Should -Not -Match ([regex]::Escape($secret))
    }

    It 'without a passphrase: warns, saves the provider without the secret, and the renewal asks for it, then keeps an env: reference' {
        $state = Join-Path $TestDrive 'unsealed'
        $first = New-Issued $state 'plain' @{ ApiUrl = $pdns.ApiUrl; ApiKey = $key } -NoPassphrase
        $warnings = @($first | Where-Object { $_ -is [System.Management.Automation.WarningRecord] })
        $warnings.Count | Should -Be 1
        $warnings[0].Message | Should -BeLike '*ApiKey*not saved*'
        ($first | Out-String) | Should -Not -Match ([regex]::Escape($secret))
        Get-StateText $state | Should -Not -Match ([regex]::Escape($secret))
        $saved = Get-Content -LiteralPath (Get-ChildItem -LiteralPath $state -Recurse -Filter 'dns-provider.json').FullName -Raw | ConvertFrom-Json
        @($saved.unsaved) | Should -Be @('ApiKey')
        $saved.parameters.PSObject.Properties.Name | Should -Not -Contain 'ApiKey'

        $order = Get-AcmeCertificate -Name plain -StatePath $state | New-AcmeOrder
        $order | Start-AcmeDnsChallenge -ErrorVariable problem -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $problem[0].FullyQualifiedErrorId | Should -BeLike 'AcmeDnsProviderParameterMissing,*'
        $problem[0].Exception.Message | Should -BeLike "*'ApiKey'*not saved*"

        $env:I16_TEST_TSIG = $secret
        try {
            $renewed = $order | Start-AcmeDnsChallenge -ProviderParameter @{ ApiKey = 'env:I16_TEST_TSIG' } | Complete-AcmeOrder
            $renewed.Names | Should -Contain "*.plain.$zone"
            $saved = Get-Content -LiteralPath (Get-ChildItem -LiteralPath $state -Recurse -Filter 'dns-provider.json').FullName -Raw | ConvertFrom-Json
            $saved.parameters.ApiKey.reference | Should -Be 'env:I16_TEST_TSIG'
            @($saved.unsaved) | Should -BeNullOrEmpty
            $again = Get-AcmeCertificate -Name plain -StatePath $state | New-AcmeOrder | Start-AcmeDnsChallenge | Complete-AcmeOrder
            $again.Thumbprint | Should -Not -Be $renewed.Thumbprint -Because 'the saved env: reference renews with no parameters'
        }
        finally { Remove-Item Env:I16_TEST_TSIG }
        Get-StateText $state | Should -Not -Match ([regex]::Escape($secret))
    }

    It 'DSC: DnsProvider with the API key in DnsProviderCredential (its only secret) issues the certificate; a secret in clear in DnsProviderParameter is refused' {
        $resourceType = & ([scriptblock]::Create("using module '$env:ACME_TEST_MODULE'`n[AcmeCertificate]"))
        $state = Join-Path $TestDrive 'dsc'
        $resource = $resourceType::new()
        $resource.Name = 'dsc'; $resource.DnsName = @("dsc.$zone"); $resource.Server = $pebble.Directory; $resource.AcceptTermsOfService = $true
        $resource.StatePath = $state; $resource.ChallengeType = 'Dns'; $resource.DnsProvider = 'PowerDNS'; $resource.DnsServer = @($pdns.DnsServer)
        $resource.TrustedRootCertificate = $pebble.ApiRootPath
        $resource.DnsProviderParameter = @{ ApiUrl = $pdns.ApiUrl; ApiKey = $secret }
        $e = { $resource.Test() } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeSettingRequired*'
        $e.Exception.Message | Should -Not -Match ([regex]::Escape($secret))

        $resource.DnsProviderParameter = @{ ApiUrl = $pdns.ApiUrl }
        $resource.DnsProviderCredential = [pscredential]::new('any', $key)
        $resource.Set()
        $resource.Test() | Should -BeTrue
        (Get-AcmeCertificate -Name dsc -StatePath $state).Names | Should -Be @("dsc.$zone")
        Get-StateText $state | Should -Not -Match ([regex]::Escape($secret))
    }
}
