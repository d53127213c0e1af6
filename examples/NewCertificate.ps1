<#
.SYNOPSIS
    New-AcmeCertificate, the common case in one command: issued, saved and exported the first time; the
    same command again returns the saved certificate and sends nothing until it is due; a wildcard by
    dns-01 with your DNS provider's record scripts (the tests pass blocks for their own DNS server).
    (examples/README.md)
#>
param(
    [Parameter(Mandatory)][scriptblock] $AddRecord,
    [Parameter(Mandatory)][scriptblock] $RemoveRecord,
    [string] $Server = 'LetsEncryptStaging',
    [int] $HttpPort = 80
)
$ErrorActionPreference = 'Stop'
$add = $AddRecord
$remove = $RemoveRecord

# example: OneShot
New-AcmeCertificate -DnsName example.com, www.example.com -Server $Server -Contact admin@example.com -AcceptTermsOfService -HttpPort $HttpPort -Path ./cert
# end example

# example: OneShotAgain
New-AcmeCertificate -DnsName example.com, www.example.com -Server $Server -HttpPort $HttpPort -Path ./cert
# end example

# example: Wildcard
New-AcmeCertificate -DnsName '*.example.com' -Server $Server -AcceptTermsOfService -AddRecord $add -RemoveRecord $remove
# end example
