"""The export's second-core branches (usecases.parallel): the same results and the same errors as the
serial path, no process left behind, and serial where fork cannot or should not be used."""
from __future__ import annotations

import dataclasses
import io
import logging
import os
import sys
import warnings
import zipfile
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

import usecases.signals as signals
from engine.data.folder import ImportFailed
from engine.errors import DataError, NoDataError
from usecases import parallel
from usecases.context import open_market
from usecases.export import build_report
from workbooks.writer import render_bytes

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only (Windows runs serial)")


def _parts(report) -> dict[str, bytes]:
    fixed = dataclasses.replace(report, run_id="fixed", created_utc=datetime(2026, 1, 1, tzinfo=timezone.utc))
    with zipfile.ZipFile(io.BytesIO(render_bytes(fixed))) as z:
        return {n: z.read(n) for n in z.namelist() if not n.startswith("docProps/")}


def _fresh(market):
    for memo in (signals._results, signals._rankings, signals._validations):
        memo.clear()
    return market


_FORKED: list[int] = []


@pytest.fixture(autouse=True)
def _record_forks(monkeypatch):
    """The pids this test's branches forked (other tests' processes, e.g. a server, are not ours to count)."""
    _FORKED.clear()
    real = os.fork

    def fork():
        pid = real()
        if pid:
            _FORKED.append(pid)
        return pid
    monkeypatch.setattr(os, "fork", fork)


def _no_children() -> bool:
    """Every child this test forked has been reaped (no zombie, no orphan still running)."""
    for pid in _FORKED:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        return False
    return True


@pytest.fixture
def forking(monkeypatch):
    monkeypatch.delenv(parallel.ENV_SERIAL, raising=False)
    monkeypatch.setattr(parallel, "cpus", lambda: 2)
    monkeypatch.setattr(parallel, "_ALLOWED", True)
    assert parallel.parallel_available()


def _serial_and_parallel(market, as_of, monkeypatch):
    with monkeypatch.context() as m:
        m.setenv(parallel.ENV_SERIAL, "1")
        serial = build_report(_fresh(market), as_of, operator="t")
    monkeypatch.delenv(parallel.ENV_SERIAL, raising=False)
    monkeypatch.setattr(parallel, "cpus", lambda: 2)
    monkeypatch.setattr(parallel, "_ALLOWED", True)
    forks = []
    real = parallel.Branch.__init__

    def counting(self, fn, *a, **k):
        real(self, fn, *a, **k)
        forks.append(self.forked)
    monkeypatch.setattr(parallel.Branch, "__init__", counting)
    par = build_report(_fresh(market), as_of, operator="t")
    assert forks == [True], "the validation must have run in a forked child"
    assert _no_children()
    return serial, par


@pytest.mark.parametrize("as_of", ["2008-10-10", None])
def test_real_data_workbook_is_the_same_in_parallel_and_serial(real_market, as_of, monkeypatch):
    serial, par = _serial_and_parallel(real_market, as_of, monkeypatch)
    assert par.early_warning is not None and "vix (AUC" in par.early_warning["verdict"]
    a, b = _parts(serial), _parts(par)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name


def test_demo_workbook_is_the_same_in_parallel_and_serial(monkeypatch):
    calls = []
    real = signals.validate
    monkeypatch.setattr(signals, "validate", lambda *a, **k: calls.append(os.getpid()) or real(*a, **k))
    serial, par = _serial_and_parallel(open_market(demo=True), "2012-06-29", monkeypatch)
    assert _parts(serial) == _parts(par)
    assert calls == [os.getpid()], "serial: validated once here; parallel: only in the child"


def test_too_little_history_to_validate_leaves_the_sheet_out_in_both(real_market, monkeypatch):
    """The child's NoDataError comes back as the error the serial path raises, and is handled the same."""
    serial, par = _serial_and_parallel(real_market, "2001-06-29", monkeypatch)
    assert serial.early_warning is None and par.early_warning is None
    # (not rendered: the commentary cannot yet word a reading without a warning probability)
    assert par.reading == serial.reading
    for name in ("signals", "sectors", "scores", "weights", "transition", "alerts"):
        pd.testing.assert_frame_equal(getattr(par, name), getattr(serial, name), check_exact=True)


@pytest.mark.parametrize("as_of", ["1999-06-30", "1998-06-30"])
def test_an_export_that_cannot_be_computed_fails_with_the_serial_error(real_market, as_of, monkeypatch):
    """1999-06-30: no covariance yet (the allocator, while the validation runs in the child); 1998: no XLK
    (the stress stage, before any fork)."""
    with monkeypatch.context() as m:
        m.setenv(parallel.ENV_SERIAL, "1")
        with pytest.raises(Exception) as serial:
            build_report(_fresh(real_market), as_of)
    monkeypatch.delenv(parallel.ENV_SERIAL, raising=False)
    monkeypatch.setattr(parallel, "cpus", lambda: 2)
    monkeypatch.setattr(parallel, "_ALLOWED", True)
    with pytest.raises(type(serial.value)) as par:
        build_report(_fresh(real_market), as_of)
    assert str(par.value) == str(serial.value)
    assert _no_children()


