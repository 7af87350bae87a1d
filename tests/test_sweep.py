"""Sweeps: grid parsing, rows equal the vectorised engine, failures as rows, sensitivity, DSR/PBO,
and the same sweep on a real Dask cluster (scheduler + 2 workers on loopback) with identical numbers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.errors import ArgumentError
from engine.stats.sharpe import deflated_sharpe_from_returns
from usecases.sweep import configurations, parse_grid, run_sweep, sensitivity


def test_parse_grid_ranges_lists_and_errors():
    g = parse_grid(["lookback=118:134:2", "leverage=1.0,1.25,1.5", "vix_overlay=true,false", "top=3"])
    assert g["lookback"] == [118, 120, 122, 124, 126, 128, 130, 132, 134]
    assert g["leverage"] == [1.0, 1.25, 1.5] and g["vix_overlay"] == [True, False] and g["top"] == [3]
    assert parse_grid(["x=0.5:1.0:0.25"])["x"] == [0.5, 0.75, 1.0]
    assert len(configurations(g)) == 9 * 3 * 2
    for bad in ("lookback", "lookback=", "lookback=a:b", "lookback=10:1:1", "x=1:2:0"):
        with pytest.raises(ArgumentError, match="--grid"):
            parse_grid([bad])


def test_sensitivity_shows_a_lone_spike():
    grid = {"lookback": [1, 2, 3, 4, 5]}
    table = [{"lookback": k, "cagr": v, "error": None} for k, v in zip(grid["lookback"], [0.06, 0.06, 0.13, 0.06, 0.07])]
    s = sensitivity(grid, table, best=2)[0]
    assert s["values"] == [1, 2, 3, 4, 5] and s["metrics"]["cagr"]["values"] == [0.06, 0.06, 0.13, 0.06, 0.07]
    assert s["metrics"]["cagr"]["drop"] == pytest.approx(0.07)
    assert s["metrics"]["sharpe"]["drop"] is None


def _market():
    from engine.data.demo import demo_market

    return demo_market()


@pytest.fixture(scope="module")
def demo_sweep():
    m = _market()
    grid = parse_grid(["lookback=0,20,63,126,189", "leverage=1.0,1.5"])
    return m, grid, run_sweep(m, "momentum", grid, start="2012-01-01")


def test_rows_equal_the_vectorised_engine_and_failures_are_rows(demo_sweep):
    from usecases.sweep_tasks import momentum_group

    m, grid, res = demo_sweep
    assert res["configs_tried"] == 10 and len(res["rows"]) == 10
    failed = [r for r in res["rows"] if r["error"]]
    assert len(failed) == 2 and all(r["lookback"] == 0 and "lookback" in r["error"] for r in failed)
    good = [c for c in configurations(grid) if c["lookback"] > 0]
    direct = momentum_group(m, good, "2012-01-01", None)
    ok = [i for i, r in enumerate(res["rows"]) if not r["error"]]
    for j, i in enumerate(ok):
        # one group of 8 and one of 10 configurations: BLAS may order a 12-term dot product differently
        np.testing.assert_allclose(res["returns"][i].to_numpy(), direct.returns[j].to_numpy(), rtol=0, atol=1e-15)
    best = res["best"]["index"]
    assert res["rows"][best]["sharpe"] == max(res["rows"][i]["sharpe"] for i in ok)
    dsr = deflated_sharpe_from_returns(res["returns"].to_numpy(), res["returns"].columns.get_loc(best), n_trials=10)
    assert res["deflated_sharpe"]["dsr"] == pytest.approx(dsr["dsr"], abs=1e-15)
    assert res["deflated_sharpe"]["n_trials"] == 10 and 0 <= res["pbo"]["pbo"] <= 1


def test_unknown_strategy_parameter_is_a_failed_row_and_empty_grid_an_error():
    m = _market()
    res = run_sweep(m, "momentum", {"lookbak": [20, 40]})
    assert all("lookbak" in r["error"] for r in res["rows"]) and res["best"] is None
    with pytest.raises(ArgumentError, match="--grid"):
        run_sweep(m, "momentum", {})


def _comparable(res: dict) -> dict:
    return {"rows": res["rows"], "best": res["best"], "dsr": res["deflated_sharpe"], "pbo": res["pbo"],
            "sensitivity": res["sensitivity"], "returns": res["returns"]}


@pytest.mark.slow
def test_same_sweep_on_a_loopback_dask_cluster_is_identical(demo_sweep):
    from dask_cluster import loopback_cluster

    m, grid, local = demo_sweep
    with loopback_cluster(2) as address:
        remote = run_sweep(m, "momentum", grid, start="2012-01-01", scheduler=address)
    assert remote["executor"] == f"dask {address}"
    a, b = _comparable(local), _comparable(remote)
    pd.testing.assert_frame_equal(a.pop("returns"), b.pop("returns"), check_exact=True)
    assert a == b


def test_unreachable_scheduler_is_a_clear_error():
    from dask_cluster import _free_port, require_dask

    require_dask()
    with pytest.raises(ArgumentError, match="--scheduler"):
        run_sweep(_market(), "momentum", {"lookback": [20]}, scheduler=f"tcp://127.0.0.1:{_free_port()}",
                  connect_timeout=2)
