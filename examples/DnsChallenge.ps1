<#
.SYNOPSIS
    dns-01 with record scripts for your DNS provider: a mixed order (the apex by HTTP, the wildcard by
    DNS), and the propagation check against given servers. Pass -AddRecord and -RemoveRecord blocks that
    call your provider's API (Start-AcmeDnsChallenge's first example shows Azure DNS); the tests pass
    blocks for their own DNS server. (examples/README.md)
#>
param(
    [Parameter(Mandatory)][scriptblock] $AddRecord,
    [Parameter(Mandatory)][scriptblock] $RemoveRecord,
    [string] $Server = 'LetsEncryptStaging',
    [int] $HttpPort = 80,
    [string[]] $DnsServer = ('10.0.0.53', 'ns2.example.com:5353')
)
$ErrorActionPreference = 'Stop'
$add = $AddRecord
$remove = $RemoveRecord
$account = New-AcmeAccount -Server $Server -AcceptTermsOfService

# example: MixedOrder
$account | New-AcmeOrder -DnsName example.com, '*.example.com' |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Start-AcmeDnsChallenge -AddRecord $add -RemoveRecord $remove |
    Complete-AcmeOrder
# end example

$order = $account | New-AcmeOrder -DnsName www.example.com

# example: DnsServer
$order | Start-AcmeDnsChallenge -AddRecord $add -RemoveRecord $remove -DnsServer $DnsServer -PropagationTimeoutSec 120
# end example
