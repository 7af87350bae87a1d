"""One computation on the second core: a forked child process computes ``fn(*args)`` while the caller
goes on, and hands back its result (or its error) through a pipe.

Used by the export (:mod:`usecases.export`, :mod:`usecases.context`) where two branches of the
pipeline are independent: the child of ``os.fork`` starts with every module the parent imported and
every object it built (copy on write), so nothing is re-imported or re-read, and it returns one
pickled value. The result is the one the serial path computes: the same pure function on the same
inputs (tests/test_parallel.py compares the decision workbooks byte for byte).

Forking is opt-in: inside :func:`allowed` (``rotation export`` runs in it; a host
process such as LibreOffice running the Calc extension's ribbon, Excel's xlwings server or the UDF
server is never forked behind its back). Serial (``fn`` runs in this process, when :meth:`Branch.result`
asks for it) unless allowed, when ``ROTATION_SERIAL`` is set to anything but ``0`` or empty, where
``os.fork`` does not exist (Windows) or is not safe after numpy's system BLAS (macOS: only Linux forks),
when this process may use only one CPU (``os.sched_getaffinity``), and inside a forked child.

The child
- touches no shared resource: it writes nothing to stdout/stderr and leaves by ``os._exit`` (no
  atexit handlers, no flush of buffers inherited from the parent), so a thread that was alive in the
  parent at the fork (e.g. a progress spinner holding the console lock) cannot deadlock it;
- collects its warnings and log records and the parent re-issues them when it reads the result;
- sends an exception as its class, arguments and attributes (nested exceptions too, e.g. the
  DataErrors inside an ImportFailed), rebuilt in the parent without calling ``__init__``: the parent
  raises the same error, with the same one-sentence message, the serial path raises;
- is always reaped: :meth:`Branch.result` waits for it, and :meth:`Branch.close` (the ``with`` block's
  exit, whatever happens in the parent) kills and reaps it when its result was never read. No
  temporary file is used.
A child that dies without a result (killed, out of memory) is not an error: the parent computes
``fn`` itself and logs why.

BLAS: the export's CLI runs OpenBLAS on one thread (``OPENBLAS_NUM_THREADS=1``, see
addin/cli/export_cmd.py), so no BLAS thread pool exists at the fork; OpenBLAS also shuts its pool
down around ``fork`` (pthread_atfork) when one exists, and tests/test_parallel.py checks that the
child's numpy linear algebra works.
"""
from __future__ import annotations

import io
import logging
import os
import pickle
import sys
import time
import warnings
from collections import deque
from contextlib import contextmanager

ENV_SERIAL = "ROTATION_SERIAL"
log = logging.getLogger(__name__)
_IN_CHILD = False
_ALLOWED = False
# the last forked branches, for bench/export_phases.py: (function name, child CPU s, this process's CPU s
# between the fork and the join, wall s this process waited at the join)
HISTORY: deque = deque(maxlen=16)


def cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):            # not on Linux: what the OS reports
        return os.cpu_count() or 1


@contextmanager
def allowed():
    """Let this process fork for its parallel branches inside the ``with`` block (``rotation export`` runs in
    one; see the module doc), then restore the previous setting."""
    global _ALLOWED
    was, _ALLOWED = _ALLOWED, True
    try:
        yield
    finally:
        _ALLOWED = was


def parallel_available() -> bool:
    """Whether :func:`start` forks (see the module doc for when it does not)."""
    if not _ALLOWED or os.environ.get(ENV_SERIAL, "").strip() not in ("", "0"):
        return False
    return hasattr(os, "fork") and sys.platform.startswith("linux") and not _IN_CHILD and cpus() >= 2


def _rebuild_exception(cls, args, state):
    exc = cls.__new__(cls)
    exc.args = args
    if state:
        exc.__dict__.update(state)
    return exc


class _Pickler(pickle.Pickler):
    """Pickles exceptions (at any depth) as class + args + attributes, never through ``__init__``."""

    def reducer_override(self, obj):
        if isinstance(obj, BaseException):
            return _rebuild_exception, (type(obj), obj.args, dict(getattr(obj, "__dict__", {})))
        return NotImplemented


def _dumps(value) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buf.getvalue()


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.NOTSET)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record):
        self.records.append((record.name, record.levelno, record.getMessage()))


def _child(fn, args, kwargs, w: int) -> None:
    """The child's whole life: compute, send (kind, value, warnings, log records), leave."""
    global _IN_CHILD
    _IN_CHILD = True
    try:
        root = logging.getLogger()
        collect = _Collect()
        for h in list(root.handlers):            # the parent's handlers (console) are not the child's to use
            root.removeHandler(h)
        root.addHandler(collect)
        with warnings.catch_warnings(record=True) as caught:
            try:
                out = ("ok", fn(*args, **kwargs))
            except BaseException as exc:          # noqa: BLE001 - every outcome goes back to the parent
                out = ("err", exc)
        notes = [(str(c.message), c.category, c.filename, c.lineno) for c in caught]
        try:
            data = _dumps((*out, notes, collect.records))
        except Exception as exc:                  # noqa: BLE001 - an unpicklable result: say so
            data = _dumps(("err", RuntimeError(f"the parallel branch's result cannot be sent: {exc}"), [], []))
        view = memoryview(data)
        while view:
            view = view[os.write(w, view):]
    finally:
        os._exit(0)


