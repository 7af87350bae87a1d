"""All fills of a backtest at once, for precomputed targets under a linear cost model.

With a cost that is linear in the traded dollars (commission in bps or per share, half-spread; no
impact) the book is homogeneous of degree one in its value. Let v_k be the post-cost NAV after fill
k (v_{-1} = the opening capital), w_k the target weights and f_k the fill row. Between fills the
holdings drift with prices and cash with its rate, so before fill k

    h_k = v_{k-1} u_k,   u_k = w_{k-1} * p_{f_k} / p_{f_{k-1}}        (holdings, dollars)
    V_k = v_{k-1} rho_k, rho_k = sum(u_k) + (1 - sum w_{k-1}) G_k      (G_k: growth of the cash balance)

and the fill's fixed point V' = V - c . |w V' - h| (:meth:`engine.backtest.book.Book.fill`) divided by
v_{k-1} is x_k = rho_k - c_k . |w_k x_k - u_k|: the same iteration, independent across fills, run on
all of them at once (one K x n array operation per step). Then v_k = capital * prod(x_1..x_k).
The result is written into the :class:`Book` (anchors, costs, traded, pre-trade NAV) so the rest of
the simulator reads it as if the fills had been made one by one; tests/test_backtest_fast.py checks
the two agree to 1e-10.
"""
from __future__ import annotations

import numpy as np

from engine.errors import ArgumentError


def applies(book, config, policy) -> bool:
    """True when the vectorised path gives the loop's result: linear costs, no daily reset, and trades
    charged at the arrays' own volatility and ADV (no ``cost_inputs``)."""
    return (config.cost_model.impact_eta == 0 and not config.vix_daily_reset
            and getattr(policy, "cost_inputs", None) is None)


def fill_all(book, dec: np.ndarray, lag: int, W: np.ndarray):
    """Make every fill (decision rows ``dec``, fills at ``dec + lag``, gross-scaled targets ``W``, K x n)
    in ``book``. Returns (fill rows, pre-trade NAV, holdings before, holdings after) for the order list."""
    F = dec + lag
    P = book.px[F]
    if (W[P <= 0] > 1e-12).any():
        raise ArgumentError("target", "a positive weight on a ticker that has no price at the fill session")
    K, n = W.shape
    prevF = np.r_[book.start, F[:-1]]
    prevW = np.vstack([np.zeros((1, n)), W[:-1]])
    prevP = book.px[prevF]
    with np.errstate(invalid="ignore", divide="ignore"):
        U = np.where(prevP > 0, prevW * P / np.where(prevP > 0, prevP, 1.0), 0.0)
    cash_frac = np.r_[1.0, 1.0 - W[:-1].sum(axis=1)]
    neg = cash_frac < 0
    G = np.where(neg, book._g[True][F] / book._g[True][prevF], book._g[False][F] / book._g[False][prevF])
    rho = U.sum(axis=1) + cash_frac * G
    raw = book.a.raw[F]
    lin = book.model.linear_rate(np.where(np.isfinite(raw), raw, P))
    x = rho.copy()
    todo = np.ones(K, bool)
    for _ in range(100):
        new = rho[todo] - (lin[todo] * np.abs(W[todo] * x[todo, None] - U[todo])).sum(axis=1)
        done = np.abs(new - x[todo]) <= 1e-13 * np.abs(rho[todo])
        x[todo] = new
        todo[np.flatnonzero(todo)[done]] = False
        if not todo.any():
            break
    v = book._cash * np.cumprod(x)
    vprev = np.r_[book._cash, v[:-1]]
    V, H, X = rho * vprev, U * vprev[:, None], W * v[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(P > 0, X / np.where(P > 0, P, 1.0), 0.0)
    cash = v - X.sum(axis=1)
    book.cost[F] += V - v
    book.traded[F] += np.abs(X - H).sum(axis=1)
    for f, vk in zip(F.tolist(), V.tolist()):
        book.pretrade_at.setdefault(f, vk)
    book._anchors = book._anchors[:0 if F[0] == book.start else 1] + list(zip(F.tolist(), shares, cash.tolist()))
    book._sh, book._cash, book.i, book._rec = shares[-1], float(cash[-1]), int(F[-1]), None
    return F, V, H, shares * P