def _fails(kind):
    if kind == "data":
        raise DataError("non-numeric value 'x' in column 'Close'", "prices/XLK.csv", 17)
    if kind == "nested":
        raise ImportFailed([DataError("duplicate date 2001-01-02", "a.csv", 3), DataError("empty file", "b.csv")])
    if kind == "nodata":
        raise NoDataError("no session has both a warning probability and a known label to validate")
    raise KeyError("a bug")


@pytest.mark.parametrize("kind", ["data", "nested", "nodata", "bug"])
def test_an_error_in_the_child_is_the_serial_error(kind, forking):
    with pytest.raises(Exception) as serial:
        _fails(kind)
    with parallel.start(_fails, kind) as branch:
        assert branch.forked
        with pytest.raises(type(serial.value)) as got:
            branch.result()
    assert str(got.value) == str(serial.value)
    assert vars(got.value).keys() == vars(serial.value).keys()
    if kind == "data":
        assert (got.value.problem, got.value.file, got.value.line) == ("non-numeric value 'x' in column 'Close'",
                                                                       "prices/XLK.csv", 17)
    if kind == "nested":
        assert [(e.problem, e.file, e.line) for e in got.value.errors] == \
            [(e.problem, e.file, e.line) for e in serial.value.errors]
    assert _no_children()


def _solve(n):
    rng = np.random.default_rng(3)
    a = rng.normal(size=(n, n)) + n * np.eye(n)
    return np.linalg.solve(a, rng.normal(size=n)), np.linalg.eigh(a @ a.T)[0]


def test_numpy_linear_algebra_works_in_the_child(forking):
    np.linalg.eigh(np.eye(50) * 2.0)             # BLAS/LAPACK used in the parent before the fork
    with parallel.start(_solve, 300) as branch:
        x, ev = branch.result()
    x0, ev0 = _solve(300)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(ev, ev0)


def _noisy():
    warnings.warn("the fit did not converge", UserWarning)
    logging.getLogger("engine.test_parallel").warning("logged in the child")
    return 7


def test_warnings_and_log_records_of_the_child_reach_the_parent(forking, caplog):
    with caplog.at_level(logging.INFO), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with parallel.start(_noisy) as branch:
            assert branch.result() == 7
    assert [str(w.message) for w in caught] == ["the fit did not converge"]
    assert ("engine.test_parallel", logging.WARNING, "logged in the child") in caplog.record_tuples


def _slow_child():
    if parallel._IN_CHILD:
        import time
        time.sleep(60)
    return "here"


def test_an_unread_child_is_killed_and_reaped(forking):
    with parallel.start(_slow_child) as branch:
        pid = branch.pid
        assert pid
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)
    with pytest.raises(ValueError):           # parent failed meanwhile: the child goes with the with block
        with parallel.start(_slow_child):
            raise ValueError("the parent's own branch failed")
    assert _no_children()


def _dies():
    if parallel._IN_CHILD:
        os._exit(3)                           # killed, out of memory...: no result at all
    return "computed here"


def test_a_child_that_dies_without_a_result_is_computed_in_the_parent(forking, caplog):
    with parallel.start(_dies) as branch:
        assert branch.forked
        assert branch.result() == "computed here"
    assert "ended without a result" in caplog.text
    assert _no_children()


def test_serial_switch_one_cpu_and_no_fork(monkeypatch):
    monkeypatch.setattr(parallel, "cpus", lambda: 2)
    monkeypatch.delenv(parallel.ENV_SERIAL, raising=False)
    assert not parallel.parallel_available(), "a process forks only inside parallel.allowed()"
    with parallel.allowed():
        assert parallel.parallel_available() == sys.platform.startswith("linux")
    assert not parallel.parallel_available()
    monkeypatch.setattr(parallel, "_ALLOWED", True)
    monkeypatch.setattr(sys, "platform", "darwin")           # fork after the system BLAS is not safe there
    assert not parallel.parallel_available()
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv(parallel.ENV_SERIAL, "1")
    assert not parallel.parallel_available()
    with parallel.start(os.getpid) as branch:
        assert not branch.forked and branch.result() == os.getpid()
    monkeypatch.setenv(parallel.ENV_SERIAL, "0")
    monkeypatch.setattr(parallel, "cpus", lambda: 1)
    assert not parallel.parallel_available()
    monkeypatch.setattr(parallel, "cpus", lambda: 2)
    assert parallel.parallel_available()
    monkeypatch.delattr(os, "fork")
    assert not parallel.parallel_available()
    assert parallel.cpus() >= 1