class Branch:
    """``fn(*args, **kwargs)``, computed in a forked child when :func:`parallel_available`, else here
    when :meth:`result` is called. Use as a context manager so the child is reaped on every path."""

    def __init__(self, fn, *args, **kwargs):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.pid: int | None = None
        self._fd: int | None = None
        self.forked = False
        if parallel_available():
            self._t0 = time.process_time()
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:                          # the child
                os.close(r)
                _child(fn, args, kwargs, w)
            os.close(w)
            self.pid, self._fd, self.forked = pid, r, True

    def result(self):
        """The value of ``fn`` (raises its exception)."""
        if self._fd is None:
            if self.forked:
                raise RuntimeError("the parallel branch's result was already read")
            return self.fn(*self.args, **self.kwargs)
        chunks = []
        overlap, wait0 = time.process_time() - self._t0, time.perf_counter()
        try:
            while True:
                chunk = os.read(self._fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            child_cpu = self._reap(kill=False)
        HISTORY.append((getattr(self.fn, "__qualname__", repr(self.fn)), child_cpu, overlap,
                        time.perf_counter() - wait0))
        if not chunks:                            # the child died without a result: compute it here
            log.warning("the parallel branch's process ended without a result; computing it in this process")
            return self.fn(*self.args, **self.kwargs)
        kind, value, notes, records = pickle.loads(b"".join(chunks))
        for message, category, filename, lineno in notes:
            warnings.warn_explicit(message, category, filename, lineno)
        for name, level, message in records:
            logging.getLogger(name).log(level, "%s", message)
        if kind == "err":
            raise value
        return value

    def _reap(self, kill: bool) -> float:
        """Close the pipe, wait for the child (killed first with ``kill``); its CPU seconds."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        cpu = 0.0
        if self.pid is not None:
            if kill:
                try:
                    os.kill(self.pid, 9)
                except ProcessLookupError:
                    pass
            _, _, usage = os.wait4(self.pid, 0)
            cpu = usage.ru_utime + usage.ru_stime
            self.pid = None
        return cpu

    def close(self) -> None:
        """Kill and reap the child if its result was never read (nothing to do otherwise)."""
        self._reap(kill=True)

    def __enter__(self) -> "Branch":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def start(fn, *args, **kwargs) -> Branch:
    """``Branch(fn, *args, **kwargs)``."""
    return Branch(fn, *args, **kwargs)


_TOKEN = 4          # bytes per queue token (an item number): read whole from a pipe, never split
_MAX_TOKENS = 8192  # 32 KB of tokens, below a pipe's capacity (written before the fork, never blocking)


def shared_map(fn, items, meanwhile=None) -> list:
    """``[fn(x) for x in items]``, computed by a forked child and this process together: both take the next
    item from one queue, this process once ``meanwhile()`` (when given) has returned, so the child starts
    at once and this process joins it when free. The values come back in item order. ``fn``'s exception
    for an item is raised as the serial loop raises it: the first failing item's, once every item before
    it has its value. Serial: ``meanwhile()``, then the plain loop.

    The queue is a pipe holding one fixed-size token per item (written before the fork): a read of one
    token is atomic, so each item is taken by exactly one process, with no lock and no shared memory."""
    items = list(items)
    if not parallel_available() or len(items) < 2 or len(items) > _MAX_TOKENS:
        if meanwhile is not None:
            meanwhile()
        return [fn(x) for x in items]
    q_r, q_w = os.pipe()
    os.write(q_w, b"".join(i.to_bytes(_TOKEN, "little") for i in range(len(items))))
    os.close(q_w)                                  # the queue ends (EOF) when its tokens are taken
    try:
        with start(_take, fn, items, q_r) as child:
            if meanwhile is not None:
                meanwhile()
            mine = _take(fn, items, q_r)
            theirs = child.result()
    finally:
        os.close(q_r)
    done = {**theirs, **mine}
    out = []
    for i in range(len(items)):
        if i not in done:                          # taken by a child that died without a result
            done.update(_take_one(fn, items, i))
        ok, value = done[i]
        if not ok:
            raise value
        out.append(value)
    return out


def _take(fn, items, queue: int) -> dict:
    """{item number: (True, value) or (False, exception)} of the items this process takes from ``queue``."""
    out = {}
    while True:
        token = os.read(queue, _TOKEN)
        if not token:
            return out
        out.update(_take_one(fn, items, int.from_bytes(token, "little")))


def _take_one(fn, items, i: int) -> dict:
    try:
        return {i: (True, fn(items[i]))}
    except Exception as exc:                       # noqa: BLE001 - raised in item order by shared_map
        return {i: (False, exc)}

