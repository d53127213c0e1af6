BeforeAll {
    Import-Module $env:ACME_TEST_MODULE -Force
    $script:module = Get-Module Acme
    $script:commands = Get-Command -Module Acme
}

Describe 'The module manifest' {
    It 'passes Test-ModuleManifest' {
        $manifest = Test-ModuleManifest -Path $env:ACME_TEST_MODULE
        $manifest.Name | Should -Be 'Acme'
        $manifest.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
        $manifest.PowerShellVersion | Should -Be ([version]'5.1')
    }

    It 'exports exactly the cmdlets the assembly defines, with no wildcard' {
        $declared = (Import-PowerShellDataFile $env:ACME_TEST_MODULE).CmdletsToExport
        $declared | Should -Not -Contain '*'
        $defined = $commands[0].ImplementingType.Assembly.GetTypes() |
            Where-Object { $_.IsPublic -and $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false) } |
            ForEach-Object { $a = $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]; "$($a.VerbName)-$($a.NounName)" }
        ($declared | Sort-Object) | Should -Be ($defined | Sort-Object)
        ($commands.Name | Sort-Object) | Should -Be ($declared | Sort-Object)
    }

    It 'uses only approved verbs' {
        $approved = (Get-Verb).Verb
        foreach ($c in $commands) { $approved | Should -Contain $c.Verb -Because $c.Name }
    }
}

Describe 'Cmdlet contract: <_.Name>' -ForEach @(Get-Command -Module (Import-Module $env:ACME_TEST_MODULE -PassThru -Force)) {
    It 'declares an OutputType' {
        $_.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'has a default parameter set' {
        $_.DefaultParameterSet | Should -Not -BeNullOrEmpty
    }

    It 'supports -WhatIf when it changes state' {
        if ($_.Verb -in 'New', 'Start', 'Complete', 'Export', 'Set', 'Remove', 'Revoke', 'Disable', 'Update', 'Submit') {
            $_.Parameters.Keys | Should -Contain 'WhatIf'
        }
    }
}

Describe 'Pipeline bindings' {
    It 'binds <Parameter> of <Command> from the pipeline by value' -ForEach @(
        @{ Command = 'New-AcmeOrder'; Parameter = 'Account'; Type = 'Acme.Protocol.Model.AcmeAccount' }
        @{ Command = 'Start-AcmeHttpChallenge'; Parameter = 'Order'; Type = 'Acme.Protocol.Model.AcmeOrder' }
        @{ Command = 'Complete-AcmeOrder'; Parameter = 'Order'; Type = 'Acme.Protocol.Model.AcmeOrder' }
        @{ Command = 'Export-AcmeCertificate'; Parameter = 'Certificate'; Type = 'Acme.Protocol.Model.AcmeCertificate' }
    ) {
        $p = (Get-Command $Command).Parameters[$Parameter]
        $p.ParameterType.FullName | Should -Be $Type
        @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.ValueFromPipeline }).Count | Should -BeGreaterThan 0
    }

    It 'makes each cmdlet output what the next one takes' {
        (Get-Command New-AcmeAccount).OutputType.Type | Should -Be ([Acme.Protocol.Model.AcmeAccount])
        (Get-Command New-AcmeOrder).OutputType.Type | Should -Be ([Acme.Protocol.Model.AcmeOrder])
        (Get-Command Start-AcmeHttpChallenge).OutputType.Type | Should -Be ([Acme.Protocol.Model.AcmeOrder])
        (Get-Command Complete-AcmeOrder).OutputType.Type | Should -Be ([Acme.Protocol.Model.AcmeCertificate])
        (Get-Command Export-AcmeCertificate).OutputType.Type | Should -Be ([System.IO.FileInfo])
    }
}

Describe 'Input refused before any request' {
    BeforeAll { $script:before = [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount }
    AfterAll { [Acme.Protocol.Transport.AcmeConnection]::TotalRequestCount | Should -Be $script:before }

    It 'refuses an http:// directory URL with AcmeInvalidServer' {
        { New-AcmeAccount -Server 'http://ca.example/dir' -AcceptTermsOfService -ErrorAction Stop } |
            Should -Throw -ErrorId 'AcmeInvalidServer,Acme.PowerShell.Commands.NewAcmeAccountCommand'
    }

    It 'refuses an unknown server name' {
        $e = { New-AcmeAccount -Server 'NoSuchCA' -AcceptTermsOfService -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeInvalidServer,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'refuses a malformed contact' {
        $e = { New-AcmeAccount -Server LetsEncryptStaging -Contact 'not an address' -AcceptTermsOfService -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'AcmeInvalidContact,*'
    }

    It 'refuses port <_> for the http-01 listener' -ForEach 0, 70000, -1 {
        $e = { Start-AcmeHttpChallenge -Order $null -Port $_ -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError*'
    }
}
