#Requires -Version 7.2
<#
    Read-CommandHelpPage   parses docs/en-US/<Verb-Noun>.md in the PlatyPS v1 markdown layout (schema
                           2.0.0) into a page object (AcmeHelp.CommandPage) and throws "<file>:<line>: <problem>"
                           when a page strays from it. HelpMaml.psm1 turns the pages into MAML.
#>
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'HelpBlocks.psm1') -Force

$script:SectionOrder = @('SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS')
$script:YamlKeys = @('Type', 'Parameter Sets', 'Aliases', 'Accepted values', 'Required', 'Position', 'Default value',
    'Accept pipeline input', 'Accept wildcard characters')
$script:RequiredYamlKeys = @('Type', 'Parameter Sets', 'Aliases', 'Required', 'Position', 'Default value', 'Accept pipeline input',
    'Accept wildcard characters')
$script:PipelineInputValues = @('False', 'True (ByValue)', 'True (ByPropertyName)', 'True (ByPropertyName, ByValue)', 'True (ByValue, ByPropertyName)')

function Split-Subsection {
    <# Groups a section's blocks into H3 subsections; blocks before the first H3 are returned as Lead. #>
    param([object[]] $Blocks, [string] $Path, [string] $Section)
    $lead = [System.Collections.Generic.List[object]]::new()
    $subsections = [System.Collections.Generic.List[object]]::new()
    $current = $null
    foreach ($block in $Blocks) {
        if ($block.Kind -eq 'Heading') {
            if ($block.Level -ne 3) { throw (New-PageProblem $Path $block.Line "## $Section allows only ### headings here, not '$('#' * $block.Level) $($block.Text)'") }
            $current = [pscustomobject]@{ Title = $block.Text; Line = $block.Line; Blocks = [System.Collections.Generic.List[object]]::new() }
            $subsections.Add($current)
        } elseif ($null -eq $current) {
            $lead.Add($block)
        } else {
            $current.Blocks.Add($block)
        }
    }
    [pscustomobject]@{ Lead = $lead.ToArray(); Items = $subsections.ToArray() }
}

function Assert-NoHeading {
    param([object[]] $Blocks, [string] $Path, [string] $Section)
    foreach ($b in $Blocks) {
        if ($b.Kind -eq 'Heading') { throw (New-PageProblem $Path $b.Line "## $Section takes no headings ('$('#' * $b.Level) $($b.Text)'); write a paragraph") }
    }
}

function Read-ParameterYaml {
    param($Block, [string] $Path, [string] $Parameter)
    $values = [ordered]@{}
    $n = $Block.Line
    foreach ($line in $Block.Text.Split("`n")) {
        $n++
        if ($line -match '^\s*$') { continue }
        if ($line -notmatch '^([A-Za-z ]+):\s*(.*?)\s*$') { throw (New-PageProblem $Path $n "-$Parameter : '$line' is not 'Key: value'") }
        $key = $Matches[1]; $value = $Matches[2]
        if ($key -cnotin $script:YamlKeys) { throw (New-PageProblem $Path $n "-$Parameter : unknown key '$key' (expected $($script:YamlKeys -join ', '))") }
        if ($values.Contains($key)) { throw (New-PageProblem $Path $n "-$Parameter : '$key' appears twice") }
        $values[$key] = $value
    }
    foreach ($key in $script:RequiredYamlKeys) {
        if (-not $values.Contains($key)) { throw (New-PageProblem $Path $Block.Line "-$Parameter : the yaml block has no '$($key):' line") }
    }
    foreach ($key in 'Required', 'Accept wildcard characters') {
        if ($values[$key] -notin 'True', 'False') { throw (New-PageProblem $Path $Block.Line "-$Parameter : '$($key): $($values[$key])' must be True or False") }
    }
    if ($values['Position'] -notmatch '^(Named|\d+)$') { throw (New-PageProblem $Path $Block.Line "-$Parameter : 'Position: $($values['Position'])' must be Named or a number") }
    if ($values['Accept pipeline input'] -cnotin $script:PipelineInputValues) {
        throw (New-PageProblem $Path $Block.Line "-$Parameter : 'Accept pipeline input: $($values['Accept pipeline input'])' must be one of: $($script:PipelineInputValues -join '; ')")
    }
    if (-not $values['Type']) { throw (New-PageProblem $Path $Block.Line "-$Parameter : 'Type:' is empty") }
    if (-not $values['Parameter Sets']) { throw (New-PageProblem $Path $Block.Line "-$Parameter : 'Parameter Sets:' is empty (write (All) for every set)") }
    [pscustomobject]@{
        Line                 = $Block.Line
        Type                 = $values['Type']
        ParameterSets        = @($values['Parameter Sets'].Split(',') | ForEach-Object Trim | Where-Object { $_ })
        Aliases              = @(if ($values['Aliases'] -and $values['Aliases'] -ne 'None') { $values['Aliases'].Split(',') | ForEach-Object Trim })
        AcceptedValues       = @(if ($values.Contains('Accepted values') -and $values['Accepted values']) { $values['Accepted values'].Split(',') | ForEach-Object Trim })
        Required             = $values['Required'] -eq 'True'
        Position             = $values['Position']
        DefaultValue         = $(if ($values['Default value']) { $values['Default value'] } else { 'None' })
        PipelineInput        = $values['Accept pipeline input']
        Globbing             = $values['Accept wildcard characters'] -eq 'True'
    }
}

