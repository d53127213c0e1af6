<#
.SYNOPSIS
    The renewal worker: one pass that issues what is missing and renews what is due (a scheduled task),
    every saved certificate replaced after a CA incident, and the results of a pass as a table.
    (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging', [int] $HttpPort = 80)
$ErrorActionPreference = 'Stop'

# example: WorkerOnce
Start-AcmeRenewalWorker -Certificate 'example.com,www.example.com', 'api.example.com' -Server $Server -AcceptTermsOfService `
    -HttpPort $HttpPort -ExportPath ./certs -Once
# end example
Start-Sleep -Seconds 1   # the versions above were saved in an earlier second than the incident below

# example: WorkerIssuedBefore
$incident = Get-Date
Start-AcmeRenewalWorker -IssuedBefore $incident -HttpPort $HttpPort -Once | Select-Object Name, Action, Reason, Thumbprint
# end example

# example: WorkerNotDue
Start-AcmeRenewalWorker -HttpPort $HttpPort -Once -IncludeNotDue | Where-Object Action -EQ NotDue | Select-Object Name, Reason, RenewAt
# end example