def test_a_child_does_not_fork_again(forking):
    with parallel.start(parallel.parallel_available) as branch:
        assert branch.result() is False


def _frames(m):
    return {k: getattr(m, k) for k in ("prices", "close", "volume", "stress", "reference", "stale", "returns")}


def test_the_data_folder_read_in_the_child_is_the_serial_market(shared_data, monkeypatch, forking):
    ran = []
    par = open_market(data=shared_data, meanwhile=lambda: ran.append(os.getpid()))
    assert ran == [os.getpid()] and _no_children()
    monkeypatch.setenv(parallel.ENV_SERIAL, "1")
    serial = open_market(data=shared_data)
    for name, frame in _frames(serial).items():
        pd.testing.assert_frame_equal(_frames(par)[name], frame, check_exact=True, check_freq=True)
    same_time = {k: dataclasses.replace(v, imported_at="") for k, v in par.meta.items()}
    assert same_time == {k: dataclasses.replace(v, imported_at="") for k, v in serial.meta.items()}
    assert par.fills == serial.fills and par.lags == serial.lags and par.label == serial.label


def test_a_bad_data_folder_fails_with_the_serial_error(tmp_path, monkeypatch, forking):
    (tmp_path / "XLK.csv").write_text("Date,Close\n2020-01-02,10\n2020-01-03,abc\n")
    (tmp_path / "XLU.csv").write_text("Date,Close\n2020-01-03,10\n2020-01-02,11\n")
    with pytest.raises(ImportFailed) as par:
        open_market(data=tmp_path, meanwhile=lambda: None)
    monkeypatch.setenv(parallel.ENV_SERIAL, "1")
    with pytest.raises(ImportFailed) as serial:
        open_market(data=tmp_path)
    assert str(par.value) == str(serial.value) and len(par.value.errors) == 2
    assert [(e.file, e.line) for e in par.value.errors] == [(e.file, e.line) for e in serial.value.errors]
    assert _no_children()


def _slow_double(x):
    import time
    time.sleep(0.005)
    return 2 * x, os.getpid()


def test_shared_map_takes_each_item_once_in_both_processes_in_order(forking):
    got = parallel.shared_map(_slow_double, range(60), meanwhile=lambda: None)
    assert [v for v, _ in got] == [2 * x for x in range(60)]
    pids = {p for _, p in got}
    assert os.getpid() in pids and len(pids) == 2, "both processes take items from the queue"
    assert _no_children()


def _fails_at(x):
    if x in (3, 7):
        raise (ValueError if x == 3 else KeyError)(f"item {x}")
    return x


def test_shared_map_raises_the_first_failing_item_as_the_serial_loop(forking, monkeypatch):
    with pytest.raises(ValueError, match="item 3"):
        parallel.shared_map(_fails_at, range(10))
    monkeypatch.setenv(parallel.ENV_SERIAL, "1")
    ran = []
    with pytest.raises(ValueError, match="item 3"):
        parallel.shared_map(_fails_at, range(10), meanwhile=lambda: ran.append(1))
    assert ran == [1]
    assert _no_children()


def _child_dies_midway(x):
    if parallel._IN_CHILD and x >= 2:
        os._exit(5)
    return x * x


def test_shared_map_computes_the_items_of_a_dead_child_here(forking):
    import time
    assert parallel.shared_map(_child_dies_midway, range(12), meanwhile=lambda: time.sleep(0.2)) == \
        [x * x for x in range(12)]
    assert _no_children()


def test_the_export_command_forks_and_leaves_forking_off(tmp_path, shared_data, monkeypatch):
    """``rotation export`` runs its branches in children (the data files and the side parts) inside
    parallel.allowed(), and the switch is off again afterwards (this test process stays serial)."""
    from typer.testing import CliRunner

    from addin.cli.main import app
    monkeypatch.setattr(parallel, "cpus", lambda: 2)
    monkeypatch.delenv(parallel.ENV_SERIAL, raising=False)
    monkeypatch.setenv("ROTATION_SIGNING_PASSPHRASE", "test-passphrase")
    monkeypatch.setenv("ROTATION_KEYS_DIR", str(tmp_path / "keys"))       # this test's own trial key and ledger
    monkeypatch.setenv("ROTATION_LEDGER", str(tmp_path / "ledger.sqlite"))
    forks = []
    real = parallel.Branch.__init__

    def counting(self, fn, *a, **k):
        real(self, fn, *a, **k)
        forks.append((fn.__name__, self.forked))
    monkeypatch.setattr(parallel.Branch, "__init__", counting)
    res = CliRunner().invoke(app, ["export", "--data", str(shared_data), "--as-of", "2008-10-10", "--out",
                                   str(tmp_path / "book.xlsx"), "--json"])
    assert res.exit_code == 0, res.output
    assert forks == [("_take", True), ("_side_parts", True)]
    assert not parallel._ALLOWED and _no_children()
