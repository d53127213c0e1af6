# The module's root script: the AcmeCertificate DSC resource (Get-Help about_Acme_Dsc). The cmdlets come
# from Acme.PowerShell.dll, a nested module loaded before this file. The class lives here, in the root
# module, because `using module Acme` and the DSC engines (the Windows PowerShell LCM, Invoke-DscResource,
# DSC v3's PowerShell adapter) look for class resources in the root module only.
#
# The class holds no ACME logic: each method calls the module's cmdlets. Every Import-Module Acme compiles
# it, so it stays small (bench/NOTES.md has the cost).

[DscResource()]
class AcmeCertificate {
    # The certificate's name in the state folder.
    [DscProperty(Key)] [string] $Name

    [DscProperty()] [string[]] $DnsName

    # A shortcut (LetsEncrypt, LetsEncryptStaging, ZeroSSL, GoogleTrust, GoogleTrustStaging) or an https directory URL.
    [DscProperty()] [string] $Server = 'LetsEncrypt'

    [DscProperty()] [string[]] $Contact

    [DscProperty()] [bool] $AcceptTermsOfService

    [DscProperty()] [ValidateSet('Present', 'Absent')] [string] $Ensure = 'Present'

    [DscProperty()] [ValidateSet('Http', 'WebRoot', 'Dns', 'TlsAlpn')] [string] $ChallengeType = 'Http'

    [DscProperty()] [int] $HttpPort = 80

    [DscProperty()] [int] $TlsAlpnPort = 443

    [DscProperty()] [string] $WebRoot

    # A script file defining Add-AcmeDnsRecord and Remove-AcmeDnsRecord (a DSC property cannot hold a script block).
    [DscProperty()] [string] $DnsScriptPath

    [DscProperty()] [string[]] $DnsServer

    [DscProperty()] [string] $StatePath

    # A folder for cert.pem, chain.pem, fullchain.pem and key.pem.
    [DscProperty()] [string] $Path

    [DscProperty()] [string] $PfxPath

    # The PFX password (the user name is not used).
    [DscProperty()] [pscredential] $PfxCredential

    # A Windows certificate store such as Cert:\LocalMachine\My, for a web server's binding.
    [DscProperty()] [string] $CertStoreLocation

    [DscProperty()] [ValidateSet('EC256', 'EC384', 'RSA2048', 'RSA3072', 'RSA4096')] [string] $KeyAlgorithm

    [DscProperty()] [string] $Profile

    [DscProperty()] [bool] $RevokeOnAbsent

    # A private CA's root (a PEM or DER file) that its directory's https certificate chains to.
    [DscProperty()] [string] $TrustedRootCertificate

    [DscProperty(NotConfigurable)] [string] $Thumbprint

    [DscProperty(NotConfigurable)] [Nullable[datetime]] $NotAfter

    [DscProperty(NotConfigurable)] [bool] $RenewalDue

    [AcmeCertificate] Get() {
        $this.AssertSettings()
        $current = $this.FindSaved()
        $state = [AcmeCertificate]::new()
        foreach ($property in $this.GetType().GetProperties()) {
            # The configuration as given; what the certificate itself says is filled in below.
            if ($property.Name -notin 'PfxCredential', 'DnsName', 'KeyAlgorithm' -and $null -ne $this.($property.Name)) {
                $state.($property.Name) = $this.($property.Name)
            }
        }

        $state.Ensure = if ($current) { 'Present' } else { 'Absent' }
        if ($current) {
            $state.DnsName = $current.Names
            if ($current.Key) { $state.KeyAlgorithm = $current.Key.Name }
            $state.Thumbprint = $current.Thumbprint
            $state.NotAfter = $current.NotAfter
            $state.RenewalDue = ($current | Test-AcmeRenewal -ErrorAction Stop).Due
        }

        return $state
    }

