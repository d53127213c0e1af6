# Dot-sourced (`. (Join-Path $PSScriptRoot 'TestStreams.ps1')`) in a BeforeAll, not imported as a module:
# the preferences Get-AllStreams sets must reach the cmdlets in the caller's script block, and a module
# function's scope would not be theirs.

function Get-AllStreams([scriptblock] $Script) {
    # Everything a run writes, every stream, errors with their exception, details and target: to search for secrets.
    $VerbosePreference = 'Continue'; $DebugPreference = 'Continue'; $InformationPreference = 'Continue'; $WarningPreference = 'Continue'
    $ErrorActionPreference = 'Continue'
    $items = [System.Collections.Generic.List[object]]::new()
    try { & $Script *>&1 | ForEach-Object { $items.Add($_) } } catch { $items.Add($_) }
    ($items | ForEach-Object {
        if ($_ -is [System.Management.Automation.ErrorRecord]) { "$_ $($_.Exception) $($_.ErrorDetails) $($_.TargetObject) $($_.CategoryInfo)" }
        else { "$_ " + ($_ | Format-List * | Out-String) }
    }) -join "`n"
}

function Get-Failure([scriptblock] $Script) {
    # The first error a run gives, terminating or not.
    $err = $null
    try { $null = & $Script -ErrorVariable err -ErrorAction SilentlyContinue } catch { $err = @($_) }
    @($err)[0]
}
