#Requires -Version 7.2
<#
.SYNOPSIS
    Compiles the help pages into what Get-Help reads: every <Verb-Noun>.md (PlatyPS v1 markdown layout)
    into one MAML file, <AssemblyName>-Help.xml, and every about_*.md into about_*.help.txt.
.DESCRIPTION
    Run by build.ps1 (Build and Docs). It stops the build with every malformed page listed as
    "<file>:<line>: <problem>". It does not load the module, so the build never locks the DLL;
    tests/Pester/Help.Tests.ps1 compares the pages with the cmdlets themselves.
.EXAMPLE
    ./build/Build-Help.ps1 -DocsPath docs/en-US -OutputPath output/Acme/0.1.0/en-US -AssemblyName Acme.PowerShell.dll
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string] $DocsPath,
    [Parameter(Mandatory)][string] $OutputPath,
    [Parameter(Mandatory)][string] $AssemblyName,
    [string] $ModuleName = 'Acme',
    # Where each cmdlet's page is read online (Get-Help -Online): a page without its own 'online version'
    # gets <OnlineBase><Verb-Noun>.md. By default the docs folder of the manifest's ProjectUri.
    [string] $OnlineBase
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'HelpMarkdown.psm1') -Force

$problems = [System.Collections.Generic.List[string]]::new()
$pages = [System.Collections.Generic.List[object]]::new()
$abouts = [System.Collections.Generic.List[object]]::new()
foreach ($file in Get-ChildItem -LiteralPath $DocsPath -Filter *.md -File | Sort-Object Name) {
    try {
        if ($file.BaseName -like 'about_*') {
            $abouts.Add((Read-AboutHelpPage -Path $file.FullName))
        } elseif ($file.BaseName -match '^[A-Z][a-z]+-[A-Za-z]+$') {
            $pages.Add((Read-CommandHelpPage -Path $file.FullName -AssemblyName $AssemblyName -ModuleName $ModuleName))
        } else {
            $problems.Add("$($file.Name): not a cmdlet page (Verb-Noun.md) nor an about topic (about_Name.md)")
        }
    } catch [System.IO.InvalidDataException] {
        $problems.Add($_.Exception.Message)
    }
}
if ($problems.Count) {
    throw "The help pages in $DocsPath are malformed:`n  $($problems -join "`n  ")"
}

if (-not $OnlineBase) {
    $manifest = Import-PowerShellDataFile (Join-Path $PSScriptRoot '../Acme.psd1')
    $OnlineBase = "$($manifest.PrivateData.PSData.ProjectUri)/blob/main/docs/en-US/"
}
# Without it, Get-Help -Online opens the first related link with an address (often an RFC), not the page.
foreach ($page in $pages) {
    if (-not $page.OnlineVersion) { $page.OnlineVersion = "$OnlineBase$($page.Name).md" }
}

$null = New-Item -ItemType Directory -Path $OutputPath -Force
$utf8 = [System.Text.UTF8Encoding]::new($false)
if ($pages.Count) {
    [System.IO.File]::WriteAllText((Join-Path $OutputPath "$AssemblyName-Help.xml"), (ConvertTo-MamlHelp -Page $pages.ToArray()), $utf8)
}
foreach ($about in $abouts) {
    [System.IO.File]::WriteAllText((Join-Path $OutputPath "$($about.Name).help.txt"), (ConvertTo-AboutHelpText -Page $about), $utf8)
}
Write-Host "Help: $($pages.Count) cmdlet page(s) and $($abouts.Count) about topic(s) compiled into $OutputPath"
