#Requires -Version 7.2
<#
    Read-AboutHelpPage     parses about_*.md (PlatyPS's about template) and ConvertTo-AboutHelpText
                           renders it as the about_*.help.txt Get-Help shows.
#>
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'HelpBlocks.psm1') -Force

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
        # Get-Help's synopsis of an about topic is the line right under SHORT DESCRIPTION: a blank line
        # there leaves it empty, so the first paragraph follows the heading at once, on one line.
        $first = $section.Name -ceq 'SHORT DESCRIPTION'
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
                    if (-not $first) { $out.Add('') }
                    if ($block.Lines[0] -match '^\s*\|') {
                        foreach ($l in Format-TextTable $block.Lines) { $out.Add("    $l") }
                        break
                    }
                    foreach ($para in ConvertTo-HelpParagraph @($block)) {
                        if ($para -match '^([-*]|\d+\.)\s+') {
                            $marker = $Matches[0]
                            foreach ($l in Format-WrappedText -Text $para -Indent 4 -HangingIndent (4 + $marker.Length)) { $out.Add($l) }
                        } elseif ($section.Name -ceq 'SHORT DESCRIPTION') {
                            # One line: Get-Help's synopsis is that first line only.
                            $out.Add('    ' + (($para -split '\s+' | Where-Object { $_ }) -join ' '))
                        } else {
                            foreach ($l in Format-WrappedText -Text $para -Indent 4) { $out.Add($l) }
                        }
                    }
                }
            }
            $first = $false
        }
    }
    ($out -join [Environment]::NewLine) + [Environment]::NewLine
}

Export-ModuleMember -Function Read-AboutHelpPage, ConvertTo-AboutHelpText
