<#
.SYNOPSIS
    Scale-out: responders on several hosts answer http-01 from a shared store (Redis or a shared
    folder) behind a load balancer, and any host orders, publishing its answers there. The tests run
    the responder for a few seconds (-TimeoutSec through $PSDefaultParameterValues), and order against
    a responder process on Pebble's http-01 port serving a shared folder. (examples/README.md)
#>
param(
    [string] $Server = 'LetsEncryptStaging',
    [string] $Store = 'redis://:s3cret@redis.internal:6379',
    [int] $Port = 80,
    [string] $CheckUrl = 'http://balancer.internal'
)
$ErrorActionPreference = 'Stop'

# example: Responder
Start-AcmeChallengeResponder -Store $Store -Port $Port
# end example

# example: Order
New-AcmeAccount -Server $Server -Contact admin@example.com -AcceptTermsOfService |
    New-AcmeOrder -DnsName example.com, www.example.com -LockStore $Store -LockTimeoutSec 600 |
    Start-AcmeHttpChallenge -Store $Store -CheckUrl $CheckUrl |
    Complete-AcmeOrder |
    Export-AcmeCertificate -Path ./cert
# end example
