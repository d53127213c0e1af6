<#
    Benchmark worker: a runbook's job in a new process with a warm state folder (the account is saved):
    import the module, New-AcmeCertificate for one name by http-01 with the saved account, export. The
    runner times the process from start to exit.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath, [Parameter(Mandatory)][string] $Directory,
    [Parameter(Mandatory)][string] $TrustedRoot, [Parameter(Mandatory)][int] $HttpPort,
    [Parameter(Mandatory)][string] $Name, [Parameter(Mandatory)][string] $OutPath
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$null = New-AcmeCertificate -DnsName $Name -Server $Directory -TrustedRootCertificate $TrustedRoot -AcceptTermsOfService `
    -HttpPort $HttpPort -Path $OutPath
