"""The selection record: what the nested walk-forward selection chose on the event target, so that every
reading and ``rotation signals validate`` use the research procedure without re-running the research.

A record (JSON, ``FORMAT``) holds the refit schedule with the candidate chosen at each refit and its
past-only score, the pool, the procedure's out-of-sample probability per session, the configuration's
digest and a SHA-256 *chain* over the input rows (``chain[i] = sha256(chain[i-1] || row i)``, the row being
the session date and every price and stress value of that session, NaN canonical). A reading at t uses the
record only when the market's chain at t equals the record's: rows after t are never looked at, so
truncating or altering data after t leaves the reading at t unchanged, while a change at or before t is
detected. Past the record's last session the candidate chosen at the last refit is refitted walk-forward
on data up to t (one candidate: cheap) and the reading says how far past the last research refit it is.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np
import pandas as pd

from engine.errors import DataError

FORMAT = "rotation-selection/1"
TARGET = "event"
KEY_ROWS = 21          # a record is filed under the chain digest of the data's first month and the config
HASHED = ("index", "regime", "events", "research")     # with [warning] horizon_min/max (the event label)


def config_digest(cfg) -> str:
    """SHA-256 of the settings the procedure's probabilities depend on: the index, regimes and events (the
    label and the stress candidates), the label's horizons and ``[research]`` except its bootstrap draws."""
    d = {k: dataclasses.asdict(getattr(cfg, k)) for k in HASHED}
    d["research"].pop("reps", None)
    d["warning"] = {"horizon_min": cfg.warning.horizon_min, "horizon_max": cfg.warning.horizon_max}
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()


def _rows(market, upto: int | None = None) -> tuple[np.ndarray, list[str]]:
    idx = market.prices.index[:upto]
    p = market.prices.iloc[:upto].reindex(columns=sorted(market.prices.columns))
    s = market.stress.reindex(index=idx, columns=sorted(market.stress.columns))
    cols = [f"p:{c}" for c in p.columns] + [f"s:{c}" for c in s.columns]
    a = np.column_stack([idx.as_unit("ns").asi8.astype(float), p.to_numpy(float), s.to_numpy(float)])
    a[np.isnan(a)] = np.nan                      # one NaN bit pattern
    return np.ascontiguousarray(a), cols


def row_chain(market, upto: int | None = None) -> list[str]:
    """The hex SHA-256 chain over the market's sessions (module doc), for rows ``0..upto-1`` (None: all)."""
    a, cols = _rows(market, upto)
    h = hashlib.sha256(json.dumps(cols).encode()).digest()
    out = []
    for row in a:
        h = hashlib.sha256(h + row.tobytes()).digest()
        out.append(h.hex())
    return out


def record_key(market, cfg) -> str | None:
    """The file name stem a data folder's record is kept under (None: fewer than ``KEY_ROWS`` sessions)."""
    if len(market.prices.index) < KEY_ROWS:
        return None
    head = row_chain(market, KEY_ROWS)[-1]
    return hashlib.sha256((head + config_digest(cfg)).encode()).hexdigest()[:20]


def make_record(market, cfg, target: dict, procedure: pd.Series, created: str) -> dict:
    """The record of one research target's result ``target`` (``research_target``'s dict, before its series
    are dropped) with the procedure's series ``procedure``; ``created`` an ISO timestamp."""
    idx = market.prices.index
    proc = procedure.reindex(idx).to_numpy(float)
    m = target["metrics"]["procedure"]
    return {"format": FORMAT, "created": created, "target": TARGET, "horizon": target["horizon"],
            "label": market.label, "first": idx[0].date().isoformat(), "last": idx[-1].date().isoformat(),
            "sessions": [d.date().isoformat() for d in idx],
            "procedure": [None if v != v else float(v) for v in proc],
            "chain": row_chain(market), "config_sha256": config_digest(cfg),
            "pool": target["pool"], "candidates_tried": target["candidates_tried"],
            "default": target["default"], "step": target["step"], "min_oos": target["min_oos"],
            "schedule": target["schedule"], "metrics": m, "difference_vs": target["difference_vs"],
            "beats": target["beats"]}


def check_record(rec: dict, where: str) -> dict:
    """``rec`` if it is a well-formed record, else DataError naming ``where``."""
    keys = ("format", "sessions", "procedure", "chain", "config_sha256", "schedule", "pool", "step", "horizon")
    if not isinstance(rec, dict) or rec.get("format") != FORMAT or any(k not in rec for k in keys):
        raise DataError(f"not a selection record (expected format {FORMAT!r} with keys {', '.join(keys)})", file=where)
    if not (len(rec["sessions"]) == len(rec["procedure"]) == len(rec["chain"])):
        raise DataError("selection record's sessions, procedure and chain differ in length", file=where)
    return rec


def matched_rows(rec: dict, market) -> int:
    """How many leading sessions of ``market`` have the record's chain (and dates): the record's values
    hold for positions below this."""
    n = min(len(rec["chain"]), len(market.prices.index))
    mine = row_chain(market, n)
    bad = [i for i in range(n) if mine[i] != rec["chain"][i]]
    return bad[0] if bad else n
