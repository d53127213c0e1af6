<#
.SYNOPSIS
    The main job: issue a certificate from an ACME server with the five-cmdlet pipeline, write it to a
    folder, and show what was issued. build.ps1 Demo runs it against a local Pebble.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $Directory,
    [string] $TrustedRoot,
    [int] $HttpPort = 80,
    [string] $ManagementUrl,
    [string] $OutPath = './out',
    [string[]] $DnsName = @('demo.acme.test', 'www.demo.acme.test')
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$files = New-AcmeAccount -Server $Directory -TrustedRootCertificate $TrustedRoot -AcceptTermsOfService -Contact 'admin@demo.acme.test' |
    New-AcmeOrder -DnsName $DnsName |
    Start-AcmeHttpChallenge -Port $HttpPort |
    Complete-AcmeOrder |
    Export-AcmeCertificate -Path $OutPath

$pem = Get-Content -Raw (Join-Path $OutPath 'cert.pem')
$certificate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem($pem)
''
"Subject:   $($certificate.Subject)"
"Names:     $(($certificate.Extensions | Where-Object { $_.Oid.Value -eq '2.5.29.17' }).Format($false))"
"Issuer:    $($certificate.Issuer)"
"Valid:     $($certificate.NotBefore.ToString('u')) to $($certificate.NotAfter.ToString('u'))"
if ($ManagementUrl) {
    $root = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem(
        (Invoke-RestMethod -Uri "$ManagementUrl/roots/0" -SkipCertificateCheck))
    $chain = [System.Security.Cryptography.X509Certificates.X509Chain]::new()
    $chain.ChainPolicy.TrustMode = 'CustomRootTrust'
    $null = $chain.ChainPolicy.CustomTrustStore.Add($root)
    $chain.ChainPolicy.RevocationMode = 'NoCheck'
    $intermediates = [System.Security.Cryptography.X509Certificates.X509Certificate2Collection]::new()
    $intermediates.ImportFromPemFile((Join-Path $OutPath 'chain.pem'))
    $chain.ChainPolicy.ExtraStore.AddRange($intermediates)
    $ok = $chain.Build($certificate)
    "Chain:     $(if ($ok) { 'builds' } else { 'DOES NOT build' }) to Pebble's root $($root.Subject) ($ManagementUrl/roots/0)"
    if (-not $ok) { exit 1 }
}
'Files:'
$files | ForEach-Object { '  {0,-40} {1,6} bytes' -f $_.FullName, $_.Length }