    [bool] Test() {
        $this.AssertSettings()
        $current = $this.FindSaved()
        if ($this.Ensure -eq 'Absent') {
            $left = @($this.OwnedFiles() | Where-Object { Test-Path -LiteralPath $_ })
            if ($current) { Write-Verbose "The certificate '$($this.Name)' is saved in the state folder." }
            if ($left) { Write-Verbose "These files exist: $($left -join ', ')." }
            return -not $current -and -not $left
        }

        if (-not $current) {
            Write-Verbose "No certificate '$($this.Name)' is saved for $($this.Server)."
            return $false
        }

        if (-not $current.HasNames([string[]] $this.DnsName)) {
            Write-Verbose "The certificate '$($this.Name)' is for $($current.Names -join ', '), not $($this.DnsName -join ', ')."
            return $false
        }

        if ($this.KeyAlgorithm -and $current.Key -and $current.Key.Name -ne $this.KeyAlgorithm) {
            Write-Verbose "The certificate '$($this.Name)' has an $($current.Key.Name) key, not $($this.KeyAlgorithm)."
            return $false
        }

        if (-not $this.Exported($current)) { return $false }
        $check = $current | Test-AcmeRenewal -ErrorAction Stop
        Write-Verbose "The certificate '$($this.Name)' ($($current.Thumbprint)): $check."
        return -not $check.Due
    }

    [void] Set() {
        $this.AssertSettings()
        $current = $this.FindSaved()
        if ($this.Ensure -eq 'Absent') {
            $this.Remove($current)
            return
        }

        $issue = $this.IssueParameters()
        if ($current -and $this.KeyAlgorithm -and $current.Key -and $current.Key.Name -ne $this.KeyAlgorithm) {
            # New-AcmeCertificate keeps a valid certificate that is not due; another key type needs a new one.
            $issue.Force = $true
        }

        $certificate = New-AcmeCertificate @issue
        if (-not $this.Exported($certificate)) {
            $export = @{ Confirm = $false; ErrorAction = 'Stop' }
            if ($this.Path) { $export.Path = $this.Path }
            if ($this.PfxPath) { $export.PfxPath = $this.PfxPath; $export.Password = $this.PfxCredential.Password }
            if ($this.CertStoreLocation) { $export.CertStoreLocation = $this.CertStoreLocation }
            $null = $certificate | Export-AcmeCertificate @export
        }
    }

    # Wrong settings stop Get, Test and Set before anything is read, sent or changed.
    hidden [void] AssertSettings() {
        if ($this.Ensure -eq 'Absent') { return }
        if (-not $this.DnsName) { [AcmeCertificate]::Fail('AcmeSettingRequired', 'DnsName is required when Ensure is Present.', $this.Name) }
        if ($this.PfxPath -and -not $this.PfxCredential) { [AcmeCertificate]::Fail('AcmePfxPasswordRequired', 'PfxPath needs PfxCredential (its password protects the key).', $this.PfxPath) }
        $port = switch ($this.ChallengeType) { 'Http' { $this.HttpPort } 'TlsAlpn' { $this.TlsAlpnPort } default { 1 } }
        if ($port -lt 1 -or $port -gt 65535) {
            [AcmeCertificate]::Fail('AcmeInvalidPort', "$($this.ChallengeType)Port must be between 1 and 65535, not $port.", $port)
        }

        if ($this.ChallengeType -eq 'WebRoot' -and -not $this.WebRoot) { [AcmeCertificate]::Fail('AcmeSettingRequired', 'ChallengeType WebRoot needs WebRoot.', $this.Name) }
        if ($this.ChallengeType -eq 'Dns') {
            if (-not $this.DnsScriptPath) { [AcmeCertificate]::Fail('AcmeSettingRequired', 'ChallengeType Dns needs DnsScriptPath.', $this.Name) }
            if (-not (Test-Path -LiteralPath $this.DnsScriptPath -PathType Leaf)) {
                [AcmeCertificate]::Fail('AcmeDnsScriptNotFound', "The DNS script '$($this.DnsScriptPath)' does not exist.", $this.DnsScriptPath)
            }
        }
    }

    hidden static [void] Fail([string] $errorId, [string] $message, [object] $target) {
        $category = if ($errorId -eq 'AcmeDnsScriptNotFound') { 'ObjectNotFound' } else { 'InvalidArgument' }
        throw [System.Management.Automation.ErrorRecord]::new([System.ArgumentException]::new($message), $errorId, $category, $target)
    }

    # The certificate saved under Name for Server, or $null.
    hidden [object] FindSaved() {
        $query = @{ Name = [WildcardPattern]::Escape($this.Name); Server = $this.Server; ErrorAction = 'Stop' }
        if ($this.StatePath) { $query.StatePath = $this.StatePath }
        try {
            return Get-AcmeCertificate @query
        } catch {
            if ($_.FullyQualifiedErrorId -like 'AcmeCertificateNotFound,*') { return $null }
            throw
        }
    }

