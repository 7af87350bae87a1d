<#
.SYNOPSIS
    Installs Sector Rotation for the current Windows user: a real Python for the worksheet-function
    server, the product and its pinned dependencies (offline, from the bundle's wheels), the frozen
    command line for the ribbon, the Excel add-in, xlwings' user configuration and a signing key whose
    passphrase lives in the Windows Credential Manager (keyring).

.DESCRIPTION
    The bundle folder (-Bundle) holds what installer/build and installer/windows/bundle.sh produced:
      python-3.11.*-amd64.exe        the python.org installer (a frozen exe cannot serve UDFs)
      wheels\                        every wheel of requirements-win.lock plus sector_rotation-*.whl
      requirements-win.lock          the pinned set
      rotation\                      the PyInstaller one-folder build (rotation.exe)
      SectorRotation.xlam            from `rotation addin build`
    Nothing is downloaded. Re-running upgrades in place; the store, keys and ledger are never touched
    except to create a key when none exists.

.EXAMPLE
    powershell -ExecutionPolicy Bypass -File install.ps1 -Bundle D:\SectorRotation-bundle
    powershell -ExecutionPolicy Bypass -File install.ps1 -Bundle . -Certificate C:\certs\pm.p12
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)] [string] $Bundle,
    [string] $InstallDir = (Join-Path $env:LOCALAPPDATA 'SectorRotation'),
    [string] $Certificate = '',
    [switch] $SkipKey
)

$ErrorActionPreference = 'Stop'
$Bundle = (Resolve-Path $Bundle).Path
$Python = Join-Path $InstallDir 'python\python.exe'
$Frozen = Join-Path $InstallDir 'rotation\rotation.exe'
$XlStart = Join-Path $env:APPDATA 'Microsoft\Excel\XLSTART'
$ConfDir = Join-Path $env:USERPROFILE '.sectorrotation'

function Step([string] $text) { Write-Host "==> $text" }
function Need([string] $path) { if (-not (Test-Path $path)) { throw "install: $path is missing from the bundle" } }

Need (Join-Path $Bundle 'requirements-win.lock')
Need (Join-Path $Bundle 'wheels')
Need (Join-Path $Bundle 'SectorRotation.xlam')
Need (Join-Path $Bundle 'rotation\rotation.exe')

Step "Python for the worksheet functions in $InstallDir\python"
if (-not (Test-Path $Python)) {
    $setup = Get-ChildItem $Bundle -Filter 'python-3.11*-amd64.exe' | Select-Object -First 1
    if (-not $setup) { throw 'install: no python-3.11.*-amd64.exe in the bundle' }
    $args = @('/quiet', 'InstallAllUsers=0', "TargetDir=$InstallDir\python", 'PrependPath=0',
              'Include_launcher=0', 'Include_test=0', 'Shortcuts=0', 'AssociateFiles=0')
    $p = Start-Process $setup.FullName -ArgumentList $args -Wait -PassThru
    if ($p.ExitCode -ne 0) { throw "install: the Python installer failed with exit code $($p.ExitCode)" }
}

Step 'Sector Rotation and its pinned dependencies (offline)'
& $Python -m pip install --no-index --find-links (Join-Path $Bundle 'wheels') `
    -r (Join-Path $Bundle 'requirements-win.lock') --disable-pip-version-check --quiet
if ($LASTEXITCODE -ne 0) { throw 'install: pip could not install requirements-win.lock' }
$wheel = Get-ChildItem (Join-Path $Bundle 'wheels') -Filter 'sector_rotation-*.whl' | Select-Object -First 1
if (-not $wheel) { throw 'install: no sector_rotation-*.whl in the bundle wheels folder' }
& $Python -m pip install --no-index --no-deps --force-reinstall $wheel.FullName --disable-pip-version-check --quiet
if ($LASTEXITCODE -ne 0) { throw 'install: pip could not install the Sector Rotation wheel' }
& $Python -c "import udfs.functions, win32com.client; print('worksheet functions import')"
if ($LASTEXITCODE -ne 0) { throw 'install: udfs.functions does not import in the new Python' }

Step "Frozen command line for the ribbon in $InstallDir\rotation"
if (Test-Path (Join-Path $InstallDir 'rotation')) { Remove-Item (Join-Path $InstallDir 'rotation') -Recurse -Force }
Copy-Item (Join-Path $Bundle 'rotation') (Join-Path $InstallDir 'rotation') -Recurse

Step "Excel add-in in $XlStart"
New-Item -ItemType Directory -Force -Path $XlStart | Out-Null
Copy-Item (Join-Path $Bundle 'SectorRotation.xlam') (Join-Path $XlStart 'SectorRotation.xlam') -Force

Step "xlwings configuration in $ConfDir\sectorrotation.conf"
New-Item -ItemType Directory -Force -Path $ConfDir | Out-Null
@(
    '"INTERPRETER_WIN","' + $Python + '"',
    '"ROTATION FROZEN","' + $Frozen + '"'
) | Set-Content -Path (Join-Path $ConfDir 'sectorrotation.conf') -Encoding ASCII

if (-not $SkipKey) {
    Step 'Signing key (passphrase in the Windows Credential Manager)'
    & $Frozen keys show --json *> $null
    if ($LASTEXITCODE -ne 0) {
        if ($Certificate) {
            $pw = Read-Host -AsSecureString "Password of $Certificate"
            $env:ROTATION_P12_PASSWORD = [Runtime.InteropServices.Marshal]::PtrToStringAuto(
                [Runtime.InteropServices.Marshal]::SecureStringToBSTR($pw))
            try { & $Frozen keys import $Certificate --password-env ROTATION_P12_PASSWORD }
            finally { Remove-Item Env:\ROTATION_P12_PASSWORD -ErrorAction SilentlyContinue }
        } else {
            & $Frozen keys init --subject "$env:USERNAME (Sector Rotation trial signer)"
        }
        if ($LASTEXITCODE -ne 0) { throw 'install: the signing key could not be set up' }
    }
}

Step 'Done. Start Excel: the "Sector Rotation" tab and =BOND_STRESS() are available (see docs/WINDOWS.md).'
