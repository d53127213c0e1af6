<#
.SYNOPSIS
    Quick start: an account, an order for two names, the http-01 answer from the built-in listener, the
    certificate, and its PEM files in ./cert. As written it uses Let's Encrypt's staging CA, so this
    machine must be reachable on port 80 under the names it orders. (examples/README.md)
#>
param([string] $Server = 'LetsEncryptStaging', [int] $HttpPort = 80)
$ErrorActionPreference = 'Stop'

# example: QuickStart
New-AcmeAccount -Server $Server -Contact admin@example.com -AcceptTermsOfService |
    New-AcmeOrder -DnsName example.com, www.example.com |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Complete-AcmeOrder |
    Export-AcmeCertificate -Path ./cert
# end example