    hidden [hashtable] IssueParameters() {
        $issue = @{ DnsName = $this.DnsName; Name = $this.Name; Server = $this.Server; Confirm = $false; ErrorAction = 'Stop' }
        if ($this.Contact) { $issue.Contact = $this.Contact }
        if ($this.AcceptTermsOfService) { $issue.AcceptTermsOfService = $true }
        if ($this.KeyAlgorithm) { $issue.KeyAlgorithm = $this.KeyAlgorithm }
        if ($this.Profile) { $issue.Profile = $this.Profile }
        if ($this.StatePath) { $issue.StatePath = $this.StatePath }
        if ($this.TrustedRootCertificate) { $issue.TrustedRootCertificate = $this.TrustedRootCertificate }
        switch ($this.ChallengeType) {
            'Http' { $issue.HttpPort = $this.HttpPort }
            'WebRoot' { $issue.WebRoot = $this.WebRoot }
            'Dns' { $issue.DnsScriptPath = $this.DnsScriptPath; if ($this.DnsServer) { $issue.DnsServer = $this.DnsServer } }
            'TlsAlpn' { $issue.TlsAlpnPort = $this.TlsAlpnPort }
        }

        return $issue
    }

    # True when every output asked for exists and holds this certificate (cert.pem and the PFX say which).
    hidden [bool] Exported($certificate) {
        foreach ($file in $this.OwnedFiles()) {
            if (-not (Test-Path -LiteralPath $file -PathType Leaf)) {
                Write-Verbose "$file is missing."
                return $false
            }
        }

        $holders = @(if ($this.Path) { Join-Path $this.Path 'cert.pem' }) + @(if ($this.PfxPath) { $this.PfxPath })
        foreach ($file in $holders) {
            if ($this.ReadThumbprint($file) -ne $certificate.Thumbprint) {
                Write-Verbose "$file does not hold the certificate $($certificate.Thumbprint)."
                return $false
            }
        }

        if ($this.CertStoreLocation -and -not (Test-Path -LiteralPath "$($this.StoreDrivePath())\$($certificate.Thumbprint)")) {
            Write-Verbose "$($this.CertStoreLocation) does not hold the certificate $($certificate.Thumbprint)."
            return $false
        }

        return $true
    }

    hidden [string] ReadThumbprint([string] $file) {
        $type = 'System.Security.Cryptography.X509Certificates.X509Certificate2'
        try {
            $full = Convert-Path -LiteralPath $file
            if ($file -ne $this.PfxPath) { return (New-Object $type -ArgumentList $full).Thumbprint }
            # Read without leaving the key in a key store (EphemeralKeySet is Windows-only).
            $flags = if ($global:PSVersionTable.PSEdition -eq 'Desktop' -or $global:IsWindows) { 'EphemeralKeySet' } else { 'DefaultKeySet' }
            return (New-Object $type -ArgumentList $full, $this.PfxCredential.Password, $flags).Thumbprint
        } catch {
            Write-Verbose "$file cannot be read: $($_.Exception.Message)"
            return $null
        }
    }

    hidden [string[]] OwnedFiles() {
        $files = @()
        if ($this.Path) { $files += 'cert.pem', 'chain.pem', 'fullchain.pem', 'key.pem' | ForEach-Object { Join-Path $this.Path $_ } }
        if ($this.PfxPath) { $files += $this.PfxPath }
        return $files
    }

    hidden [string] StoreDrivePath() {
        return $(if ($this.CertStoreLocation -like 'Cert:*') { $this.CertStoreLocation } else { 'Cert:\' + $this.CertStoreLocation.TrimStart('\') })
    }

    # Absent: revoked first when asked, then removed from the state folder, the files and the certificate store.
    hidden [void] Remove($current) {
        if ($current) {
            if ($this.RevokeOnAbsent -and -not $current.RevokedAt -and $current.NotAfter -gt [datetime]::Now) {
                $current | Revoke-AcmeCertificate -Confirm:$false -ErrorAction Stop
            }

            if ($this.CertStoreLocation -and (Test-Path -LiteralPath "$($this.StoreDrivePath())\$($current.Thumbprint)")) {
                Remove-Item -LiteralPath "$($this.StoreDrivePath())\$($current.Thumbprint)" -ErrorAction Stop
            }

            $current | Remove-AcmeCertificate -Confirm:$false -ErrorAction Stop
        }

        foreach ($file in $this.OwnedFiles()) {
            if (Test-Path -LiteralPath $file) { Remove-Item -LiteralPath $file -Force -ErrorAction Stop }
        }
    }
}