function Read-CommandHelpPage {
    <#
    .SYNOPSIS
    Parses one cmdlet page in the PlatyPS v1 markdown layout; throws "<file>:<line>: <problem>" when it is malformed.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][string] $Path,
        [string] $AssemblyName = 'Acme.PowerShell.dll',
        [string] $ModuleName = 'Acme'
    )
    $Path = (Resolve-Path -LiteralPath $Path).ProviderPath
    $lines = Get-HelpPageLine $Path
    $front = Read-FrontMatter $lines $Path
    $expectedFile = "$AssemblyName-Help.xml"
    if ($front.Values['external help file'] -ne $expectedFile) {
        throw (New-PageProblem $Path 1 "front matter 'external help file' must be '$expectedFile', not '$($front.Values['external help file'])'")
    }
    if ($front.Values['Module Name'] -ne $ModuleName) { throw (New-PageProblem $Path 1 "front matter 'Module Name' must be '$ModuleName'") }
    if ($front.Values['schema'] -ne '2.0.0') { throw (New-PageProblem $Path 1 "front matter 'schema' must be '2.0.0' (the PlatyPS v1 layout)") }

    $blocks = Split-MarkdownBlock -Lines ($lines | Select-Object -Skip $front.End) -Offset $front.End -Path $Path
    $title = $blocks | Where-Object { $_.Kind -ne 'Comment' } | Select-Object -First 1
    $name = [System.IO.Path]::GetFileNameWithoutExtension($Path)
    if (-not $title -or $title.Kind -ne 'Heading' -or $title.Level -ne 1) { throw (New-PageProblem $Path ($front.End + 1) "the page must start with the title '# $name'") }
    if ($title.Text -cne $name) { throw (New-PageProblem $Path $title.Line "the title '# $($title.Text)' must be the file's name, '$name'") }
    $sections = Split-Section -Blocks ($blocks | Select-Object -Skip ([array]::IndexOf($blocks, $title) + 1)) -Path $Path

    $names = @($sections.Name)
    for ($s = 0; $s -lt [Math]::Max($names.Count, $script:SectionOrder.Count); $s++) {
        $expected = if ($s -lt $script:SectionOrder.Count) { $script:SectionOrder[$s] } else { $null }
        $found = if ($s -lt $names.Count) { $names[$s] } else { $null }
        if ($found -cne $expected) {
            $line = if ($s -lt $sections.Count) { $sections[$s].Line } else { $lines.Count }
            $what = if ($null -eq $expected) { "an extra section '## $found'" } elseif ($null -eq $found) { "'## $expected' is missing" } else { "'## $expected' was expected here, not '## $found'" }
            throw (New-PageProblem $Path $line "$what; the sections are, in order: $($script:SectionOrder -join ', ')")
        }
    }
    $section = @{}
    foreach ($s in $sections) { $section[$s.Name] = $s }

    # SYNOPSIS
    Assert-NoHeading $section['SYNOPSIS'].Blocks $Path 'SYNOPSIS'
    $synopsis = @(ConvertTo-HelpParagraph $section['SYNOPSIS'].Blocks) -join ' '
    if (-not $synopsis.Trim()) { throw (New-PageProblem $Path $section['SYNOPSIS'].Line '## SYNOPSIS is empty') }

    # SYNTAX: one "### SetName" (one of them "(Default)") and its code fence per parameter set
    $syntax = Split-Subsection $section['SYNTAX'].Blocks $Path 'SYNTAX'
    if ($syntax.Items.Count -eq 0) { throw (New-PageProblem $Path $section['SYNTAX'].Line "## SYNTAX needs one '### SetName (Default)' heading and code fence per parameter set") }
    $sets = foreach ($item in $syntax.Items) {
        if ($item.Title -notmatch '^(\S+)(\s+\(Default\))?$') { throw (New-PageProblem $Path $item.Line "'### $($item.Title)' is not 'SetName' or 'SetName (Default)'") }
        $setName = $Matches[1]; $isDefault = [bool]$Matches[2]
        $fences = @($item.Blocks | Where-Object Kind -EQ 'Fence')
        if ($fences.Count -ne 1) { throw (New-PageProblem $Path $item.Line "the syntax of set '$setName' must be exactly one code fence") }
        [pscustomobject]@{ Name = $setName; IsDefault = $isDefault; Syntax = $fences[0].Text.Trim(); Line = $item.Line }
    }
    $sets = @($sets)
    if (@($sets | Where-Object IsDefault).Count -ne 1) { throw (New-PageProblem $Path $section['SYNTAX'].Line "exactly one parameter set must be marked '(Default)'") }

    # DESCRIPTION
    Assert-NoHeading $section['DESCRIPTION'].Blocks $Path 'DESCRIPTION'
    if (-not (Test-HasProse $section['DESCRIPTION'].Blocks)) { throw (New-PageProblem $Path $section['DESCRIPTION'].Line '## DESCRIPTION is empty') }
    $description = @(ConvertTo-HelpParagraph $section['DESCRIPTION'].Blocks)

    # EXAMPLES: "### Example N: title", a powershell fence, then prose
    $exampleSections = Split-Subsection $section['EXAMPLES'].Blocks $Path 'EXAMPLES'
    if ($exampleSections.Items.Count -eq 0) { throw (New-PageProblem $Path $section['EXAMPLES'].Line "## EXAMPLES needs at least one '### Example 1: title'") }
    $number = 0
    $examples = foreach ($item in $exampleSections.Items) {
        $number++
        if ($item.Title -notmatch '^Example (\d+)(:\s*(.+))?$') { throw (New-PageProblem $Path $item.Line "'### $($item.Title)' is not '### Example $($number): title'") }
        if ([int]$Matches[1] -ne $number) { throw (New-PageProblem $Path $item.Line "'### $($item.Title)' should be Example $number") }
        $exampleTitle = if ($Matches[3]) { "Example $($number): $($Matches[3].Trim())" } else { "Example $number" }
        $code = @($item.Blocks | Where-Object { $_.Kind -eq 'Fence' -and $_.Language -eq 'powershell' })
        if ($code.Count -eq 0) { throw (New-PageProblem $Path $item.Line "$exampleTitle has no ``````powershell code fence") }
        $firstCode = [array]::IndexOf($item.Blocks.ToArray(), $code[0])
        $remarks = @($item.Blocks | Select-Object -Skip ($firstCode + 1) | Where-Object { -not ($_.Kind -eq 'Fence' -and $_.Language -eq 'powershell') })
        [pscustomobject]@{
            Title        = $exampleTitle
            Line         = $item.Line
            Introduction = @(ConvertTo-HelpParagraph ($item.Blocks | Select-Object -First $firstCode))
            Code         = ($code.Text -join "`n`n")
            Remarks      = @(ConvertTo-HelpParagraph $remarks)
        }
    }

    # PARAMETERS: "### -Name", a description, one yaml block per group of sets; then "### CommonParameters"
    $parameterSections = Split-Subsection $section['PARAMETERS'].Blocks $Path 'PARAMETERS'
    $parameters = [System.Collections.Generic.List[object]]::new()
    $common = $false
    foreach ($item in $parameterSections.Items) {
        if ($item.Title -ceq 'CommonParameters') { $common = $true; continue }
        if ($item.Title -notmatch '^-(\w+)$') { throw (New-PageProblem $Path $item.Line "'### $($item.Title)' is not '### -ParameterName' or '### CommonParameters'") }
        $parameterName = $Matches[1]
        if ($parameters | Where-Object Name -EQ $parameterName) { throw (New-PageProblem $Path $item.Line "-$parameterName is described twice") }
        $yaml = @($item.Blocks | Where-Object { $_.Kind -eq 'Fence' -and $_.Language -eq 'yaml' })
        if ($yaml.Count -eq 0) { throw (New-PageProblem $Path $item.Line "-$parameterName has no ``````yaml block (Type, Parameter Sets, Aliases, Required, Position, ...)") }
        $prose = @($item.Blocks | Where-Object { -not ($_.Kind -eq 'Fence' -and $_.Language -eq 'yaml') })
        if (-not (Test-HasProse $prose)) { throw (New-PageProblem $Path $item.Line "-$parameterName has no description") }
        $parameters.Add([pscustomobject]@{
                Name        = $parameterName
                Line        = $item.Line
                Description = @(ConvertTo-HelpParagraph $prose)
                Metadata    = @($yaml | ForEach-Object { Read-ParameterYaml $_ $Path $parameterName })
            })
    }
    if (-not $common) { throw (New-PageProblem $Path $section['PARAMETERS'].Line "## PARAMETERS must end with '### CommonParameters'") }
    foreach ($p in $parameters) {
        foreach ($m in $p.Metadata) {
            foreach ($setName in $m.ParameterSets) {
                if ($setName -ne '(All)' -and $setName -cnotin $sets.Name) {
                    throw (New-PageProblem $Path $m.Line "-$($p.Name) names the parameter set '$setName', which ## SYNTAX does not have ($($sets.Name -join ', '))")
                }
            }
        }
    }

    # INPUTS and OUTPUTS: "### TypeName" and a description each
    $io = @{}
    foreach ($kind in 'INPUTS', 'OUTPUTS') {
        $parts = Split-Subsection $section[$kind].Blocks $Path $kind
        if ($parts.Items.Count -eq 0) { throw (New-PageProblem $Path $section[$kind].Line "## $kind needs a '### TypeName' heading (### None when there is none)") }
        $io[$kind] = @($parts.Items | ForEach-Object { [pscustomobject]@{ Type = $_.Title; Description = @(ConvertTo-HelpParagraph $_.Blocks) } })
    }

    # NOTES
    Assert-NoHeading $section['NOTES'].Blocks $Path 'NOTES'
    $notes = @(ConvertTo-HelpParagraph $section['NOTES'].Blocks)

    # RELATED LINKS: [text](uri) lines
    Assert-NoHeading $section['RELATED LINKS'].Blocks $Path 'RELATED LINKS'
    $links = foreach ($block in $section['RELATED LINKS'].Blocks) {
        if ($block.Kind -eq 'Comment') { continue }
        if ($block.Kind -ne 'Text') { throw (New-PageProblem $Path $block.Line '## RELATED LINKS holds only [text](uri) lines') }
        $n = $block.Line
        foreach ($line in $block.Lines) {
            if ($line -notmatch '^\s*(?:[-*]\s+)?\[([^\]]+)\]\(([^)]*)\)\s*$') { throw (New-PageProblem $Path $n "'$line' is not a [text](uri) link") }
            [pscustomobject]@{ Text = $Matches[1]; Uri = $Matches[2] }
            $n++
        }
    }

    $verb, $noun = $name.Split('-', 2)
    [pscustomobject]@{
        PSTypeName    = 'AcmeHelp.CommandPage'
        Path          = $Path
        Name          = $name
        Verb          = $verb
        Noun          = $noun
        OnlineVersion = $front.Values['online version']
        Synopsis      = $synopsis.Trim()
        ParameterSets = $sets
        Description   = $description
        Examples      = @($examples)
        Parameters    = $parameters.ToArray()
        Inputs        = $io['INPUTS']
        Outputs       = $io['OUTPUTS']
        Notes         = $notes
        Links         = @($links)
    }
}

Export-ModuleMember -Function Read-CommandHelpPage
