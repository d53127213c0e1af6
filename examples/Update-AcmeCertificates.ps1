<#
.SYNOPSIS
    Keeps the certificates of an Acme state folder renewed, unattended: a runbook for a scheduled task,
    cron, a systemd timer or Azure Automation.
.DESCRIPTION
    1. Each certificate named with -Certificate is issued when the state folder has none for those names
       (New-AcmeCertificate, which does nothing when the saved one is valid and not due).
    2. Every other certificate in the state folder is checked (Test-AcmeRenewal: the CA's ARI window, or
       a third of the lifetime left) and, when due, renewed with the pipeline
       New-AcmeOrder | Start-Acme*Challenge | Complete-AcmeOrder, which saves each step.
    3. With -ExportPath, every certificate issued or renewed is written to <ExportPath>/<name>/ as
       cert.pem, chain.pem, fullchain.pem and key.pem.

    It never prompts. It writes one object per certificate (Name, Action: Issued, Renewed, NotDue,
    Skipped (another host sharing the state holds its lease: AcmeCertificateLocked) or Failed, Reason,
    NotAfter, RenewAt, Thumbprint, Error) and exits with 1 when any certificate failed,
    so the scheduler reports it; the others are still renewed. A failed renewal backs off (1 h, 2 h, 4 h ...
    up to a day): until its next try the certificate is NotDue with Reason Backoff and its last error, and
    the CA is not asked. Run it twice a day (Let's Encrypt's advice): ARI
    windows can be short, and a 160-hour certificate is due after 80 hours. See about_Acme_Runbooks.
    Start-AcmeRenewalWorker -Once does the same in one command (and, without -Once, keeps running).
.EXAMPLE
    pwsh -NonInteractive -File ./Update-AcmeCertificates.ps1 -StatePath /var/lib/acme -HttpPort 80 -ExportPath /etc/ssl/acme
#>
[CmdletBinding()]
param(
    # The state folder; by default $env:ACME_STATE_PATH, else the per-user data folder.
    [string] $StatePath,

    # Certificates to have, each as its names separated by commas ('example.com,www.example.com').
    [string[]] $Certificate = @(),

    # The CA for certificates issued here (a shortcut name or directory URL); by default $env:ACME_SERVER, else Let's Encrypt.
    [string] $Server,

    # A private CA's root, the first time the state folder meets that CA (it is saved for the next runs).
    [string] $TrustedRootCertificate,

    # For the account created the first time: contacts, and agreement to the CA's terms.
    [string[]] $Contact = @(),
    [switch] $AcceptTermsOfService,

    # How challenges are answered: an http-01 listener on this port (the default), files in -WebRoot, or dns-01 record scripts.
    [int] $HttpPort = 80,
    [string] $WebRoot,
    [scriptblock] $AddRecord,
    [scriptblock] $RemoveRecord,

    # Where the PEM files of each certificate issued or renewed are written, one folder per certificate.
    [string] $ExportPath,

    # Renew every certificate now, due or not.
    [switch] $Force,

    [int] $TimeoutSec = 300
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
if (-not (Get-Module Acme)) { Import-Module Acme }

$state = @{}
if ($StatePath) { $state.StatePath = $StatePath }
$answer = if ($AddRecord) { @{ AddRecord = $AddRecord; RemoveRecord = $RemoveRecord } } elseif ($WebRoot) { @{ WebRoot = $WebRoot } } else { @{ Port = $HttpPort } }
$issue = if ($AddRecord) { @{ AddRecord = $AddRecord; RemoveRecord = $RemoveRecord } } elseif ($WebRoot) { @{ WebRoot = $WebRoot } } else { @{ HttpPort = $HttpPort } }
if ($Server) { $issue.Server = $Server }
if ($TrustedRootCertificate) { $issue.TrustedRootCertificate = $TrustedRootCertificate }
$failed = 0
$handled = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)

function Write-Result($Name, [string] $Action, $Check, $Issued, $Failure) {
    [pscustomobject]@{
        PSTypeName = 'Acme.RenewalResult'
        Name       = $Name
        Action     = $Action
        Reason     = if ($Check) { $Check.Reason } else { $null }
        NotAfter   = if ($Issued) { $Issued.NotAfter } elseif ($Check) { $Check.NotAfter } else { $null }
        RenewAt    = if ($Check) { $Check.RenewAt } else { $null }
        Thumbprint = if ($Issued) { $Issued.Thumbprint } elseif ($Check) { $Check.Certificate.Thumbprint } else { $null }
        Error      = if ($Failure) { "$($Failure.FullyQualifiedErrorId): $($Failure.Exception.Message)" }
                     elseif ($Check -and $Check.LastError) { "the last renewal failed; next try at $($Check.NextAttempt): $($Check.LastError)" } else { $null }
    }
}

function Export-Issued($Issued) {
    # One folder per certificate, <ExportPath>/<Name>/; the state folder records where it went (CertFile, KeyFile, ...).
    if ($ExportPath) { $null = $Issued | Export-AcmeCertificate -Path $ExportPath -PerCertificateFolder }
}

# What the state folder holds now, to tell issued and renewed certificates from those left alone.
$before = @{}
foreach ($saved in @(Get-AcmeCertificate @state -ErrorAction SilentlyContinue)) { $before[$saved.Name] = $saved.Thumbprint }

foreach ($names in $Certificate) {
    $dnsName = @($names -split ',' | ForEach-Object Trim | Where-Object { $_ })
    try {
        $issued = New-AcmeCertificate @state @issue -DnsName $dnsName -Contact $Contact -AcceptTermsOfService:$AcceptTermsOfService `
            -Force:$Force -TimeoutSec $TimeoutSec
        $null = $handled.Add($issued.Name)
        $action = if (-not $before.ContainsKey($issued.Name)) { 'Issued' } elseif ($before[$issued.Name] -ne $issued.Thumbprint) { 'Renewed' } else { 'NotDue' }
        if ($action -ne 'NotDue') { Export-Issued $issued }
        Write-Result $issued.Name $action $null $issued $null
    } catch {
        $failed++
        Write-Result ($dnsName -join ',') 'Failed' $null $null $_
    }
}

$unreadable = $null
$saved = @(Get-AcmeCertificate @state -ErrorAction SilentlyContinue -ErrorVariable unreadable | Where-Object { -not $handled.Contains($_.Name) })
foreach ($problem in @($unreadable)) {
    if ($problem) { $failed++; Write-Result $problem.TargetObject 'Failed' $null $null $problem }
}

foreach ($check in @($saved | Test-AcmeRenewal -Force:$Force)) {
    if (-not $check.Due) {
        Write-Result $check.Name 'NotDue' $check $null $null
        continue
    }

    try {
        $order = $check | New-AcmeOrder
        $ready = if ($AddRecord) { $order | Start-AcmeDnsChallenge @answer -TimeoutSec $TimeoutSec } else { $order | Start-AcmeHttpChallenge @answer -TimeoutSec $TimeoutSec }
        $renewed = $ready | Complete-AcmeOrder -TimeoutSec $TimeoutSec
        Export-Issued $renewed
        Write-Result $check.Name 'Renewed' $check $renewed $null
    } catch {
        if ($_.FullyQualifiedErrorId -like 'AcmeCertificateLocked,*') {
            # Another host of a fleet on the same state holds the certificate's lease and renews it now.
            Write-Result $check.Name 'Skipped' $check $null $_
            continue
        }
        $failed++
        Write-Result $check.Name 'Failed' $check $null $_
    }
}

if ($failed -gt 0) {
    Write-Warning "$failed certificate(s) could not be issued or renewed; see the Error of each result."
    exit 1
}
