<#
.SYNOPSIS
    dns-01 delegated to another zone: _acme-challenge.example.com is a CNAME to a name in a zone the
    record scripts can write. Pass -AddRecord and -RemoveRecord blocks for that zone. (examples/README.md)
#>
param(
    [Parameter(Mandatory)][scriptblock] $AddRecord,
    [Parameter(Mandatory)][scriptblock] $RemoveRecord,
    [string] $Server = 'LetsEncryptStaging'
)
$ErrorActionPreference = 'Stop'
$add = $AddRecord
$remove = $RemoveRecord
$order = New-AcmeAccount -Server $Server -AcceptTermsOfService | New-AcmeOrder -DnsName example.com

# example: DnsAlias
# _acme-challenge.example.com is a CNAME to example-com.acme.example.net
$order | Start-AcmeDnsChallenge -AddRecord $add -RemoveRecord $remove -DnsAlias @{ 'example.com' = 'example-com.acme.example.net' }
# end example
