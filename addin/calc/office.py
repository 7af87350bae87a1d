"""Run ``addin/calc/uno_session.py`` with LibreOffice's own Python: install the extension into a
profile, or hold a headless LibreOffice session (tests, bench)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from engine.errors import ArgumentError, RotationError

SCRIPT = Path(__file__).resolve().parent / "uno_session.py"
DEFAULT_PROFILE = Path("~/.config/libreoffice/4").expanduser()


def lo_python() -> str:
    """The interpreter pyuno belongs to (``ROTATION_LO_PYTHON``, else /usr/bin/python3)."""
    return os.environ.get("ROTATION_LO_PYTHON", "/usr/bin/python3")


def _env(extra: dict | None = None) -> dict:
    """The environment for LibreOffice's Python: without this interpreter's PYTHONPATH/PYTHONHOME
    (with PYTHONPATH pointing at the product, pyuno calls fail with std::bad_alloc; checked)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(extra or {})
    return env


def available() -> str | None:
    """None when soffice and LibreOffice's Python with uno are here, else what is missing."""
    if not shutil.which(os.environ.get("ROTATION_SOFFICE", "soffice")):
        return "soffice (apt-get install libreoffice-calc-nogui)"
    py = lo_python()
    if not Path(py).exists() or subprocess.run([py, "-c", "import sys; sys.path.append('/usr/lib/python3/dist-packages');"
                                                " import uno"], capture_output=True, env=_env()).returncode != 0:
        return f"python3-uno for {py} (apt-get install python3-uno)"
    return None


def install(oxt: Path, profile: Path | None = None, timeout: float = 180) -> dict:
    """Install ``oxt`` into the LibreOffice user profile ``profile`` (default: the user's own)."""
    missing = available()
    if missing:
        raise ArgumentError("calc install", f"needs {missing}")
    profile = Path(profile or DEFAULT_PROFILE).expanduser().resolve()
    profile.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([lo_python(), str(SCRIPT), "install", str(profile), str(oxt)], capture_output=True,
                       text=True, timeout=timeout, env=_env())
    if r.returncode != 0:
        tail = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise RotationError(f"LibreOffice did not install {Path(oxt).name} into {profile}: {tail} "
                            f"(close every LibreOffice using that profile first)")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["profile"] = str(profile)
    return out


class Session:
    """One headless soffice on ``profile``, driven by UNO code sent to LibreOffice's Python."""

    def __init__(self, profile: Path, env: dict | None = None):
        self.proc = subprocess.Popen([lo_python(), str(SCRIPT), "serve", str(profile)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=_env(env))
        first = self.proc.stdout.readline()
        if not first:
            self.close()
            raise RuntimeError("the LibreOffice session did not start")

    def run(self, code: str):
        """Run UNO ``code`` in the session; returns its variable ``result`` (raises on an error)."""
        self.proc.stdin.write(json.dumps({"code": code}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the LibreOffice session ended")
        reply = json.loads(line)
        if not reply["ok"]:
            raise RuntimeError(reply["error"] + "\n" + reply.get("trace", ""))
        return reply["result"]

    def alive(self) -> bool:
        """Whether soffice is still running."""
        return bool(self.run("result = proc.poll() is None"))

    def close(self) -> None:
        """End the session: soffice and its process group, then LibreOffice's Python."""
        try:
            if self.proc.poll() is None:
                self.proc.stdin.write(json.dumps({"quit": True}) + "\n")
                self.proc.stdin.flush()
                self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
