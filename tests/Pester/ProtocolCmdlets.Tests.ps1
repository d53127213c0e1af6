#Requires -Version 7.2
# The contract of the account, order, revocation and ARI cmdlets, without a CA: confirmation levels,
# pipeline bindings, output types and views, help pages, and the ErrorIds of problems Pebble 2.4 never sends.
BeforeDiscovery {
    $script:added = @(
        'Disable-AcmeAccount', 'Disable-AcmeAuthorization', 'Export-AcmeAccountKey', 'Get-AcmeAccount', 'Get-AcmeDirectory',
        'Get-AcmeOrder', 'Get-AcmeRenewalInfo', 'Revoke-AcmeCertificate', 'Set-AcmeAccount', 'Update-AcmeAccountKey'
    )
}

BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    $script:docs = Join-Path $PSScriptRoot '../../docs/en-US'
    # -WhatIf and -Confirm have their own sections in a PlatyPS page; only the common parameters do not.
    $script:common = [System.Management.Automation.PSCmdlet]::CommonParameters
}

Describe 'Confirmation' {
    It '<_> asks for confirmation by default (ConfirmImpact High)' -ForEach 'Revoke-AcmeCertificate', 'Disable-AcmeAccount', 'Disable-AcmeAuthorization', 'Update-AcmeAccountKey', 'Remove-AcmeCertificate', 'Remove-AcmeOrder', 'Remove-AcmeAccount' {
        $attribute = (Get-Command $_).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attribute.SupportsShouldProcess | Should -BeTrue
        $attribute.ConfirmImpact | Should -Be 'High'
    }
}

Describe 'Pipeline bindings and outputs' {
    It '<Command> takes <Parameter> (<Type>) from the pipeline by value' -ForEach @(
        @{ Command = 'Set-AcmeAccount'; Parameter = 'Account'; Type = 'Acme.Protocol.Model.AcmeAccount' }
        @{ Command = 'Update-AcmeAccountKey'; Parameter = 'Account'; Type = 'Acme.Protocol.Model.AcmeAccount' }
        @{ Command = 'Disable-AcmeAccount'; Parameter = 'Account'; Type = 'Acme.Protocol.Model.AcmeAccount' }
        @{ Command = 'Export-AcmeAccountKey'; Parameter = 'Account'; Type = 'Acme.Protocol.Model.AcmeAccount' }
        @{ Command = 'Disable-AcmeAuthorization'; Parameter = 'Authorization'; Type = 'Acme.Protocol.Model.AcmeAuthorization' }
        @{ Command = 'Revoke-AcmeCertificate'; Parameter = 'Certificate'; Type = 'Acme.Protocol.Model.AcmeCertificate' }
        @{ Command = 'Get-AcmeRenewalInfo'; Parameter = 'Certificate'; Type = 'Acme.Protocol.Model.AcmeCertificate' }
    ) {
        $p = (Get-Command $Command).Parameters[$Parameter]
        $p.ParameterType.FullName | Should -Be $Type
        @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.ValueFromPipeline }) | Should -Not -BeNullOrEmpty
    }

    It '<Command> binds <Parameter> by property name' -ForEach @(
        @{ Command = 'Get-AcmeOrder'; Parameter = 'Account' }
        @{ Command = 'Get-AcmeOrder'; Parameter = 'Url'; Alias = 'Location' }
        @{ Command = 'Get-AcmeAccount'; Parameter = 'KeyPath'; Alias = 'FullName' }
        @{ Command = 'Revoke-AcmeCertificate'; Parameter = 'CertificatePath'; Alias = 'FullName' }
        @{ Command = 'Get-AcmeRenewalInfo'; Parameter = 'CertificatePath'; Alias = 'FullName' }
        @{ Command = 'Get-AcmeDirectory'; Parameter = 'Server'; Alias = 'DirectoryUrl' }
    ) {
        $p = (Get-Command $Command).Parameters[$Parameter]
        @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.ValueFromPipelineByPropertyName }) | Should -Not -BeNullOrEmpty
        if ($Alias) { $p.Aliases | Should -Contain $Alias }
    }

    It '<Command> outputs <Type>' -ForEach @(
        @{ Command = 'Get-AcmeDirectory'; Type = 'Acme.Protocol.Model.AcmeDirectory' }
        @{ Command = 'Get-AcmeAccount'; Type = 'Acme.Protocol.Model.AcmeAccount' }
        @{ Command = 'Update-AcmeAccountKey'; Type = 'Acme.Protocol.Model.AcmeAccount' }
        @{ Command = 'Export-AcmeAccountKey'; Type = 'System.IO.FileInfo' }
        @{ Command = 'Get-AcmeOrder'; Type = 'Acme.Protocol.Model.AcmeOrder' }
        @{ Command = 'Disable-AcmeAuthorization'; Type = 'Acme.Protocol.Model.AcmeAuthorization' }
        @{ Command = 'Get-AcmeRenewalInfo'; Type = 'Acme.Protocol.Model.AcmeRenewalInfo' }
        @{ Command = 'Revoke-AcmeCertificate'; Type = 'Acme.Protocol.Model.AcmeCertificate' }
    ) {
        (Get-Command $Command).OutputType.Type.FullName | Should -Be $Type
    }

    It 'reads the state folder by name by default, and keeps the sets that ask the CA' {
        (Get-Command Get-AcmeAccount).DefaultParameterSet | Should -Be 'ByName'
        (Get-Command Get-AcmeOrder).DefaultParameterSet | Should -Be 'ByName'
        (Get-Command Get-AcmeAccount).ParameterSets.Name | Should -Contain 'ByKey'
        (Get-Command Get-AcmeOrder).ParameterSets.Name | Should -Contain 'ByUrl'
    }

    It 'has a table view for <_>' -ForEach 'Acme.Protocol.Model.AcmeDirectory', 'Acme.Protocol.Model.AcmeRenewalInfo' {
        $view = Get-FormatData -TypeName $_
        $view.FormatViewDefinition[0].Control | Should -BeOfType ([System.Management.Automation.TableControl])
    }
}

