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
        $text = Get-AcmeDnsProvider | Format-Table | Out-String -Width 250
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
