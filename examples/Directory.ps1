<#
.SYNOPSIS
    Reading a CA's directory: its resources and meta, and a private CA's whose root is trusted by
    parameter. (examples/README.md)
#>
param(
    [string] $Server = 'LetsEncryptStaging',
    [string] $PrivateCa = 'https://ca.internal.example/acme/directory',
    [string] $TrustedRootCertificate = './internal-root.pem'
)
$ErrorActionPreference = 'Stop'

# example: Meta
Get-AcmeDirectory $Server | Format-List *
# end example

# example: PrivateCa
Get-AcmeDirectory -Server $PrivateCa -TrustedRootCertificate $TrustedRootCertificate
# end example
