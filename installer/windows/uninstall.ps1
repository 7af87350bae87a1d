<#
.SYNOPSIS
    Removes Sector Rotation for the current user: the Excel add-in, xlwings' user configuration, the
    frozen command line and the Python of the worksheet functions.

.DESCRIPTION
    The audit record is kept: the signing key (and its passphrase in the Credential Manager), the
    ledger and the data store stay where they are, because deleting them would lose or orphan signed
    decisions. Remove them by hand only where your records policy allows (paths: `rotation keys show`,
    `rotation ledger show`, `rotation data status`). Close Excel first: an open add-in cannot be removed.
#>
[CmdletBinding()]
param([string] $InstallDir = (Join-Path $env:LOCALAPPDATA 'SectorRotation'))

$ErrorActionPreference = 'Stop'
if (Get-Process -Name EXCEL -ErrorAction SilentlyContinue) { throw 'uninstall: close Excel first' }
$targets = @(
    (Join-Path $env:APPDATA 'Microsoft\Excel\XLSTART\SectorRotation.xlam'),
    (Join-Path $env:USERPROFILE '.sectorrotation\sectorrotation.conf'),
    (Join-Path $InstallDir 'rotation'),
    (Join-Path $InstallDir 'python')
)
foreach ($t in $targets) {
    if (Test-Path $t) { Remove-Item $t -Recurse -Force; Write-Host "removed $t" }
}
$confDir = Join-Path $env:USERPROFILE '.sectorrotation'
if ((Test-Path $confDir) -and -not (Get-ChildItem $confDir)) { Remove-Item $confDir }
if ((Test-Path $InstallDir) -and -not (Get-ChildItem $InstallDir)) { Remove-Item $InstallDir }
Write-Host 'Kept: signing key, keyring passphrase, ledger and data store (the audit record).'
