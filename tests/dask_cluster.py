"""A real Dask cluster on loopback for tests: one `dask scheduler` and N `dask worker` processes.

Random free ports on 127.0.0.1, bounded start-up time, always torn down (terminate, then kill).
Under CI=true a missing dask is a failure, not a skip.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_dask() -> str:
    """Path of the `dask` command; skip (or fail under CI=true) when dask distributed is missing."""
    exe = shutil.which("dask")
    try:
        import distributed  # noqa: F401
    except ImportError:
        exe = None
    if exe is None:
        msg = "dask distributed (the `dask` command) is not installed: pip install -e '.[dev]'"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return exe


@contextmanager
def loopback_cluster(n_workers: int = 2, timeout: float = 60.0):
    """Yield the scheduler address ``tcp://127.0.0.1:PORT`` once ``n_workers`` workers have joined."""
    exe = require_dask()
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    procs = [subprocess.Popen([exe, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard", "--no-show"], **quiet)]
    try:
        for _ in range(n_workers):
            procs.append(subprocess.Popen([exe, "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                           "--nworkers", "1", "--no-dashboard", "--memory-limit", "0"], **quiet))
        deadline = time.monotonic() + timeout
        client = None
        while client is None:
            try:
                client = Client(address, timeout="5s")
            except (OSError, TimeoutError):
                if time.monotonic() > deadline or procs[0].poll() is not None:
                    raise RuntimeError(f"the dask scheduler at {address} did not start within {timeout:.0f} s")
                time.sleep(0.3)
        try:
            client.wait_for_workers(n_workers, timeout=max(deadline - time.monotonic(), 5))
            assert len(client.scheduler_info()["workers"]) == n_workers
        finally:
            client.close()
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
