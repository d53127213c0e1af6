<#
    Benchmark worker: the whole job in a new process: import the module, make an account, order,
    answer http-01, finalize, export. The runner times the process from start to exit.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath, [Parameter(Mandatory)][string] $Directory,
    [Parameter(Mandatory)][string] $TrustedRoot, [Parameter(Mandatory)][int] $HttpPort,
    [Parameter(Mandatory)][string] $Name, [Parameter(Mandatory)][string] $OutPath
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$null = New-AcmeAccount -Server $Directory -TrustedRootCertificate $TrustedRoot -AcceptTermsOfService |
    New-AcmeOrder -DnsName $Name | Start-AcmeHttpChallenge -Port $HttpPort | Complete-AcmeOrder | Export-AcmeCertificate -Path $OutPath
