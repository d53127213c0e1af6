#Requires -Version 7.2
# Help for every exported cmdlet, checked against the cmdlets themselves, and the examples embedded in
# the pages and README.md checked against the scripts they are copied from. No CA is needed here;
# Examples.Tests.ps1 runs those scripts against Pebble.
BeforeDiscovery {
    $module = Import-Module $env:ACME_TEST_MODULE -PassThru -Force
    $repository = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $cmdlets = @(Get-Command -Module $module.Name -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } })
    $markdown = @(@(Get-ChildItem (Join-Path $repository 'docs/en-US') -Filter *.md) + @(Get-Item (Join-Path $repository 'README.md')) |
            ForEach-Object { @{ Name = $_.Name; Path = $_.FullName } })
}

BeforeAll {
    $module = Import-Module $env:ACME_TEST_MODULE -PassThru -Force
    Import-Module (Join-Path $PSScriptRoot '../../build/HelpMarkdown.psm1') -Force
    $repository = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $docs = Join-Path $repository 'docs/en-US'
    $common = [System.Management.Automation.Cmdlet]::CommonParameters

    $accelerators = [psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')::Get

    function Get-SyntaxToken([string] $Syntax) {
        <#
            A syntax line as a sorted list of its parameter groups ("[-Port <Int32>]"), with type names as
            PlatyPS writes them (Int32 for PowerShell's int), so the order of the groups and the spelling of
            a type do not matter, but every parameter, its type and whether it is optional or positional do.
        #>
        $tokens = [System.Collections.Generic.List[string]]::new()
        $depth = 0; $current = ''
        foreach ($ch in ($Syntax -replace '\s+', ' ').Trim().ToCharArray()) {
            if ($ch -eq ' ' -and $depth -eq 0) { if ($current) { $tokens.Add($current) }; $current = ''; continue }
            if ($ch -in '[', '{', '<') { $depth++ } elseif ($ch -in ']', '}', '>') { $depth-- }
            $current += $ch
        }
        if ($current) { $tokens.Add($current) }
        $tokens | Select-Object -Skip 1 | ForEach-Object {
            [regex]::Replace($_, '<([\w.]+)(\[\])?>', {
                    param($m)
                    $type = $accelerators[$m.Groups[1].Value]
                    "<$(if ($type) { $type.Name } else { $m.Groups[1].Value })$($m.Groups[2].Value)>"
                }).ToLowerInvariant()
        } | Sort-Object
    }

    function Get-HelpText($Node) {
        # Get-Help objects hold paragraphs as objects with a Text property.
        (@($Node) | ForEach-Object { if ($_ -is [string]) { $_ } elseif ($_.PSObject.Properties['Text']) { $_.Text } }) -join "`n"
    }
}

Describe 'Help for <Name>' -ForEach $cmdlets {
    BeforeAll {
        $command = Get-Command $Name
        $help = Get-Help $Name -Full
        $pagePath = Join-Path $docs "$Name.md"
        $page = if (Test-Path $pagePath) { Read-CommandHelpPage -Path $pagePath -AssemblyName ([System.IO.Path]::GetFileName($command.ImplementingType.Assembly.Location)) }
        $real = @($command.Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object)
    }

    It 'has a page in docs/en-US (write one with build/New-HelpPage.ps1)' {
        $pagePath | Should -Exist
    }

    It 'has a synopsis, not the syntax PowerShell falls back to' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis.Trim() | Should -Not -BeLike "$Name *"
        $help.Synopsis.Trim() | Should -Not -BeLike "$Name"
    }

    It 'has a description' {
        (Get-HelpText $help.description) | Should -Not -BeNullOrEmpty
    }

    It 'has at least one example, and every example parses' {
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterThan 0
        foreach ($example in $examples) {
            $example.code | Should -Not -BeNullOrEmpty -Because $example.title
            $errors = $null
            $null = [System.Management.Automation.Language.Parser]::ParseInput($example.code, [ref]$null, [ref]$errors)
            $errors | Should -BeNullOrEmpty -Because "$($example.title) must parse"
        }
    }

    It 'describes every parameter' {
        foreach ($p in $help.parameters.parameter) {
            (Get-HelpText $p.description) | Should -Not -BeNullOrEmpty -Because "-$($p.name) needs a description"
        }
    }

    It 'lists exactly the real parameters on the page and in Get-Help (common parameters aside)' {
        @($page.Parameters.Name | Sort-Object) | Should -Be $real -Because 'the page must have no missing and no stale parameter'
        @($help.parameters.parameter.name | Sort-Object) | Should -Be $real
    }

    It 'describes each parameter''s type, sets, position, pipeline input and aliases as the cmdlet declares them' {
        $problems = [System.Collections.Generic.List[string]]::new()
        foreach ($section in $page.Parameters | Where-Object Name -In $real) {
            $info = $command.Parameters[$section.Name]
            $type = if ([Nullable]::GetUnderlyingType($info.ParameterType)) { [Nullable]::GetUnderlyingType($info.ParameterType) } else { $info.ParameterType }
            foreach ($m in $section.Metadata) {
                if ($m.Type -notin $type.Name, $type.FullName) { $problems.Add("-$($section.Name): Type is $($type.Name), not $($m.Type)") }
                $outside = @($command.ParameterSets | Where-Object { $_.Parameters.Name -notcontains $section.Name })
                if ($m.ParameterSets -contains '(All)' -and $outside.Count) {
                    $problems.Add("-$($section.Name): 'Parameter Sets: (All)', but it is not in $($outside.Name -join ', ')")
                }
                foreach ($s in $m.ParameterSets | Where-Object { $_ -ne '(All)' }) {
                    if (-not (@($command.ParameterSets | Where-Object Name -EQ $s).Parameters.Name -contains $section.Name)) {
                        $problems.Add("-$($section.Name): not in parameter set '$s'")
                    }
                }
                $expectedValues = if ($type.IsEnum) { [enum]::GetNames($type) } else {
                    ($info.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | Select-Object -First 1).ValidValues
                }
                if ((@($expectedValues | Sort-Object) -join ',') -ne (@($m.AcceptedValues | Sort-Object) -join ',')) {
                    $problems.Add("-$($section.Name): 'Accepted values' must be '$($expectedValues -join ', ')'")
                }
                if ((@($info.Aliases | Sort-Object) -join ',') -ne (@($m.Aliases | Sort-Object) -join ',')) {
                    $problems.Add("-$($section.Name): Aliases are '$(if ($info.Aliases.Count) { $info.Aliases -join ', ' } else { 'None' })'")
                }
            }
            foreach ($set in $command.ParameterSets) {
                $actual = $set.Parameters | Where-Object Name -EQ $section.Name
                if (-not $actual) { continue }
                $m = @($section.Metadata | Where-Object { $_.ParameterSets -contains $set.Name -or $_.ParameterSets -contains '(All)' })
                if ($m.Count -ne 1) { $problems.Add("-$($section.Name): $($m.Count) yaml blocks cover parameter set '$($set.Name)' (want 1)"); continue }
                $m = $m[0]
                if ($m.Required -ne $actual.IsMandatory) { $problems.Add("-$($section.Name) in '$($set.Name)': Required is $($actual.IsMandatory)") }
                $position = if ($actual.Position -lt 0) { 'Named' } else { "$($actual.Position)" }
                if ($m.Position -ne $position) { $problems.Add("-$($section.Name) in '$($set.Name)': Position is $position, not $($m.Position)") }
                $byValue = $m.PipelineInput -like '*ByValue*'
                $byName = $m.PipelineInput -like '*ByPropertyName*'
                if ($byValue -ne $actual.ValueFromPipeline -or $byName -ne $actual.ValueFromPipelineByPropertyName) {
                    $problems.Add("-$($section.Name) in '$($set.Name)': 'Accept pipeline input: $($m.PipelineInput)' but ByValue=$($actual.ValueFromPipeline), ByPropertyName=$($actual.ValueFromPipelineByPropertyName)")
                }
            }
        }
        $problems | Should -BeNullOrEmpty -Because 'the yaml blocks must match the cmdlet (build/New-HelpPage.ps1 -Update rewrites them)'
    }

    It 'shows the real syntax of each parameter set, the default one marked (Default)' {
        $expected = @($command.ParameterSets | ForEach-Object { "$($_.Name)$(if ($_.IsDefault) { ' (Default)' })" } | Sort-Object)
        @($page.ParameterSets | ForEach-Object { "$($_.Name)$(if ($_.IsDefault) { ' (Default)' })" } | Sort-Object) | Should -Be $expected
        foreach ($set in $command.ParameterSets) {
            $shown = ($page.ParameterSets | Where-Object Name -EQ $set.Name).Syntax
            $shown | Should -BeLike "$Name *" -Because "the syntax of '$($set.Name)' starts with the cmdlet's name"
            Get-SyntaxToken $shown | Should -Be (Get-SyntaxToken "$Name $set") -Because "the syntax of '$($set.Name)' (build/New-HelpPage.ps1 -Update rewrites it)"
        }
    }

    It 'has no {{ placeholder }} left from build/New-HelpPage.ps1' {
        Get-Content -Raw $pagePath | Should -Not -Match '\{\{'
    }

    It 'answers Get-Help -Full, -Detailed, -Examples and -Parameter' {
        (Get-Help $Name -Full | Out-String) | Should -Match 'PARAMETERS'
        (Get-Help $Name -Detailed | Out-String) | Should -Match ([regex]::Escape($help.Synopsis.Trim().Substring(0, 20)))
        (Get-Help $Name -Examples | Out-String) | Should -Match 'Example 1'
        foreach ($p in $real) {
            (Get-Help $Name -Parameter $p).name | Should -Be $p
        }
    }

    It 'names its input and output types' {
        @($help.inputTypes.inputType).Count | Should -BeGreaterThan 0
        $outputs = @($help.returnValues.returnValue.type.name)
        foreach ($t in $command.OutputType) { $outputs | Should -Contain $t.Name -Because 'OUTPUTS lists the [OutputType]' }
    }
}

Describe 'The docs folder' {
    It 'has a page only for exported cmdlets' {
        $exported = (Get-Command -Module $module.Name -CommandType Cmdlet).Name
        foreach ($page in Get-ChildItem $docs -Filter *-*.md) {
            $exported | Should -Contain $page.BaseName -Because "$($page.Name) documents no exported cmdlet"
        }
    }

    It 'shows about_Acme through Get-Help' {
        $text = Get-Help about_Acme | Out-String
        $text | Should -Match 'SHORT DESCRIPTION'
        $text | Should -Match 'New-AcmeAccount'
        $text | Should -Match 'ErrorId'
    }

    It 'makes Get-Help -Online open each cmdlet''s own page, not the RFC it links to' {
        $project = (Import-PowerShellDataFile (Join-Path $repository 'Acme.psd1')).PrivateData.PSData.ProjectUri
        foreach ($command in Get-Command -Module $module.Name -CommandType Cmdlet) {
            # Get-Help -Online opens the first related link that has an address.
            $first = @((Get-Help $command.Name).relatedLinks.navigationLink | Where-Object { $_.uri }) | Select-Object -First 1
            $first.uri | Should -Be "$project/blob/main/docs/en-US/$($command.Name).md" -Because "$($command.Name)'s online help is its page"
        }
    }

    It 'gives every about topic its whole short description as the synopsis in Get-Help about_Acme*' {
        $topics = @(Get-ChildItem $docs -Filter 'about_*.md')
        $topics.Count | Should -BeGreaterThan 1
        $listed = @(Get-Help about_Acme*)
        @($listed.Name | Sort-Object) | Should -Be @($topics.BaseName | Sort-Object)
        foreach ($topic in $topics) {
            $lines = Get-Content -LiteralPath $topic.FullName
            $at = [array]::IndexOf($lines, '## SHORT DESCRIPTION')
            $paragraph = [System.Collections.Generic.List[string]]::new()
            for ($i = $at + 1; $i -lt $lines.Count; $i++) {
                if ($lines[$i] -match '\S') { $paragraph.Add($lines[$i]) } elseif ($paragraph.Count) { break }
            }
            $short = ($paragraph -join ' ') -replace '`', '' -replace '\s+', ' '
            $help = $listed | Where-Object Name -EQ $topic.BaseName
            $help.Synopsis | Should -Not -BeNullOrEmpty -Because "$($topic.Name) has a SHORT DESCRIPTION"
            $help.Synopsis.Trim() | Should -Be $short.Trim() -Because 'the synopsis is the whole short description, not its first wrapped line'
        }
    }

    It 'refuses a malformed page with the file, the line and the problem' {
        $bad = Join-Path $TestDrive 'New-AcmeOrder.md'
        (Get-Content -Raw (Join-Path $docs 'New-AcmeOrder.md')) -replace '(?m)^## DESCRIPTION', '## DESCRIPTON' | Set-Content $bad
        { Read-CommandHelpPage -Path $bad } | Should -Throw -ExpectedMessage 'New-AcmeOrder.md:*## DESCRIPTION*'
        (Get-Content -Raw (Join-Path $docs 'New-AcmeOrder.md')) -replace 'Accept pipeline input: True \(ByValue\)', 'Accept pipeline input: yes' | Set-Content $bad
        { Read-CommandHelpPage -Path $bad } | Should -Throw -ExpectedMessage '*-Account*Accept pipeline input: yes*'
    }
}

Describe 'Examples embedded in <Name>' -ForEach $markdown {
    BeforeAll {
        $fences = @(Get-MarkdownExample -Path $Path)
    }

    It 'marks every PowerShell code fence with its script, or with why it cannot run (examples/README.md)' {
        $unmarked = @($fences | Where-Object { -not $_.Marker } | ForEach-Object { "line $($_.Line)" })
        $unmarked | Should -BeNullOrEmpty -Because 'each fence needs <!-- example: examples/X.ps1#Name --> or <!-- not run: reason --> right before it'
    }

    It 'parses every PowerShell code fence' {
        foreach ($f in $fences) {
            (Read-ExampleCode $f.Code).Errors | Should -BeNullOrEmpty -Because "the fence at line $($f.Line) must parse"
        }
    }

    It 'embeds each example exactly as its script renders it' {
        foreach ($f in $fences | Where-Object { $_.Marker -and $_.Marker.Kind -eq 'example' }) {
            $script = Join-Path $repository $f.Marker.Script
            $script | Should -Exist -Because "line $($f.Marker.Line) names it"
            $expected = Get-ExampleSnippet -ScriptPath $script -Name $f.Marker.Name -Override $f.Marker.Override
            $f.Code | Should -BeExactly $expected -Because "line $($f.Line) is a copy of $($f.Marker.Script)#$($f.Marker.Name)"
        }
    }
}

Describe 'Example snippets' {
    It 'renders parameters as their defaults, bare as arguments and quoted in expressions, and honours overrides' {
        $script = Join-Path $TestDrive 'Sample.ps1'
        @'
param([string] $Server = 'LetsEncryptStaging', [int] $HttpPort = 80, [string] $Folder = 'my folder',
    [string[]] $DnsServer = ('10.0.0.53', 'ns2.example.com:5353'), [string] $Share = '\\web\share')
$x = 1
# example: Demo
    New-Thing -Server $Server -Port $HttpPort -Path $Folder -DnsServer $DnsServer
    $env:ACME_SERVER = $Server
    Set-Content -Path "$Share$($c.HttpPath)"
# end example
'@ | Set-Content $script
        Get-ExampleSnippet -ScriptPath $script -Name Demo | Should -BeExactly (
            "New-Thing -Server LetsEncryptStaging -Port 80 -Path 'my folder' -DnsServer 10.0.0.53, ns2.example.com:5353`n" +
            "`$env:ACME_SERVER = 'LetsEncryptStaging'`nSet-Content -Path `"\\web\share`$(`$c.HttpPath)`"")
        Get-ExampleSnippet -ScriptPath $script -Name Demo -Override @{ Server = 'LetsEncrypt'; HttpPort = '8080' } |
            Should -BeLike 'New-Thing -Server LetsEncrypt -Port 8080 *'
        { Get-ExampleSnippet -ScriptPath $script -Name Missing } | Should -Throw -ExpectedMessage "*# example: Missing*"
    }
}
