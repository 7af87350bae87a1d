"""The dependency direction: engine/ never imports a face, Excel or workbook library."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import importlib, pkgutil, sys
BLOCKED = ("xlwings", "openpyxl", "typer", "rich", "workbooks", "usecases", "addin", "udfs", "lxml", "keyring")
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"engine must not import {name}")
        return None
sys.meta_path.insert(0, Block())
import engine
names = [m.name for m in pkgutil.walk_packages(engine.__path__, "engine.")]
for n in names:
    importlib.import_module(n)
print(len(names))
"""


def test_engine_imports_without_faces_or_excel_libraries():
    r = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert int(r.stdout.strip()) >= 8       # every engine module was imported
