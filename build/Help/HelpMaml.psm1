#Requires -Version 7.2
<#
    ConvertTo-MamlHelp     turns parsed pages (HelpParse.psm1's Read-CommandHelpPage) into MAML
                           (<assembly>-Help.xml), the format Get-Help reads in PowerShell 7 and Windows
                           PowerShell 5.1, shaped like PlatyPS's own output.
#>
Set-StrictMode -Version Latest

$script:MamlNs = 'http://schemas.microsoft.com/maml/2004/10'
$script:CommandNs = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$script:DevNs = 'http://schemas.microsoft.com/maml/dev/2004/10'

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

Export-ModuleMember -Function ConvertTo-MamlHelp
