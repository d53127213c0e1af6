<#
.SYNOPSIS
    Renewal as a pipeline: which saved certificates are due, the renewal of those that are (each into
    its own folder), one certificate renewed now, whether due or not, every certificate exported to a
    folder a script block names, and where each one went. (examples/README.md)
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
    Export-AcmeCertificate -Path ./certs -PerCertificateFolder
# end example

# example: RenewNow
Get-AcmeCertificate -Name example.com | New-AcmeOrder | Start-AcmeHttpChallenge -Port $HttpPort | Complete-AcmeOrder
# end example

# example: ExportEach
Get-AcmeCertificate | Export-AcmeCertificate -Path { "./sites/$($_.Name)" } | Out-Null
# end example

# example: WhereExported
Get-AcmeCertificate | Sort-Object DaysLeft | Select-Object Name, DaysLeft, FullChainFile, KeyFile
# end example
