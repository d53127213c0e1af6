<#
.SYNOPSIS
    Orders by URL: resuming an order after a restart, deactivating an order's authorizations, and
    refreshing an order object from the CA. (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging', [int] $HttpPort = 80)
$ErrorActionPreference = 'Stop'
# An earlier run saved its account key and wrote down the URL of the order it placed.
$account = New-AcmeAccount -Server $Server -AcceptTermsOfService
$account | Export-AcmeAccountKey -Path ./account.pem | Out-Null
($account | New-AcmeOrder -DnsName example.com).Location | Set-Content ./order-url.txt

# example: Resume
$account = Get-AcmeAccount $Server -KeyPath ./account.pem
$order = Get-AcmeOrder -Account $account -Url (Get-Content ./order-url.txt)
$order | Start-AcmeHttpChallenge -Port $HttpPort | Complete-AcmeOrder
# end example

$order = $account | New-AcmeOrder -DnsName shop.example.net

# example: DisableAuthorizations
$order.Authorizations | Disable-AcmeAuthorization -Confirm:$false -PassThru
# end example

# example: Refresh
$order = $order | Get-AcmeOrder
$order.Status
# end example