Describe 'Help page for <_>' -ForEach $added {
    BeforeAll {
        $script:command = Get-Command $_
        $script:path = Join-Path $docs "$_.md"
        $script:text = if (Test-Path $path) { Get-Content -Raw $path } else { '' }
    }

    It 'exists with the PlatyPS front matter and sections' {
        Test-Path $path | Should -BeTrue
        $text | Should -Match '(?m)^external help file: Acme\.PowerShell\.dll-Help\.xml$'
        $text | Should -Match '(?m)^Module Name: Acme$'
        $text | Should -Match '(?m)^schema: 2\.0\.0$'
        foreach ($section in "# $_", '## SYNOPSIS', '## SYNTAX', '## DESCRIPTION', '## EXAMPLES', '## PARAMETERS', '### CommonParameters', '## INPUTS', '## OUTPUTS', '## NOTES', '## RELATED LINKS') {
            $text | Should -Match "(?m)^$([regex]::Escape($section))\s*$"
        }
        $text | Should -Match '(?m)^### Example 1: '
    }

    It 'lists exactly the cmdlet''s parameters' {
        $documented = [regex]::Matches($text, '(?m)^### -(\w+)\s*$') | ForEach-Object { $_.Groups[1].Value }
        $real = $command.Parameters.Keys | Where-Object { $_ -notin $common }
        ($documented | Sort-Object) | Should -Be ($real | Sort-Object)
    }

    It 'shows the syntax of each parameter set' {
        foreach ($set in $command.ParameterSets) {
            $heading = if ($set.IsDefault) { "### $($set.Name) (Default)" } else { "### $($set.Name)" }
            $text | Should -Match "(?m)^$([regex]::Escape($heading))\s*$"
        }
    }
}

Describe 'ErrorIds for problems Pebble 2.4 never sends' {
    It 'maps <Type> to <Id> (<Category>)' -ForEach @(
        @{ Type = 'alreadyReplaced'; Id = 'AcmeAlreadyReplaced'; Category = 'ResourceExists'; Action = '*-Replaces*' }
        @{ Type = 'invalidProfile'; Id = 'AcmeInvalidProfile'; Category = 'InvalidArgument'; Action = '*Get-AcmeDirectory*' }
        @{ Type = 'badRevocationReason'; Id = 'AcmeBadRevocationReason'; Category = 'InvalidArgument'; Action = $null }
    ) {
        $problem = [Acme.Protocol.Model.AcmeProblem]::new("urn:ietf:params:acme:error:$Type", "detail from the CA", 409)
        $exception = [Acme.Protocol.Model.AcmeProblemException]::Create($problem, $null)
        if ($Type -eq 'alreadyReplaced') { $exception | Should -BeOfType ([Acme.Protocol.Model.AcmeAlreadyReplacedException]) }
        $record = [Acme.PowerShell.Errors.AcmeErrorRecords]::Create($exception, $null)
        $record.FullyQualifiedErrorId | Should -Be $Id
        $record.CategoryInfo.Category | Should -Be $Category
        $record.ErrorDetails.Message | Should -BeLike '*detail from the CA*'
        if ($Action) { $record.ErrorDetails.RecommendedAction | Should -BeLike $Action }
    }
}
