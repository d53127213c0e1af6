#Requires -Version 7.2
<#
    The help pages' tooling, in plain PowerShell because PlatyPS is not obtainable here.

    Read-CommandHelpPage   parses docs/en-US/<Verb-Noun>.md in the PlatyPS v1 markdown layout (schema
                           2.0.0) and throws "<file>:<line>: <problem>" when a page strays from it.
    ConvertTo-MamlHelp     turns parsed pages into MAML (<assembly>-Help.xml), the format Get-Help reads
                           in PowerShell 7 and Windows PowerShell 5.1, shaped like PlatyPS's own output.
    Read-AboutHelpPage     parses about_*.md (PlatyPS's about template) and ConvertTo-AboutHelpText
                           renders it as the about_*.help.txt Get-Help shows.
    Get-MarkdownExample    lists the PowerShell code fences of any markdown file with the marker comment
                           before each: <!-- example: examples/X.ps1#Name [Param=Value ...] --> or
                           <!-- not run: reason -->.
    Get-ExampleSnippet     renders a snippet of an example script as the pages embed it (examples/README.md
                           describes the convention; tests/Pester/Examples.Tests.ps1 enforces it).
#>
Set-StrictMode -Version Latest

$script:SectionOrder = @('SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS')
$script:YamlKeys = @('Type', 'Parameter Sets', 'Aliases', 'Accepted values', 'Required', 'Position', 'Default value',
    'Accept pipeline input', 'Accept wildcard characters')
$script:RequiredYamlKeys = @('Type', 'Parameter Sets', 'Aliases', 'Required', 'Position', 'Default value', 'Accept pipeline input',
    'Accept wildcard characters')
$script:PipelineInputValues = @('False', 'True (ByValue)', 'True (ByPropertyName)', 'True (ByPropertyName, ByValue)', 'True (ByValue, ByPropertyName)')

function Get-HelpPageLine {
    <# The file's lines, line endings normalised (ReadAllText drops a UTF-8 BOM). #>
    param([Parameter(Mandatory)][string] $Path)
    $text = [System.IO.File]::ReadAllText($Path)
    , ($text -replace "`r`n?", "`n").Split("`n")
}

function New-PageProblem {
    param([string] $Path, [int] $Line, [string] $Message)
    [System.IO.InvalidDataException]::new("$([System.IO.Path]::GetFileName($Path)):$($Line): $Message (in $Path)")
}

function Split-MarkdownBlock {
    <#
        Cuts markdown into blocks: Heading (Level, Text), Fence (Language, Text), Comment (Text), Text (the
        lines of one paragraph, list or table). Blank lines only separate blocks. Each block has its Line.
    #>
    param([string[]] $Lines, [int] $Offset, [string] $Path)
    $blocks = [System.Collections.Generic.List[object]]::new()
    $i = 0
    while ($i -lt $Lines.Count) {
        $line = $Lines[$i]
        $number = $Offset + $i + 1
        if ($line -match '^\s*$') { $i++; continue }
        if ($line -match '^```\s*([\w-]*)\s*$') {
            $language = $Matches[1]
            $body = [System.Collections.Generic.List[string]]::new()
            $i++
            while ($i -lt $Lines.Count -and $Lines[$i] -notmatch '^```\s*$') { $body.Add($Lines[$i]); $i++ }
            if ($i -ge $Lines.Count) { throw (New-PageProblem $Path $number 'a code fence (```) is never closed') }
            $blocks.Add([pscustomobject]@{ Kind = 'Fence'; Line = $number; Language = $language; Text = ($body -join "`n") })
            $i++
            continue
        }
        if ($line -match '^\s*<!--') {
            $comment = [System.Text.StringBuilder]::new()
            while ($i -lt $Lines.Count) {
                $null = $comment.AppendLine($Lines[$i])
                if ($Lines[$i] -match '-->\s*$') { break }
                $i++
            }
            if ($i -ge $Lines.Count) { throw (New-PageProblem $Path $number 'an HTML comment (<!--) is never closed') }
            $inner = $comment.ToString().Trim() -replace '^<!--', '' -replace '-->$', ''
            $blocks.Add([pscustomobject]@{ Kind = 'Comment'; Line = $number; Text = $inner.Trim() })
            $i++
            continue
        }
        if ($line -match '^(#{1,6})\s+(.*?)\s*$') {
            $blocks.Add([pscustomobject]@{ Kind = 'Heading'; Line = $number; Level = $Matches[1].Length; Text = $Matches[2] })
            $i++
            continue
        }
        $text = [System.Collections.Generic.List[string]]::new()
        while ($i -lt $Lines.Count -and $Lines[$i] -notmatch '^\s*$' -and $Lines[$i] -notmatch '^```' -and
            $Lines[$i] -notmatch '^#{1,6}\s' -and $Lines[$i] -notmatch '^\s*<!--') {
            $text.Add($Lines[$i].TrimEnd())
            $i++
        }
        $blocks.Add([pscustomobject]@{ Kind = 'Text'; Line = $number; Lines = $text.ToArray() })
    }
    , $blocks.ToArray()
}

function ConvertTo-PlainInline {
    <# Markdown inline links become "text (url)" for absolute URLs and "text" for links between pages. #>
    param([string] $Text)
    [regex]::Replace($Text, '\[([^\]]+)\]\(([^)\s]+)\)', {
            param($m)
            if ($m.Groups[2].Value -match '^https?://') { "$($m.Groups[1].Value) ($($m.Groups[2].Value))" } else { $m.Groups[1].Value }
        })
}

function ConvertTo-HelpParagraph {
    <#
        Blocks of prose as help paragraphs: a paragraph's soft-wrapped lines are joined, each list item
        is one paragraph, a table and a code fence keep their lines.
    #>
    param([object[]] $Blocks)
    foreach ($block in $Blocks) {
        switch ($block.Kind) {
            'Comment' { }
            'Fence' { $block.Text }
            'Text' {
                if ($block.Lines[0] -match '^\s*\|') { ($block.Lines | ForEach-Object { ConvertTo-PlainInline $_ }) -join "`n"; break }
                $current = $null
                foreach ($line in $block.Lines) {
                    if ($line -match '^\s*([-*]|\d+\.)\s+') {
                        if ($null -ne $current) { ConvertTo-PlainInline $current }
                        $current = $line.Trim()
                    } elseif ($null -eq $current) {
                        $current = $line.Trim()
                    } else {
                        $current = "$current $($line.Trim())"
                    }
                }
                if ($null -ne $current) { ConvertTo-PlainInline $current }
            }
        }
    }
}

function Read-FrontMatter {
    param([string[]] $Lines, [string] $Path)
    if ($Lines.Count -eq 0 -or $Lines[0] -ne '---') { throw (New-PageProblem $Path 1 'the page must start with front matter (---)') }
    $values = [ordered]@{}
    for ($i = 1; $i -lt $Lines.Count; $i++) {
        if ($Lines[$i] -eq '---') { return [pscustomobject]@{ Values = $values; End = $i + 1 } }
        if ($Lines[$i] -match '^\s*$') { continue }
        if ($Lines[$i] -notmatch '^([\w ]+):\s*(.*?)\s*$') { throw (New-PageProblem $Path ($i + 1) "front matter line '$($Lines[$i])' is not 'key: value'") }
        $values[$Matches[1]] = $Matches[2]
    }
    throw (New-PageProblem $Path 1 'the front matter is never closed (---)')
}

function Split-Section {
    <# Groups the blocks after the H1 into H2 sections, in page order. #>
    param([object[]] $Blocks, [string] $Path)
    $sections = [System.Collections.Generic.List[object]]::new()
    $current = $null
    foreach ($block in $Blocks) {
        if ($block.Kind -eq 'Heading' -and $block.Level -le 2) {
            if ($block.Level -eq 1) { throw (New-PageProblem $Path $block.Line "a second title '# $($block.Text)'") }
            $current = [pscustomobject]@{ Name = $block.Text; Line = $block.Line; Blocks = [System.Collections.Generic.List[object]]::new() }
            $sections.Add($current)
        } elseif ($null -eq $current) {
            if ($block.Kind -ne 'Comment') { throw (New-PageProblem $Path $block.Line 'text between the title and the first ## section') }
        } else {
            $current.Blocks.Add($block)
        }
    }
    , $sections.ToArray()
}

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

function Test-HasProse {
    param([object[]] $Blocks)
    @($Blocks | Where-Object { $_.Kind -eq 'Text' }).Count -gt 0
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

function Write-MamlParagraph {
    param([System.Xml.XmlWriter] $Writer, [string[]] $Paragraph)
    $Writer.WriteStartElement('maml', 'description', $script:MamlNs)
    $any = $false
    foreach ($p in $Paragraph) {
        if ($null -eq $p) { continue }
        $Writer.WriteElementString('maml', 'para', $script:MamlNs, $p)
        $any = $true
    }
    if (-not $any) { $Writer.WriteElementString('maml', 'para', $script:MamlNs, '') }
    $Writer.WriteEndElement()
}

$script:MamlNs = 'http://schemas.microsoft.com/maml/2004/10'
$script:CommandNs = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$script:DevNs = 'http://schemas.microsoft.com/maml/dev/2004/10'

function Write-MamlParameter {
    param([System.Xml.XmlWriter] $Writer, $Parameter, $Metadata, [switch] $InSyntax)
    $isSwitch = $Metadata.Type -in 'SwitchParameter', 'System.Management.Automation.SwitchParameter'
    $Writer.WriteStartElement('command', 'parameter', $script:CommandNs)
    $Writer.WriteAttributeString('required', $Metadata.Required.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('variableLength', ($Metadata.Type -like '*`[`]').ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('globbing', $Metadata.Globbing.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', $Metadata.PipelineInput)
    $Writer.WriteAttributeString('position', $(if ($Metadata.Position -eq 'Named') { 'named' } else { $Metadata.Position }))
    $Writer.WriteAttributeString('aliases', $(if ($Metadata.Aliases.Count) { $Metadata.Aliases -join ', ' } else { 'none' }))
    $Writer.WriteElementString('maml', 'name', $script:MamlNs, $Parameter.Name)
    Write-MamlParagraph $Writer $Parameter.Description
    if ($Metadata.AcceptedValues.Count) {
        $Writer.WriteStartElement('command', 'parameterValueGroup', $script:CommandNs)
        foreach ($v in $Metadata.AcceptedValues) {
            $Writer.WriteStartElement('command', 'parameterValue', $script:CommandNs)
            $Writer.WriteAttributeString('required', 'false')
            $Writer.WriteAttributeString('command', 'variableLength', $script:CommandNs, 'false')
            $Writer.WriteString($v)
            $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }
    if (-not ($isSwitch -and $InSyntax)) {
        $Writer.WriteStartElement('command', 'parameterValue', $script:CommandNs)
        $Writer.WriteAttributeString('required', (-not $isSwitch).ToString().ToLowerInvariant())
        $Writer.WriteAttributeString('variableLength', 'false')
        $Writer.WriteString($Metadata.Type)
        $Writer.WriteEndElement()
    }
    $Writer.WriteStartElement('dev', 'type', $script:DevNs)
    $Writer.WriteElementString('maml', 'name', $script:MamlNs, $Metadata.Type)
    $Writer.WriteElementString('maml', 'uri', $script:MamlNs, '')
    $Writer.WriteEndElement()
    $Writer.WriteElementString('dev', 'defaultValue', $script:DevNs, $Metadata.DefaultValue)
    $Writer.WriteEndElement()
}

function Get-SyntaxParameter {
    <# The parameters of one set with the metadata that applies to it: positional ones first, then required, then the rest. #>
    param($Page, [string] $SetName)
    $entries = foreach ($p in $Page.Parameters) {
        $m = $p.Metadata | Where-Object { $_.ParameterSets -contains $SetName -or $_.ParameterSets -contains '(All)' } | Select-Object -First 1
        if ($m) { [pscustomobject]@{ Parameter = $p; Metadata = $m; Order = [array]::IndexOf($Page.Parameters, $p) } }
    }
    @($entries) | Sort-Object @{ Expression = { if ($_.Metadata.Position -eq 'Named') { 1 } else { 0 } } },
    @{ Expression = { if ($_.Metadata.Position -eq 'Named') { 0 } else { [int]$_.Metadata.Position } } },
    @{ Expression = { -not $_.Metadata.Required } }, Order
}

function ConvertTo-MamlHelp {
    <#
    .SYNOPSIS
    MAML (helpItems) for parsed cmdlet pages, as the XML text of <assembly>-Help.xml.
    #>
    [OutputType([string])]
    param([Parameter(Mandatory)][object[]] $Page)
    $settings = [System.Xml.XmlWriterSettings]::new()
    $settings.Indent = $true
    $settings.Encoding = [System.Text.UTF8Encoding]::new($false)
    $settings.NewLineChars = "`n"
    $stream = [System.IO.MemoryStream]::new()
    $w = [System.Xml.XmlWriter]::Create($stream, $settings)
    $w.WriteStartDocument()
    $w.WriteStartElement('helpItems', 'http://msh')
    $w.WriteAttributeString('schema', 'maml')
    foreach ($p in $Page | Sort-Object Name) {
        $w.WriteStartElement('command', 'command', $script:CommandNs)
        $w.WriteAttributeString('xmlns', 'maml', $null, $script:MamlNs)
        $w.WriteAttributeString('xmlns', 'command', $null, $script:CommandNs)
        $w.WriteAttributeString('xmlns', 'dev', $null, $script:DevNs)
        $w.WriteAttributeString('xmlns', 'MSHelp', $null, 'http://msdn.microsoft.com/mshelp')

        $w.WriteStartElement('command', 'details', $script:CommandNs)
        $w.WriteElementString('command', 'name', $script:CommandNs, $p.Name)
        $w.WriteElementString('command', 'verb', $script:CommandNs, $p.Verb)
        $w.WriteElementString('command', 'noun', $script:CommandNs, $p.Noun)
        Write-MamlParagraph $w @($p.Synopsis)
        $w.WriteEndElement()

        Write-MamlParagraph $w $p.Description

        $w.WriteStartElement('command', 'syntax', $script:CommandNs)
        foreach ($set in $p.ParameterSets) {
            $w.WriteStartElement('command', 'syntaxItem', $script:CommandNs)
            $w.WriteElementString('maml', 'name', $script:MamlNs, $p.Name)
            foreach ($entry in Get-SyntaxParameter $p $set.Name) {
                Write-MamlParameter $w $entry.Parameter $entry.Metadata -InSyntax
            }
            $w.WriteEndElement()
        }
        $w.WriteEndElement()

        $w.WriteStartElement('command', 'parameters', $script:CommandNs)
        foreach ($parameter in $p.Parameters) {
            Write-MamlParameter $w $parameter $parameter.Metadata[0]
        }
        $w.WriteEndElement()

        foreach ($io in @(@('inputTypes', 'inputType', $p.Inputs), @('returnValues', 'returnValue', $p.Outputs))) {
            $w.WriteStartElement('command', $io[0], $script:CommandNs)
            foreach ($item in $io[2]) {
                $w.WriteStartElement('command', $io[1], $script:CommandNs)
                $w.WriteStartElement('dev', 'type', $script:DevNs)
                $w.WriteElementString('maml', 'name', $script:MamlNs, $item.Type)
                $w.WriteEndElement()
                Write-MamlParagraph $w $item.Description
                $w.WriteEndElement()
            }
            $w.WriteEndElement()
        }

        $w.WriteStartElement('maml', 'alertSet', $script:MamlNs)
        $w.WriteStartElement('maml', 'alert', $script:MamlNs)
        foreach ($para in $p.Notes) { $w.WriteElementString('maml', 'para', $script:MamlNs, $para) }
        $w.WriteEndElement()
        $w.WriteEndElement()

        $w.WriteStartElement('command', 'examples', $script:CommandNs)
        foreach ($example in $p.Examples) {
            $w.WriteStartElement('command', 'example', $script:CommandNs)
            # Dashes around the title, as in PowerShell's own help, fewer for long titles so the line fits 80 columns.
            $dashes = '-' * [Math]::Max(4, [Math]::Min(26, [int][Math]::Floor((78 - $example.Title.Length - 2) / 2)))
            $w.WriteElementString('maml', 'title', $script:MamlNs, "$dashes $($example.Title) $dashes")
            if ($example.Introduction.Count) {
                $w.WriteStartElement('maml', 'introduction', $script:MamlNs)
                foreach ($para in $example.Introduction) { $w.WriteElementString('maml', 'para', $script:MamlNs, $para) }
                $w.WriteEndElement()
            }
            $w.WriteElementString('dev', 'code', $script:DevNs, $example.Code)
            $w.WriteStartElement('dev', 'remarks', $script:DevNs)
            foreach ($para in $example.Remarks) { $w.WriteElementString('maml', 'para', $script:MamlNs, $para) }
            # An empty last paragraph keeps a blank line between one example's remarks and the next title.
            $w.WriteElementString('maml', 'para', $script:MamlNs, '')
            $w.WriteEndElement()
            $w.WriteEndElement()
        }
        $w.WriteEndElement()

        $w.WriteStartElement('command', 'relatedLinks', $script:CommandNs)
        $links = @()
        if ($p.OnlineVersion) { $links += [pscustomobject]@{ Text = 'Online Version:'; Uri = $p.OnlineVersion } }
        foreach ($link in @($links) + @($p.Links)) {
            $w.WriteStartElement('maml', 'navigationLink', $script:MamlNs)
            $w.WriteElementString('maml', 'linkText', $script:MamlNs, $link.Text)
            $w.WriteElementString('maml', 'uri', $script:MamlNs, $(if ($link.Uri -match '^https?://') { $link.Uri } else { '' }))
            $w.WriteEndElement()
        }
        $w.WriteEndElement()

        $w.WriteEndElement()
    }
    $w.WriteEndElement()
    $w.WriteEndDocument()
    $w.Flush()
    $w.Dispose()
    [System.Text.Encoding]::UTF8.GetString($stream.ToArray())
}

function Read-AboutHelpPage {
    <#
    .SYNOPSIS
    Parses about_<Name>.md (PlatyPS's about template: # about_Name, ## SHORT DESCRIPTION, ## LONG DESCRIPTION, then any ## sections).
    #>
    param([Parameter(Mandatory)][string] $Path)
    $Path = (Resolve-Path -LiteralPath $Path).ProviderPath
    $lines = Get-HelpPageLine $Path
    $start = 0
    if ($lines.Count -and $lines[0] -eq '---') { $start = (Read-FrontMatter $lines $Path).End }
    $blocks = Split-MarkdownBlock -Lines ($lines | Select-Object -Skip $start) -Offset $start -Path $Path
    $name = [System.IO.Path]::GetFileNameWithoutExtension($Path)
    $title = $blocks | Where-Object { $_.Kind -ne 'Comment' } | Select-Object -First 1
    if (-not $title -or $title.Kind -ne 'Heading' -or $title.Level -ne 1 -or $title.Text -cne $name) {
        throw (New-PageProblem $Path ($start + 1) "an about topic must start with the title '# $name'")
    }
    $sections = Split-Section -Blocks ($blocks | Select-Object -Skip ([array]::IndexOf($blocks, $title) + 1)) -Path $Path
    if ($sections.Count -lt 2 -or $sections[0].Name -cne 'SHORT DESCRIPTION' -or $sections[1].Name -cne 'LONG DESCRIPTION') {
        throw (New-PageProblem $Path $title.Line "an about topic's first sections are '## SHORT DESCRIPTION' and '## LONG DESCRIPTION'")
    }
    if (-not (Test-HasProse $sections[0].Blocks)) { throw (New-PageProblem $Path $sections[0].Line '## SHORT DESCRIPTION is empty') }
    foreach ($s in $sections) {
        foreach ($b in $s.Blocks) {
            if ($b.Kind -eq 'Heading' -and $b.Level -gt 4) { throw (New-PageProblem $Path $b.Line 'use headings down to #### only') }
        }
    }
    [pscustomobject]@{ PSTypeName = 'AcmeHelp.AboutPage'; Path = $Path; Name = $name; Sections = $sections }
}

function Format-WrappedText {
    param([string] $Text, [int] $Indent, [int] $HangingIndent = $Indent, [int] $Width = 80)
    $words = $Text -split '\s+' | Where-Object { $_ }
    $line = ' ' * $Indent
    $started = $false
    foreach ($word in $words) {
        if ($started -and $line.Length + 1 + $word.Length -gt $Width) {
            $line
            $line = (' ' * $HangingIndent) + $word
        } else {
            $line = if ($started) { "$line $word" } else { "$line$word" }
        }
        $started = $true
    }
    if ($started) { $line }
}

function Format-TextTable {
    <# A markdown table as plain text columns: cells padded to their column's width, the |---| row as dashes. #>
    param([string[]] $Lines)
    $rows = foreach ($l in $Lines) {
        , @($l.Trim().Trim('|').Split('|') | ForEach-Object { ConvertTo-PlainInline $_.Trim() })
    }
    $widths = @{}
    foreach ($row in $rows) {
        if ($row[0] -match '^:?-+:?$') { continue }
        for ($c = 0; $c -lt $row.Count; $c++) { $widths[$c] = [Math]::Max([int]$widths[$c], $row[$c].Length) }
    }
    foreach ($row in $rows) {
        $cells = for ($c = 0; $c -lt $row.Count; $c++) {
            if ($row[0] -match '^:?-+:?$') { '-' * $widths[$c] } else { $row[$c].PadRight($widths[$c]) }
        }
        ($cells -join '  ').TrimEnd()
    }
}

function ConvertTo-AboutHelpText {
    <#
    .SYNOPSIS
    The about_*.help.txt text of a parsed about page: headings in capitals, prose indented and wrapped at 80 columns.
    #>
    [OutputType([string])]
    param([Parameter(Mandatory)] $Page)
    $out = [System.Collections.Generic.List[string]]::new()
    $out.Add('TOPIC')
    $out.Add("    $($Page.Name.ToLowerInvariant())")
    foreach ($section in $Page.Sections) {
        $out.Add('')
        $out.Add($section.Name.ToUpperInvariant())
        foreach ($block in $section.Blocks) {
            switch ($block.Kind) {
                'Heading' {
                    $out.Add('')
                    $out.Add("    $($block.Text)")
                    $out.Add('    ' + ('-' * $block.Text.Length))
                }
                'Fence' {
                    $out.Add('')
                    foreach ($l in $block.Text.Split("`n")) { $out.Add($(if ($l) { "        $l" } else { '' })) }
                }
                'Text' {
                    $out.Add('')
                    if ($block.Lines[0] -match '^\s*\|') {
                        foreach ($l in Format-TextTable $block.Lines) { $out.Add("    $l") }
                        break
                    }
                    foreach ($para in ConvertTo-HelpParagraph @($block)) {
                        if ($para -match '^([-*]|\d+\.)\s+') {
                            $marker = $Matches[0]
                            foreach ($l in Format-WrappedText -Text $para -Indent 4 -HangingIndent (4 + $marker.Length)) { $out.Add($l) }
                        } else {
                            foreach ($l in Format-WrappedText -Text $para -Indent 4) { $out.Add($l) }
                        }
                    }
                }
            }
        }
    }
    ($out -join [Environment]::NewLine) + [Environment]::NewLine
}

function Get-MarkdownExample {
    <#
    .SYNOPSIS
    Every ```powershell fence of a markdown file, with the marker comment right before it (blank lines
    between are allowed): Source 'example' (Script, Name, Override), 'not run' (Reason) or $null.
    #>
    param([Parameter(Mandatory)][string] $Path)
    $lines = Get-HelpPageLine $Path
    $blocks = Split-MarkdownBlock -Lines $lines -Offset 0 -Path $Path
    for ($i = 0; $i -lt $blocks.Count; $i++) {
        $b = $blocks[$i]
        if ($b.Kind -ne 'Fence' -or $b.Language -ne 'powershell') { continue }
        $marker = $null
        $previous = if ($i -gt 0) { $blocks[$i - 1] } else { $null }
        if ($previous -and $previous.Kind -eq 'Comment') {
            if ($previous.Text -match '^example:\s*(\S+?)#(\w+)((?:\s+\w+=\S+)*)\s*$') {
                $override = @{}
                foreach ($pair in ($Matches[3].Trim() -split '\s+' | Where-Object { $_ })) {
                    $k, $v = $pair.Split('=', 2)
                    $override[$k] = $v
                }
                $marker = [pscustomobject]@{ Kind = 'example'; Script = $Matches[1]; Name = $Matches[2]; Override = $override; Line = $previous.Line }
            } elseif ($previous.Text -match '^not run:\s*(\S.*)$') {
                $marker = [pscustomobject]@{ Kind = 'not run'; Reason = $Matches[1].Trim(); Line = $previous.Line }
            }
        }
        [pscustomobject]@{ Path = $Path; Line = $b.Line; Code = $b.Text.TrimEnd(); Marker = $marker }
    }
}

function Get-ExampleSnippet {
    <#
    .SYNOPSIS
    The code between "# example: <Name>" and "# end example" in an example script, as the pages show
    it: de-indented, and each of the script's parameters replaced by its default value (or by the
    value in -Override), so a page reads "-Server LetsEncryptStaging" where the script says "-Server $Server".
    #>
    [OutputType([string])]
    param(
        [Parameter(Mandatory)][string] $ScriptPath,
        [Parameter(Mandatory)][string] $Name,
        [hashtable] $Override = @{}
    )
    $tokens = $null; $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($ScriptPath, [ref]$tokens, [ref]$errors)
    if ($errors) { throw "$ScriptPath does not parse: $($errors[0].Message) (line $($errors[0].Extent.StartLineNumber))" }
    $begin = $tokens | Where-Object { $_.Kind -eq 'Comment' -and $_.Text -match "^#\s*example:\s*$([regex]::Escape($Name))\s*$" }
    if (@($begin).Count -ne 1) { throw "$ScriptPath has no single '# example: $Name' line." }
    $end = $tokens | Where-Object { $_.Kind -eq 'Comment' -and $_.Text -match '^#\s*end example\s*$' -and $_.Extent.StartOffset -gt $begin.Extent.EndOffset } |
        Select-Object -First 1
    if (-not $end) { throw "$ScriptPath has no '# end example' after '# example: $Name'." }
    $text = $ast.Extent.Text
    $from = $text.IndexOf("`n", $begin.Extent.EndOffset) + 1
    $to = $text.LastIndexOf("`n", $end.Extent.StartOffset)

    $defaults = @{}
    if ($ast.ParamBlock) {
        foreach ($p in $ast.ParamBlock.Parameters) { $defaults[$p.Name.VariablePath.UserPath] = $p.DefaultValue }
    }
    $uses = $ast.FindAll({
            param($n)
            $n -is [System.Management.Automation.Language.VariableExpressionAst] -and $n.Extent.StartOffset -ge $from -and
            $n.Extent.EndOffset -le $to -and $defaults.ContainsKey($n.VariablePath.UserPath)
        }, $true) | Sort-Object { $_.Extent.StartOffset } -Descending
    $snippet = $text.Substring($from, $to - $from)
    foreach ($use in $uses) {
        $parameter = $use.VariablePath.UserPath
        $default = $defaults[$parameter]
        if ($default -is [System.Management.Automation.Language.ParenExpressionAst]) { $default = $default.Pipeline.GetPureExpression() }  # ('a', 'b')
        $key = $Override.Keys | Where-Object { $_ -eq $parameter } | Select-Object -First 1
        # The value(s) to show: an override, or the default's constants (a list such as 'a', 'b' too).
        $values = if ($key) {
            , @([string]$Override[$key] -split ',')
        } elseif ($default -is [System.Management.Automation.Language.ConstantExpressionAst]) {
            , @($default)
        } elseif ($default -is [System.Management.Automation.Language.ArrayLiteralAst] -and
            -not @($default.Elements | Where-Object { $_ -isnot [System.Management.Automation.Language.ConstantExpressionAst] })) {
            , @($default.Elements)
        } else {
            throw "$ScriptPath uses `$$parameter in example '$Name', but the parameter has no constant default to show in its place."
        }
        $isArgument = $use.Parent -is [System.Management.Automation.Language.CommandAst]
        $inString = $use.Parent -is [System.Management.Automation.Language.ExpandableStringExpressionAst]
        $parts = foreach ($v in $values) {
            $isNumber = if ($v -is [System.Management.Automation.Language.Ast]) { $v -isnot [System.Management.Automation.Language.StringConstantExpressionAst] } else { $v -match '^\d+$' }
            $value = if ($v -is [System.Management.Automation.Language.Ast]) { [string]$v.Value } else { $v }
            if ($inString) { $value -replace '([`$"])', '`$1' }
            elseif ($isNumber -or ($isArgument -and $value -match '^[\w./:@\\-]+$' -and $value -notmatch '^-')) { $value }
            else { "'" + $value.Replace("'", "''") + "'" }
        }
        $rendered = @($parts) -join ', '
        $start = $use.Extent.StartOffset - $from
        $snippet = $snippet.Substring(0, $start) + $rendered + $snippet.Substring($start + $use.Extent.Text.Length)
    }

    $lines = @($snippet.Replace("`r", '').Split("`n") | ForEach-Object TrimEnd)
    $indent = ($lines | Where-Object { $_ } | ForEach-Object { $_.Length - $_.TrimStart().Length } | Measure-Object -Minimum).Minimum
    ($lines | ForEach-Object { if ($_.Length -ge $indent) { $_.Substring($indent) } else { $_ } }) -join "`n" -replace '^\n+', '' -replace '\n+$', ''
}

function Read-ExampleCode {
    <#
    .SYNOPSIS
    Parses an example's code: the AST and the parse errors. A DSC Configuration statement compiles only
    where the parser can load PSDesiredStateConfiguration and every imported resource (Windows, with the
    modules installed), so it is parsed as the function it compiles to, where its resource blocks are
    commands with a script block of "Property = value" lines (Dsc.Tests.ps1 checks those properties).
    `using module Acme` resolves the module while parsing; that it is not installed where the docs are
    checked is not an error in the example.
    #>
    param([Parameter(Mandatory)][string] $Code)
    $portable = [regex]::Replace($Code, '(?im)^(\s*)Configuration(\s+[\w-]+\s*\{)', '$1function$2')
    $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseInput($portable, [ref]$null, [ref]$errors)
    [pscustomobject]@{ Ast = $ast; Errors = @($errors | Where-Object ErrorId -NE 'ModuleNotFoundDuringParse') }
}

Export-ModuleMember -Function Read-CommandHelpPage, ConvertTo-MamlHelp, Read-AboutHelpPage, ConvertTo-AboutHelpText, Get-MarkdownExample,
    Get-ExampleSnippet, Get-HelpPageLine, Read-ExampleCode
