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
