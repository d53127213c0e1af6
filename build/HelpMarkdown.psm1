#Requires -Version 7.2
<#
    The help pages' tooling, in plain PowerShell because PlatyPS is not obtainable here, one module per job
    in build/Help/; this loader imports them and exports their commands, so build/Build-Help.ps1,
    build/New-HelpPage.ps1 and the Pester tests import one file.

    Help/HelpBlocks.psm1    the markdown reading the others share: lines, front matter, blocks, sections, paragraphs.
    Help/HelpParse.psm1     Read-CommandHelpPage: a <Verb-Noun>.md page (PlatyPS v1 layout) into a page object.
    Help/HelpMaml.psm1      ConvertTo-MamlHelp: page objects into MAML (<assembly>-Help.xml) for Get-Help.
    Help/HelpAbout.psm1     Read-AboutHelpPage and ConvertTo-AboutHelpText: about_*.md into about_*.help.txt.
    Help/HelpExamples.psm1  Get-MarkdownExample, Get-ExampleSnippet, Read-ExampleCode: the example fences of
                            the pages and the examples/ scripts they are copied from.
#>
Set-StrictMode -Version Latest

foreach ($part in 'HelpBlocks', 'HelpParse', 'HelpMaml', 'HelpAbout', 'HelpExamples') {
    Import-Module (Join-Path $PSScriptRoot "Help/$part.psm1") -Force
}

Export-ModuleMember -Function Read-CommandHelpPage, ConvertTo-MamlHelp, Read-AboutHelpPage, ConvertTo-AboutHelpText, Get-MarkdownExample,
    Get-ExampleSnippet, Get-HelpPageLine, Read-ExampleCode
