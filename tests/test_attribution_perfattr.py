"""Cross-check of engine/backtest/attribution.py against perfattr (an independent implementation).

Where the definitions are the same they agree to 1e-12: perfattr's Brinson-Fachler three-effect method
(allocation (wp-wb)(rb_i-Rb), selection wb(rp_i-rb_i), interaction (wp-wb)(rp_i-rb_i)) linked with its Carino
coefficients equals our ``carino``; its Frongello linking (prefix portfolio growth x suffix benchmark growth)
is the closed form of what we call ``grap``. How the two differ, and so what is not compared:
- perfattr links with the portfolio return it derives from the contributions, sum_i wp_i rp_i (gross); ours links
  with the book's net return Rp (after trading costs) and reports the costs as their own linked effect. The
  comparison therefore passes the gross return as Rp (costs 0); with costs the link factors differ by design.
- For a sector a side does not hold (weight 0: the benchmark's cash, a sector the momentum book is out of),
  perfattr takes that side's return on it as 0 (its effective return is contribution / weight and the
  contribution is 0); ours uses the return supplied for the sector (the backtest supplies the sector's own
  return, cash at the T-bill), so a sector the book is out of has zero selection and interaction in ours and
  -wb_i rb_i / +wb_i rb_i in perfattr. The split between effects differs; a sector's total does not (it does
  not depend on the return of a side with weight 0). The tests compare every effect after giving ours
  perfattr's convention (r_i = 0 where w_i = 0), and the per-sector totals with the returns as supplied.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import perfattr  # dev extra: a missing install fails here rather than skipping
import pytest

from engine.backtest.attribution import EFFECTS, brinson_fachler

LINK = {"carino": "CARINO", "grap": "FRONGELLO"}


def _rows(w: pd.DataFrame, r: pd.DataFrame) -> pd.DataFrame:
    """perfattr's portable input: one row per (period, identifier) with from/thru dates, weight and return."""
    idx = w.index
    thru = np.repeat(idx.to_numpy(), w.shape[1])
    start = pd.DatetimeIndex([idx[0] - pd.Timedelta(days=1)]).append(idx[:-1]) + pd.Timedelta(days=1)
    frm = np.repeat(start.to_numpy(), w.shape[1])
    days = (pd.DatetimeIndex(thru) - pd.DatetimeIndex(frm)).days + 1
    return pd.DataFrame({"from_date": frm, "thru_date": thru, "quantity_of_days": days,
                         "identifier": np.tile(w.columns.astype(str), len(idx)),
                         "weight": w.to_numpy().ravel(), "return": r.to_numpy().ravel()})


def _perfattr_sectors(wp, rp, wb, rb, method) -> pd.DataFrame:
    res = perfattr.calculate_attribution(
        _rows(wp, rp), _rows(wb, rb), method=perfattr.AttributionMethod.BRINSON_FACHLER_THREE_EFFECT,
        effect_linking_method=getattr(perfattr.EffectLinkingMethod, LINK[method]))
    od = res.overall_detail.set_index("identifier")
    return pd.DataFrame({k: od[f"linked_{k}_effect"].astype(float) for k in EFFECTS})


def _check(wp, rp, wb, rb, method, tol):
    gross = (wp * rp).sum(axis=1)
    theirs = _perfattr_sectors(wp, rp, wb, rb, method)
    # perfattr's convention: no holding, no return
    ours = brinson_fachler(wp, rp.where(wp != 0, 0.0), gross, wb, rb.where(wb != 0, 0.0), method=method, period=None)
    diff = (ours.sectors[list(EFFECTS)] - theirs.reindex(ours.sectors.index)).abs().to_numpy().max()
    assert diff <= tol, f"{method}: largest difference in an effect {diff:.3g}"
    assert ours.costs == pytest.approx(0.0, abs=1e-15)
    assert ours.total == pytest.approx(ours.active_return, abs=1e-12)
    as_supplied = brinson_fachler(wp, rp, gross, wb, rb, method=method, period=None).sectors["total"]
    diff_total = (as_supplied - theirs.sum(axis=1).reindex(as_supplied.index)).abs().max()
    assert diff_total <= tol, f"{method}: largest difference in a sector total {diff_total:.3g}"


@pytest.mark.parametrize("method", ["carino", "grap"])
def test_small_case_equals_perfattr(method):
    rng = np.random.default_rng(9)
    idx = pd.date_range("2021-01-31", periods=6, freq="ME")
    cols = ["XLK", "XLU", "XLV", "cash"]
    mk = lambda a: pd.DataFrame(a, index=idx, columns=cols)  # noqa: E731
    wp, wb = mk(rng.dirichlet(np.ones(4), 6)), mk(np.c_[rng.dirichlet(np.ones(3), 6), np.zeros(6)])
    rp, rb = mk(rng.normal(0.01, 0.05, (6, 4))), mk(rng.normal(0.01, 0.05, (6, 4)))
    _check(wp, rp, wb, rb, method, 1e-12)


@pytest.mark.realdata
@pytest.mark.parametrize("method", ["carino", "grap"])
def test_real_backtest_equals_perfattr(real_market, method):
    """A real momentum backtest 2015-2019 on ../shared/data: its daily weights and sector returns (cash at the
    T-bill) against the benchmark run's, attributed by both implementations."""
    from usecases.backtest import run_backtest

    res = run_backtest(real_market, "momentum", start="2015-01-01", end="2019-12-31")
    main, bench = res.run, res.benchmark
    cols = list(dict.fromkeys([c for c in main.bod_weights.columns if c != "cash"]
                              + [c for c in bench.bod_weights.columns if c != "cash"])) + ["cash"]
    rp = main.asset_returns.assign(cash=main.cash_return).reindex(columns=cols)
    rb = bench.asset_returns.assign(cash=bench.cash_return).reindex(columns=cols)
    rp, rb = rp.fillna(rb).fillna(0.0), rb.fillna(rp).fillna(0.0)
    wp = main.bod_weights.reindex(columns=cols).fillna(0.0)
    wb = bench.bod_weights.reindex(columns=cols).reindex(wp.index).fillna(0.0)
    rp, rb = rp.reindex(wp.index), rb.reindex(wp.index)
    assert len(wp) > 1000
    _check(wp, rp, wb, rb, method, 1e-10)
