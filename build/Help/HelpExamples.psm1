#Requires -Version 7.2
<#
    Get-MarkdownExample    lists the PowerShell code fences of any markdown file with the marker comment
                           before each: <!-- example: examples/X.ps1#Name [Param=Value ...] --> or
                           <!-- not run: reason -->.
    Get-ExampleSnippet     renders a snippet of an example script as the pages embed it (examples/README.md
                           describes the convention; tests/Pester/Help.Tests.ps1 checks the pages' copies
                           against it, Examples.Tests.ps1 runs the scripts).
    Read-ExampleCode       parses a fence's code, DSC configurations included, for the tests to check.
#>
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'HelpBlocks.psm1') -Force

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

Export-ModuleMember -Function Get-MarkdownExample, Get-ExampleSnippet, Read-ExampleCode
