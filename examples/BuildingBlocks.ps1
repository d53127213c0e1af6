<#
.SYNOPSIS
    The building blocks for answers served elsewhere: authorizations and challenges of an order, files
    written to a share that every web server behind a load balancer serves, submitting the challenges
    and waiting. (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging', [string] $Share = '\\web\share')
$ErrorActionPreference = 'Stop'
$account = New-AcmeAccount -Server $Server -AcceptTermsOfService
$order = $account | New-AcmeOrder -DnsName example.com, www.example.com

# example: PendingAuthorizations
$order | Get-AcmeAuthorization | Where-Object Status -eq 'Pending'
# end example

# example: TxtRecords
$order | Get-AcmeChallenge -Type dns-01 | Format-Table DnsRecordName, DnsRecordValue
# end example

# example: SharedStore
$challenges = $order | Get-AcmeChallenge -Type http-01
foreach ($c in $challenges) { Set-Content -Path "$Share$($c.HttpPath)" -Value $c.KeyAuthorization -NoNewline }
$challenges | Submit-AcmeChallenge | Wait-AcmeOrder | Complete-AcmeOrder
# end example

# Two more orders whose answers are already on the share, for the next two examples.
$publish = { param($o) $o | Get-AcmeChallenge -Type http-01 | ForEach-Object { Set-Content -Path "$Share$($_.HttpPath)" -Value $_.KeyAuthorization -NoNewline }; $o }
$order = & $publish ($account | New-AcmeOrder -DnsName api.example.com)

# example: Submit
$order | Get-AcmeChallenge -Type http-01 | Submit-AcmeChallenge | Wait-AcmeOrder | Complete-AcmeOrder
# end example

$challenges = & $publish ($account | New-AcmeOrder -DnsName cdn.example.com) | Get-AcmeChallenge -Type http-01

# example: Wait
$challenges | Submit-AcmeChallenge | Wait-AcmeOrder -TimeoutSec 120 | Complete-AcmeOrder
# end example
