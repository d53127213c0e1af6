<#
.SYNOPSIS
    The DNS providers dns-01 can publish through: the list, one provider's parameters. (examples/README.md)
#>
param()
$ErrorActionPreference = 'Stop'

# example: List
Get-AcmeDnsProvider
# end example

# example: Parameters
(Get-AcmeDnsProvider PowerDNS).Parameters
# end example
