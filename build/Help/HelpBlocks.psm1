#Requires -Version 7.2
<#
    The markdown reading the help pages share, in plain PowerShell because PlatyPS is not obtainable here:
    a file's lines, its front matter, its blocks (headings, code fences, comments, prose) and its ## sections,
    and prose turned into help paragraphs. A malformed page throws "<file>:<line>: <problem>"
    (New-PageProblem). HelpParse.psm1 (cmdlet pages), HelpAbout.psm1 (about topics) and HelpExamples.psm1
    (example fences) build on it.
#>
Set-StrictMode -Version Latest

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

function Test-HasProse {
    param([object[]] $Blocks)
    @($Blocks | Where-Object { $_.Kind -eq 'Text' }).Count -gt 0
}

Export-ModuleMember -Function Get-HelpPageLine, New-PageProblem, Split-MarkdownBlock, ConvertTo-PlainInline, ConvertTo-HelpParagraph,
    Read-FrontMatter, Split-Section, Test-HasProse
