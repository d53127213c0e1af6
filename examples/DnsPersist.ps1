<#
.SYNOPSIS
    dns-persist-01: the TXT record to create once, ahead of time, so renewals need no DNS change.
    (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging', [string] $IssuerDomainName = 'letsencrypt.org')
$ErrorActionPreference = 'Stop'
$null = New-AcmeAccount -Server $Server -AcceptTermsOfService

# example: Record
Get-AcmeDnsPersistRecord -Server $Server -IssuerDomainName $IssuerDomainName -DnsName example.com, *.example.com -PersistUntil (Get-Date).AddYears(1)
# end example
