<#
.SYNOPSIS
    The state folder: a named account, an order saved as it is placed and picked up again later (in
    another session), what the folder holds, and a saved certificate exported again. (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging', [int] $HttpPort = 80)
$ErrorActionPreference = 'Stop'

# example: NamedAccount
New-AcmeAccount -Server $Server -Name web -Contact admin@example.com -AcceptTermsOfService
# end example

# example: SavedOrder
Get-AcmeAccount -Name web | New-AcmeOrder -DnsName example.com, www.example.com
# end example

# example: ResumeOrder
Get-AcmeOrder -Name example.com | Start-AcmeHttpChallenge -Port $HttpPort | Complete-AcmeOrder
# end example

# example: ListState
Get-AcmeAccount
Get-AcmeOrder
Get-AcmeCertificate
# end example

# example: ExportSaved
Get-AcmeCertificate -Name example.com | Export-AcmeCertificate -Path ./cert
# end example
