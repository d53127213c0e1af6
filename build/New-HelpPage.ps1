#Requires -Version 7.2
<#
.SYNOPSIS
    Writes the help page of a new cmdlet, or brings an existing page's syntax and parameter metadata up
    to date with the cmdlet (PlatyPS's New-MarkdownHelp and Update-MarkdownHelp, which are not obtainable here).
.DESCRIPTION
    Loads the built module (run `./build.ps1 Build` first) in this process, so run it in its own
    `dotnet pwsh`. A new page gets the PlatyPS v1 layout with every section, the syntax of each parameter
    set, a yaml block per parameter, and {{ ... }} placeholders for the prose; the help tests fail
    until the placeholders are replaced. With -Update, an existing page keeps its prose and its
    "Default value" lines; its SYNTAX section and yaml blocks are regenerated, new parameters are added
    before CommonParameters with a placeholder, and parameters the cmdlet no longer has are removed.
.EXAMPLE
    dotnet pwsh ./build/New-HelpPage.ps1 -Name Get-AcmeOrder
.EXAMPLE
    dotnet pwsh ./build/New-HelpPage.ps1 -Update
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    # Cmdlets to write pages for; by default every exported cmdlet without a page (or, with -Update, every page).
    [string[]] $Name,
    [switch] $Update,
    [string] $ModulePath,
    [string] $DocsPath = (Join-Path $PSScriptRoot '../docs/en-US')
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot
if (-not $ModulePath) {
    $version = (Import-PowerShellDataFile (Join-Path $root 'Acme.psd1')).ModuleVersion
    $ModulePath = Join-Path $root "output/Acme/$version/Acme.psd1"
}
$module = Import-Module $ModulePath -PassThru -Force
$common = [System.Management.Automation.Cmdlet]::CommonParameters
# The cmdlets' assembly: a nested module (the root module is Acme.psm1, which holds the DSC resource).
$assemblyName = [System.IO.Path]::GetFileName((Get-Command -Module $module.Name -CommandType Cmdlet | Select-Object -First 1).ImplementingType.Assembly.Location)

function Get-TypeName([type] $Type) {
    $underlying = [Nullable]::GetUnderlyingType($Type)
    if ($underlying) { $Type = $underlying }
    $Type.Name
}

function Get-PipelineText($Metadata) {
    if ($Metadata.ValueFromPipeline -and $Metadata.ValueFromPipelineByPropertyName) { 'True (ByPropertyName, ByValue)' }
    elseif ($Metadata.ValueFromPipeline) { 'True (ByValue)' }
    elseif ($Metadata.ValueFromPipelineByPropertyName) { 'True (ByPropertyName)' }
    else { 'False' }
}

function Get-ParameterYaml {
    <# One yaml block per group of parameter sets that share the same metadata; "(All)" when it is every set. #>
    param([System.Management.Automation.CommandInfo] $Command, [string] $Parameter, [hashtable] $Keep)
    $info = $Command.Parameters[$Parameter]
    $default = if ($Keep -and $Keep.Contains('Default value')) { $Keep['Default value'] } else {
        try {
            $value = [Activator]::CreateInstance($Command.ImplementingType).$Parameter
            if ($info.SwitchParameter) { 'False' }
            elseif ($null -eq $value -or ($value -is [array] -and $value.Count -eq 0)) { 'None' }
            elseif ($value -is [System.Management.Automation.SwitchParameter]) { 'False' }
            else { "$value" }
        } catch { if ($info.SwitchParameter) { 'False' } else { 'None' } }
    }
    $wildcard = if ($Keep -and $Keep.Contains('Accept wildcard characters')) { $Keep['Accept wildcard characters'] } else { 'False' }
    # A nullable enum ([AcmeRevocationReason?], "not given" apart from every value) lists its enum's names too.
    $type = if ([Nullable]::GetUnderlyingType($info.ParameterType)) { [Nullable]::GetUnderlyingType($info.ParameterType) } else { $info.ParameterType }
    $accepted = if ($type.IsEnum) { [enum]::GetNames($type) -join ', ' } else {
        $set = $info.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | Select-Object -First 1
        if ($set) { $set.ValidValues -join ', ' }
    }
    $allSets = @($Command.ParameterSets.Name)
    $groups = [ordered]@{}
    foreach ($set in $Command.ParameterSets) {
        $m = $set.Parameters | Where-Object Name -EQ $Parameter
        if (-not $m) { continue }
        $key = '{0}|{1}|{2}' -f $m.IsMandatory, $(if ($m.Position -lt 0) { 'Named' } else { $m.Position }), (Get-PipelineText $m)
        if (-not $groups.Contains($key)) { $groups[$key] = [System.Collections.Generic.List[string]]::new() }
        $groups[$key].Add($set.Name)
    }
    foreach ($key in $groups.Keys) {
        $required, $position, $pipeline = $key.Split('|')
        $sets = if ($groups.Count -eq 1 -and $groups[$key].Count -eq $allSets.Count) { '(All)' } else { $groups[$key] -join ', ' }
        $lines = @(
            '```yaml'
            "Type: $(Get-TypeName $info.ParameterType)"
            "Parameter Sets: $sets"
            "Aliases: $(if ($info.Aliases.Count) { $info.Aliases -join ', ' } else { 'None' })"
            if ($accepted) { "Accepted values: $accepted" }
            ''
            "Required: $required"
            "Position: $position"
            "Default value: $default"
            "Accept pipeline input: $pipeline"
            "Accept wildcard characters: $wildcard"
            '```'
        )
        $lines -join "`n"
    }
}

function Get-SyntaxSection([System.Management.Automation.CommandInfo] $Command) {
    $sets = @($Command.ParameterSets | Sort-Object { -not $_.IsDefault })
    $out = foreach ($set in $sets) {
        # Wrap at about 100 columns between parameters, as PlatyPS does.
        $parts = [System.Collections.Generic.List[string]]::new()
        $depth = 0; $current = ''
        foreach ($ch in $set.ToString().ToCharArray()) {
            if ($ch -eq ' ' -and $depth -eq 0) { if ($current) { $parts.Add($current) }; $current = ''; continue }
            if ($ch -in '[', '{', '<') { $depth++ } elseif ($ch -in ']', '}', '>') { $depth-- }
            $current += $ch
        }
        if ($current) { $parts.Add($current) }
        $lines = [System.Collections.Generic.List[string]]::new()
        $line = $Command.Name
        foreach ($part in $parts) {
            if ($line.Length + 1 + $part.Length -gt 100) { $lines.Add($line); $line = " $part" } else { $line = "$line $part" }
        }
        $lines.Add($line)
        "### $($set.Name)$(if ($set.IsDefault) { ' (Default)' })"
        ''
        '```'
        $lines
        '```'
        ''
    }
    @('## SYNTAX', '') + $out
}

function Get-ParameterOrder([System.Management.Automation.CommandInfo] $Command) {
    $names = [System.Collections.Generic.List[string]]::new()
    foreach ($set in $Command.ParameterSets | Sort-Object { -not $_.IsDefault }) {
        foreach ($p in $set.Parameters) {
            if ($p.Name -notin $common -and $p.Name -notin 'WhatIf', 'Confirm' -and -not $names.Contains($p.Name)) { $names.Add($p.Name) }
        }
    }
    foreach ($n in 'Confirm', 'WhatIf') { if ($Command.Parameters.ContainsKey($n)) { $names.Add($n) } }
    $names
}

function Get-ParameterSection([System.Management.Automation.CommandInfo] $Command, [string] $Parameter) {
    $description = switch ($Parameter) {
        'WhatIf' { 'Shows what would happen if the cmdlet runs. The cmdlet is not run.' }
        'Confirm' { 'Prompts you for confirmation before running the cmdlet.' }
        default { "{{ Describe -$Parameter }}" }
    }
    "### -$Parameter"
    ''
    $description
    ''
    Get-ParameterYaml $Command $Parameter
    ''
}

function New-Page([System.Management.Automation.CommandInfo] $Command) {
    $lines = @(
        '---'
        "external help file: $assemblyName-Help.xml"
        "Module Name: $($module.Name)"
        'online version:'
        'schema: 2.0.0'
        '---'
        ''
        "# $($Command.Name)"
        ''
        '## SYNOPSIS'
        ''
        '{{ One sentence: what the cmdlet does }}'
        ''
        Get-SyntaxSection $Command
        '## DESCRIPTION'
        ''
        '{{ What it does, what it needs, what it returns }}'
        ''
        '## EXAMPLES'
        ''
        '### Example 1: {{ title }}'
        ''
        '<!-- example: examples/{{ Script }}.ps1#{{ Name }} -->'
        '```powershell'
        '{{ code }}'
        '```'
        ''
        '{{ What the example does }}'
        ''
        '## PARAMETERS'
        ''
        foreach ($p in Get-ParameterOrder $Command) { Get-ParameterSection $Command $p }
        '### CommonParameters'
        ''
        'This cmdlet supports the common parameters: -Debug, -ErrorAction, -ErrorVariable, -InformationAction, -InformationVariable, -OutVariable, -OutBuffer, -PipelineVariable, -ProgressAction, -Verbose, -WarningAction, and -WarningVariable. For more information, see [about_CommonParameters](http://go.microsoft.com/fwlink/?LinkID=113216).'
        ''
        '## INPUTS'
        ''
        '### {{ Type }}'
        ''
        '## OUTPUTS'
        ''
        foreach ($t in $Command.OutputType) { "### $($t.Name)"; ''; '{{ Describe the output }}'; '' }
        '## NOTES'
        ''
        '## RELATED LINKS'
        ''
        '[about_Acme](about_Acme.md)'
    )
    ($lines -join "`n") + "`n"
}

function Update-Page([System.Management.Automation.CommandInfo] $Command, [string] $Path) {
    $lines = [System.Collections.Generic.List[string]](Get-HelpPageLine $Path)
    $find = { param($pattern, $from) for ($i = $from; $i -lt $lines.Count; $i++) { if ($lines[$i] -cmatch $pattern) { return $i } }; -1 }

    $syntaxStart = & $find '^## SYNTAX\s*$' 0
    $syntaxEnd = & $find '^## ' ($syntaxStart + 1)
    if ($syntaxStart -lt 0 -or $syntaxEnd -lt 0) { throw "$Path has no ## SYNTAX section followed by another section." }
    $lines.RemoveRange($syntaxStart, $syntaxEnd - $syntaxStart)
    $lines.InsertRange($syntaxStart, [string[]]((Get-SyntaxSection $Command) -join "`n").Split("`n"))

    $paramStart = & $find '^## PARAMETERS\s*$' 0
    $commonAt = & $find '^### CommonParameters\s*$' $paramStart
    if ($paramStart -lt 0 -or $commonAt -lt 0) { throw "$Path has no ## PARAMETERS section ending with ### CommonParameters." }
    $wanted = @(Get-ParameterOrder $Command)
    $existing = [ordered]@{}
    $i = $paramStart + 1
    while ($i -lt $commonAt) {
        if ($lines[$i] -match '^### -(\w+)\s*$') {
            $parameterName = $Matches[1]
            $next = $i + 1
            while ($next -lt $commonAt -and $lines[$next] -notmatch '^### ') { $next++ }
            $existing[$parameterName] = $lines.GetRange($i, $next - $i).ToArray()
            $i = $next
        } else { $i++ }
    }
    # Keep the page's order; parameters new to the cmdlet go last, before CommonParameters.
    $kept = @($existing.Keys | Where-Object { $_ -in $wanted })
    $order = @($kept) + @($wanted | Where-Object { $_ -notin $kept })
    $sections = foreach ($p in $order) {
        $match = $existing.Keys | Where-Object { $_ -eq $p } | Select-Object -First 1
        if (-not $match) { Get-ParameterSection $Command $p; Write-Host "  added -$p to $Path"; continue }
        $old = $existing[$match]
        $keep = @{}
        foreach ($l in $old) { if ($l -match '^(Default value|Accept wildcard characters):\s*(.*)$') { if (-not $keep.Contains($Matches[1])) { $keep[$Matches[1]] = $Matches[2] } } }
        $prose = [System.Collections.Generic.List[string]]::new()
        $inYaml = $false
        foreach ($l in $old | Select-Object -Skip 1) {
            if ($l -match '^```yaml\s*$') { $inYaml = $true; continue }
            if ($inYaml) { if ($l -match '^```\s*$') { $inYaml = $false }; continue }
            $prose.Add($l)
        }
        while ($prose.Count -and -not $prose[$prose.Count - 1].Trim()) { $prose.RemoveAt($prose.Count - 1) }
        "### -$p"
        $prose
        ''
        Get-ParameterYaml $Command $p $keep
        ''
    }
    foreach ($gone in $existing.Keys | Where-Object { $_ -notin $wanted }) { Write-Host "  removed -$gone from $Path (the cmdlet no longer has it)" }
    $lines.RemoveRange($paramStart + 1, $commonAt - $paramStart - 1)
    $lines.InsertRange($paramStart + 1, [string[]](@('') + (($sections -join "`n").Split("`n"))))
    (($lines -join "`n").TrimEnd() -replace '\n{3,}', "`n`n") + "`n"
}

Import-Module (Join-Path $PSScriptRoot 'HelpMarkdown.psm1') -Force
$commands = Get-Command -Module $module.Name -CommandType Cmdlet
if ($Name) { $commands = $commands | Where-Object Name -In $Name }
foreach ($command in $commands) {
    $path = Join-Path $DocsPath "$($command.Name).md"
    if (Test-Path $path) {
        if (-not $Update) { if ($Name) { Write-Warning "$path exists; use -Update to refresh its syntax and parameters." }; continue }
        $text = Update-Page $command $path
    } else {
        $text = New-Page $command
    }
    if ($PSCmdlet.ShouldProcess($path, 'Write the help page')) {
        [System.IO.File]::WriteAllText($path, $text, [System.Text.UTF8Encoding]::new($false))
        Write-Host "Wrote $path"
    }
}
