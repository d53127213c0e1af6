<#
.SYNOPSIS
    The runbook examples/Update-AcmeCertificates.ps1 run the way a scheduler runs it: it issues the
    certificates it is given when missing, renews every due certificate of the state folder, exports
    what it issued, writes one result per certificate, and exits with 1 when one failed.
    (examples/README.md)
#>
param(
    [string] $Server = 'LetsEncryptStaging',
    [int] $HttpPort = 80,
    [string] $Runbook = './Update-AcmeCertificates.ps1'
)
$ErrorActionPreference = 'Stop'

# example: Runbook
& $Runbook -StatePath ./acme-state -Server $Server -Certificate 'example.com,www.example.com', 'api.example.com' `
    -Contact admin@example.com -AcceptTermsOfService -HttpPort $HttpPort -ExportPath ./certs
# end example
