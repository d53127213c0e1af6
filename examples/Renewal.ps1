<#
.SYNOPSIS
    Renewal as a pipeline: which saved certificates are due, the renewal of those that are, and one
    certificate renewed now, whether due or not. (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging', [int] $HttpPort = 80)
$ErrorActionPreference = 'Stop'
$null = New-AcmeAccount -Server $Server -AcceptTermsOfService | New-AcmeOrder -DnsName example.com, www.example.com |
    Start-AcmeHttpChallenge -Port $HttpPort | Complete-AcmeOrder

# example: TestRenewal
Get-AcmeCertificate | Test-AcmeRenewal
# end example

# example: RenewDue
Get-AcmeCertificate | Test-AcmeRenewal | Where-Object Due | New-AcmeOrder |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Complete-AcmeOrder |
    Export-AcmeCertificate -Path ./cert
# end example

# example: RenewNow
Get-AcmeCertificate -Name example.com | New-AcmeOrder | Start-AcmeHttpChallenge -Port $HttpPort | Complete-AcmeOrder
# end example
