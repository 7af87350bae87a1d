#!/usr/bin/env bash
# Assemble the offline Windows bundle on Linux: wheels of requirements-win.lock for win_amd64 /
# CPython 3.11, the product's own wheel, the add-in, the scripts. The frozen rotation\ folder must be
# built ON WINDOWS (PyInstaller does not cross-compile): copy dist/rotation from `installer/build` there.
# Usage: installer/windows/bundle.sh OUTDIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$here/../.."
out="${1:?usage: bundle.sh OUTDIR}"; mkdir -p "$out/wheels"
pip download --only-binary=:all: --platform win_amd64 --python-version 3.11 --implementation cp --no-deps \
    -r "$here/requirements-win.lock" -d "$out/wheels"
pip wheel --no-deps "$root" -w "$out/wheels"
cp "$here/requirements-win.lock" "$here/install.ps1" "$here/uninstall.ps1" "$out/"
(cd "$root" && python -m addin.cli.main addin build --out "$out/SectorRotation.xlam")
echo "bundle in $out: add python-3.11.x-amd64.exe (python.org) and the Windows-built rotation\\ folder"
