<#
.SYNOPSIS
    Removing what the state folder holds: a certificate with its keys, then the account that ordered it.
    (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging', [int] $HttpPort = 80)
$ErrorActionPreference = 'Stop'
$null = New-AcmeAccount -Server $Server -Name old -AcceptTermsOfService
$null = Get-AcmeAccount -Name old | New-AcmeOrder -DnsName old.example.com | Start-AcmeHttpChallenge -Port $HttpPort | Complete-AcmeOrder

# example: RemoveAccount
Remove-AcmeCertificate old.example.com
Remove-AcmeAccount old
Get-AcmeAccount
# end example
