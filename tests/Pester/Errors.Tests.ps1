#Requires -Version 7.2
# The error catalogue (src/Acme.PowerShell/Errors/ErrorCatalog.cs): a row for every id the core raises,
# and the ids the documentation lists carry the category it says.
BeforeDiscovery {
    Import-Module $env:ACME_TEST_MODULE -Force
    $script:ids = @([enum]::GetValues([Acme.Protocol.Errors.AcmeErrorId]) | ForEach-Object { @{ Id = $_ } })
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    $script:about = Get-Content -Raw (Join-Path $PSScriptRoot '../../docs/en-US/about_Acme.md')
}

Describe 'The error catalogue' {
    It 'has a row for <Id>, whose ErrorId is Acme and its name' -ForEach $ids {
        $row = [Acme.PowerShell.Errors.ErrorCatalog]::For($Id)
        $row.Id | Should -Be $Id
        $row.ErrorId | Should -BeExactly "Acme$Id"
        [Acme.PowerShell.Errors.ErrorCatalog]::Find("Acme$Id").Id | Should -Be $Id
    }

    It 'finds an id made from a problem type written in another case (badCSR)' {
        [Acme.PowerShell.Errors.ErrorCatalog]::Find('AcmeBadCSR').Id | Should -Be ([Acme.Protocol.Errors.AcmeErrorId]::BadCsr)
        [Acme.PowerShell.Errors.ErrorCatalog]::Find('AcmeNoSuchThing') | Should -BeNullOrEmpty
    }

    It 'gives each id the category about_Acme lists it with' {
        # "- `AcmeA`, `AcmeB` (Category): ..." : every id before a "(Category)" takes that category.
        $checked = 0
        foreach ($item in [regex]::Matches($about, '(?ms)^- (`Acme.*?)(?=^- |^\s*$)')) {
            $pending = [System.Collections.Generic.List[string]]::new()
            foreach ($token in [regex]::Matches($item.Groups[1].Value, '`(Acme[A-Za-z]+)`|\(([A-Za-z]+)\)')) {
                if ($token.Groups[1].Success) { $pending.Add($token.Groups[1].Value); continue }
                $category = $token.Groups[2].Value
                if ($category -notin [enum]::GetNames([System.Management.Automation.ErrorCategory])) { $pending.Clear(); continue }
                foreach ($id in $pending) {
                    $row = [Acme.PowerShell.Errors.ErrorCatalog]::Find($id)
                    $row | Should -Not -BeNullOrEmpty -Because "about_Acme names $id"
                    [string]$row.Category | Should -Be $category -Because "about_Acme lists $id as $category"
                    $checked++
                }
                $pending.Clear()
            }
        }
        $checked | Should -BeGreaterThan 20
    }

    It 'makes the error record of a core exception from its row: id, category and recommended action' {
        $e = [Acme.Protocol.Errors.AcmeLocalException]::new([Acme.Protocol.Errors.AcmeErrorId]::StateReadOnly, 'The state folder /x cannot be written.')
        $record = [Acme.PowerShell.Errors.AcmeErrorRecords]::Create($e, $null)
        $record.FullyQualifiedErrorId | Should -Be 'AcmeStateReadOnly'
        $record.CategoryInfo.Category | Should -Be 'PermissionDenied'
        $record.ErrorDetails.RecommendedAction | Should -Be ([Acme.PowerShell.Errors.ErrorCatalog]::For('StateReadOnly').RecommendedAction)
        $record.Exception.Message | Should -Be 'The state folder /x cannot be written.'
    }

    It 'names in the bad-input corpus only ids the catalogue has' {
        $cases = & (Join-Path $PSScriptRoot 'BadInput.Cases.ps1')
        $named = @($cases | ForEach-Object { $_.ErrorId } | Where-Object { $_ -like 'Acme*' } | Sort-Object -Unique)
        $named.Count | Should -BeGreaterThan 20
        foreach ($id in $named) { [Acme.PowerShell.Errors.ErrorCatalog]::Find($id) | Should -Not -BeNullOrEmpty -Because "BadInput.Cases expects $id" }
    }
}

Describe 'What the user reads' {
    It 'shows the parameter to pass with the message where the catalogue says so, while the core message names none' {
        $e = [Acme.Protocol.Errors.AcmeArgumentException]::new([Acme.Protocol.Errors.AcmeErrorId]::KeyPasswordRequired, 'The key file /k.pem is encrypted, and no passphrase for it was given.')
        $record = [Acme.PowerShell.Errors.AcmeErrorRecords]::Create($e, $null)
        $record.ErrorDetails.Message | Should -BeLike 'The key file /k.pem is encrypted*-KeyPassphrase*'
        "$record" | Should -BeLike '*-KeyPassphrase*'
        $record.Exception.Message | Should -Not -BeLike '*-KeyPassphrase*'
    }

    It 'tells a dns-01 user without a zone to name the servers with -DnsServer' {
        $e = [Acme.Protocol.Errors.AcmeLocalException]::new([Acme.Protocol.Errors.AcmeErrorId]::DnsZoneNotFound, 'No zone with NS records was found above x.test.')
        "$([Acme.PowerShell.Errors.AcmeErrorRecords]::Create($e, $null))" | Should -Be 'No zone with NS records was found above x.test. Name the servers to ask with -DnsServer.'
    }

    It 'says that -TimeoutSec is not the limit when one request went unanswered' {
        $e = [Acme.Protocol.Errors.AcmeTimeoutException]::new('GET https://ca.test/dir did not answer within 30 seconds (the per-request timeout).', [timespan]::FromSeconds(30), $null)
        $record = [Acme.PowerShell.Errors.AcmeErrorRecords]::Create($e, $null)
        $record.FullyQualifiedErrorId | Should -Be 'AcmeTimeout'
        $record.ErrorDetails.Message | Should -BeLike '*per-request timeout*-TimeoutSec does not change it*'
    }

    It 'names no parameter in a row that is not shown with the message, and only real parameters where it is' {
        $names = @(Get-Command -Module Acme | ForEach-Object { $_.Parameters.Keys }) | Sort-Object -Unique
        foreach ($row in [Acme.PowerShell.Errors.ErrorCatalog]::Rows | Where-Object RecommendedAction) {
            foreach ($m in [regex]::Matches($row.RecommendedAction, '(?<![\w-])-([A-Z][A-Za-z]+)')) {
                $m.Groups[1].Value | Should -BeIn $names -Because "$($row.ErrorId) names -$($m.Groups[1].Value)"
            }
        }
    }
}
