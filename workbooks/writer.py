"""Fill a decision-workbook template with a :class:`~workbooks.report.DecisionReport`.

Contract with the template (see :mod:`workbooks.template`): the writer writes only

- workbook-level named cells (``StressIndex``, ``TrackingError``, ``Audit*`` ...),
- the sheet-scoped names ``DataLabel`` and ``RunInfo`` on every sheet,
- the Excel tables (by name): header and data rows, taking each column's header and body style from
  the template's header and first data row (matched by header text); the table, the conditional
  formats on its first data row and chart series over its rows are stretched to the data,
- the commentary paragraphs from the cell named ``CommentaryStart`` down.

Everything else in the template (fonts, fills, widths, notes, extra cells, chart styling) is left as
it is. Sheets, tables and dashboard blocks whose data is ``None`` are removed, with the charts that
drew on them. The Audit sheet is filled last and sealed with the content digest of every other sheet.
"""
from __future__ import annotations

import json
import logging
import math
from copy import copy
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.table import TableColumn

from engine.errors import ArgumentError, DataError
from engine.universe import DEFENSIVE, SECTORS
from workbooks import charts, template as tpl
from workbooks.report import REGIMES, SIGNAL_COLUMNS, DecisionReport

log = logging.getLogger(__name__)

WEEKLY_ABOVE = 600          # more daily rows than this: the stress chart draws a weekly sample


# ----------------------------------------------------------------------------- values

def _py(v: Any, kind: str) -> Any:
    """A cell value openpyxl writes and reads back unchanged (NaN -> empty)."""
    if v is None:
        return None
    if kind == "date" or isinstance(v, (pd.Timestamp, datetime, date, np.datetime64)):
        if isinstance(v, float) and math.isnan(v):
            return None
        ts = pd.Timestamp(v)
        if ts is pd.NaT or pd.isna(ts):
            return None
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return ts.to_pydatetime()
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v) + 0.0  # -0.0 -> 0.0 (openpyxl writes "-0" and reads back 0)
        return f if math.isfinite(f) else None
    if isinstance(v, (list, tuple, set)):
        return ", ".join(str(x) for x in v)
    if isinstance(v, dict):
        return json.dumps(v, sort_keys=True, default=str)
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return ILLEGAL_CHARACTERS_RE.sub("", str(v))


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_integer_dtype(s):
        return "int"
    if pd.api.types.is_float_dtype(s):
        return "float"
    return "text"


def _set(cell, value: Any) -> None:
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # data, never a formula


# ----------------------------------------------------------------------------- frames for tables

def _with_key_column(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """Move the index into a first column named ``key`` unless it is a plain RangeIndex."""
    out = df.copy()
    if not isinstance(out.index, pd.RangeIndex) or out.index.name is not None:
        out.index = out.index.rename(out.index.name if out.index.name is not None else key)
        out = out.reset_index()
    out.columns = [str(c) for c in out.columns]
    return out


def _signals_frame(sig: pd.DataFrame) -> pd.DataFrame:
    cols = list(SIGNAL_COLUMNS) + [c for c in sig.columns if c not in SIGNAL_COLUMNS]
    out = sig[cols].copy()
    out.index = pd.DatetimeIndex(out.index, name="date")
    return out.reset_index()


def chart_sample(sig: pd.DataFrame) -> pd.DataFrame:
    """The stress chart's source: the last session of each week (daily when short), with one band
    column per regime holding 1 in that regime and blank otherwise."""
    s = sig[["index", "regime"]].copy()
    s.index = pd.DatetimeIndex(s.index, name="date")
    if len(s) > WEEKLY_ABOVE:
        s = s.groupby(s.index.to_period("W-FRI")).tail(1)
    out = pd.DataFrame({"date": s.index, "index": s["index"].to_numpy(dtype=float)})
    for r in REGIMES:
        out[r] = np.where(s["regime"].to_numpy() == r, 1.0, np.nan)
    return out


def _weights_frame(w: pd.DataFrame) -> pd.DataFrame:
    out = _with_key_column(w, "ticker")
    out.insert(1, "sector", [SECTORS.get(str(t), "") for t in out["ticker"]])
    out["change"] = out["target"] - out["current"]
    out["active"] = out["target"] - out["benchmark"]
    first = ["ticker", "sector", "current", "target", "benchmark", "change", "active"]
    return out[first + [c for c in out.columns if c not in first]]


def _metrics_frame(m: Any) -> pd.DataFrame:
    if isinstance(m, pd.DataFrame):
        return _with_key_column(m, "model")
    if isinstance(m, dict):
        return _with_key_column(pd.DataFrame.from_dict(m, orient="index").rename_axis("model"), "model")
    raise ArgumentError("early_warning", "'metrics' must be a dict model -> metrics or a DataFrame")


def flatten_config(cfg: dict, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested configuration as sorted (dotted.key, value) pairs; lists and other values as JSON text."""
    rows: list[tuple[str, Any]] = []
    for k in sorted(cfg, key=str):
        v = cfg[k]
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            rows.extend(flatten_config(v, key + "."))
        elif isinstance(v, (bool, int, float, str)) or v is None:
            rows.append((key, v))
        else:
            rows.append((key, json.dumps(v, default=str)))
    return rows


def table_frames(report: DecisionReport) -> dict[str, pd.DataFrame | None]:
    """The frame written into each template table (None: table left out)."""
    sig = report.signals
    ew = report.early_warning or {}
    w = report.weights
    frames: dict[str, pd.DataFrame | None] = {
        "Signals": _signals_frame(sig) if sig is not None else None,
        "StressChartData": chart_sample(sig) if sig is not None else None,
        "EarlyWarningMetrics": _metrics_frame(ew["metrics"]) if ew.get("metrics") is not None else None,
        "EarlyWarningEvents": _with_key_column(ew["events"], "event") if ew.get("events") is not None else None,
        "SectorScores": _with_key_column(report.scores, "sector") if report.scores is not None else None,
        "SectorRegression": _with_key_column(report.sectors, "sector") if report.sectors is not None else None,
        "Weights": _weights_frame(w) if w is not None else None,
        "DashboardWeights": _weights_frame(w)[["ticker", "sector", "current", "target", "change"]]
        if w is not None else None,
        "Transition": _with_key_column(report.transition, "step") if report.transition is not None else None,
        "Trades": _with_key_column(report.trades, "ticker") if report.trades is not None else None,
        "Backtest": _with_key_column(report.backtest, "date") if report.backtest is not None else None,
        "Attribution": _with_key_column(report.attribution, "sector") if report.attribution is not None else None,
        "Scorecard": _with_key_column(report.scorecard, "metric") if report.scorecard is not None else None,
        "Parameters": pd.DataFrame(flatten_config(report.config), columns=["parameter", "value"])
        if report.config else None,
        "AuditInputs": pd.DataFrame(list(report.inputs), columns=["role", "file", "sha256"]),
    }
    return frames


# ----------------------------------------------------------------------------- workbook surgery

def _find_table(wb: Workbook, name: str):
    for ws in wb.worksheets:
        if name in ws.tables:
            return ws, ws.tables[name]
    return None, None


def named_cell(wb: Workbook, name: str):
    """The cell a workbook-level defined name points at, or None (missing name or sheet)."""
    dn = wb.defined_names.get(name)
    if dn is None:
        return None
    for title, coord in dn.destinations:
        if title in wb.sheetnames:
            return wb[title][coord.replace("$", "").split(":")[0]]
    return None


def _local_cell(ws, name: str):
    dn = ws.defined_names.get(name)
    if dn is None:
        return None
    for _title, coord in dn.destinations:
        return ws[coord.replace("$", "").split(":")[0]]
    return None


def _fill_table(ws, tbl, frame: pd.DataFrame, capacity: int | None) -> charts.Block:
    c1, hdr, c2, r2 = range_boundaries(tbl.ref)
    if capacity is not None and len(frame) > capacity:
        raise ArgumentError(tbl.displayName, f"{len(frame)} rows do not fit in the {capacity} rows the template "
                            f"leaves on sheet {ws.title!r}; shorten the data or move the block below")
    styles: dict[str, tuple] = {}
    for c in range(c1, c2 + 1):
        styles[str(ws.cell(hdr, c).value)] = (copy(ws.cell(hdr, c)._style), copy(ws.cell(hdr + 1, c)._style))
    first = (copy(ws.cell(hdr, c1)._style), copy(ws.cell(hdr + 1, c1)._style))
    for r in range(hdr, r2 + 1):
        for c in range(c1, c2 + 1):
            ws.cell(r, c).value = None
    labels, seen = [], set()
    for key in frame.columns:
        lab = tpl.label(key)
        while lab in seen:
            lab += " "
        seen.add(lab)
        labels.append(lab)
    n = len(frame)
    for j, (key, lab) in enumerate(zip(frame.columns, labels)):
        col = c1 + j
        hs, bs = styles.get(lab.strip(), (None, None))
        cell = ws.cell(hdr, col)
        cell._style = copy(hs if hs is not None else first[0])
        _set(cell, lab)
        series = frame[key]
        kind = _kind(series)
        probe = ws.cell(hdr + 1, col)
        probe._style = copy(bs if bs is not None else first[1])
        if bs is None or (probe.number_format == "General" and kind in ("date", "float", "int")):
            probe.number_format = tpl.default_format(str(key), kind)
        elif kind == "int" and probe.number_format == "0.00":
            probe.number_format = "0"
        _fill_column(ws, hdr + 1, col, series, kind, probe._style)
    last = hdr + max(n, 1)
    c2_new = c1 + len(labels) - 1
    ref = f"{get_column_letter(c1)}{hdr}:{get_column_letter(c2_new)}{last}"
    tbl.ref = ref
    if tbl.autoFilter is not None:
        tbl.autoFilter.ref = ref
    tbl.tableColumns = [TableColumn(id=i + 1, name=lab) for i, lab in enumerate(labels)]
    _stretch_rules(ws, c1, max(c2, c2_new), hdr, r2, last)
    return charts.Block(ws.title, c1, max(c2, c2_new), hdr, last)


def _numbers(series: pd.Series, kind: str) -> list | None:
    """The column's cell values as :func:`_py` makes them, computed on the whole array (None: not a
    plain numpy float, int or bool column, so the caller converts value by value)."""
    if not isinstance(series.dtype, np.dtype):
        return None
    if kind == "float":
        arr = series.to_numpy(dtype=float) + 0.0          # -0.0 -> 0.0, as _py
        out = arr.tolist()
        for i in np.flatnonzero(~np.isfinite(arr)).tolist():
            out[i] = None
        return out
    if kind in ("int", "bool"):
        return series.tolist()                            # Python int / bool, as _py
    return None


def _dates(series: pd.Series) -> list | None:
    """``[_py(v, "date") for v in series]`` for a datetime64 column (naive or with a time zone), converted as
    one array: a long date column costs a tenth of going through a Timestamp per value (None: another dtype)."""
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    elif not (isinstance(dtype, np.dtype) and dtype.kind == "M"):
        return None
    out = pd.DatetimeIndex(series).to_pydatetime().tolist()
    for i in np.flatnonzero(series.isna().to_numpy()).tolist():
        out[i] = None
    return out


def _fill_column(ws, row0: int, col: int, series: pd.Series, kind: str, body) -> None:
    """Body cells of one table column from ``row0`` down, each with its own copy of style ``body`` (Cell copies it).
    Numbers skip the value setter's type inference (its result is known: ``n``, or ``b`` for bools);
    text and dates go through :func:`_set` (formula-looking text, error codes, date formats)."""
    cells = ws._cells
    values = _numbers(series, kind)
    if values is None:
        dates = _dates(series) if kind == "date" else None
        _fill_values(ws, row0, col, dates if dates is not None else [_py(v, kind) for v in series.tolist()], body)
        return
    data_type = "b" if kind == "bool" else "n"
    for i, v in enumerate(values):
        cell = _blank(ws, row0 + i, col, body)
        if v is not None:
            cell._value = v
            cell.data_type = data_type
        cells[(row0 + i, col)] = cell


def _fill_values(ws, row0: int, col: int, values: list, body) -> None:
    """Text and date cells of one column. The value setter's outcome (stored value, type, and the style
    after its number-format inference) depends only on the value for text and on the type for a
    datetime, given the column's one body style: it runs once per distinct text and once per datetime
    type, and the other cells take its result; anything else goes through :func:`_set` cell by cell."""
    cells = ws._cells
    memo: dict = {}
    for i, v in enumerate(values):
        cell = _blank(ws, row0 + i, col, body)
        t = type(v)
        if t is str or t is datetime:
            key = v if t is str else t
            hit = memo.get(key)
            if hit is None:
                _set(cell, v)
                memo[key] = (cell._value, cell.data_type, StyleArray(cell._style))
            else:
                cell._value = hit[0] if t is str else v
                cell.data_type = hit[1]
                cell._style = StyleArray(hit[2])
        elif v is not None:
            _set(cell, v)
        cells[(row0 + i, col)] = cell


_new_cell = Cell.__new__


def _blank(ws, row: int, col: int, style) -> Cell:
    """``Cell(ws, row=row, column=col, style_array=style)`` without its constructor chain: the same slots
    (parent, its own copy of the style, row, column, no value, type ``n``, no hyperlink or comment).
    tests/test_fastsave.py checks it against the constructor, slot by slot."""
    cell = _new_cell(Cell)
    cell.parent = ws
    cell._style = StyleArray(style)
    cell.row = row
    cell.column = col
    cell._value = None
    cell._hyperlink = None
    cell.data_type = "n"
    cell._comment = None
    return cell


def _stretch_rules(ws, c1: int, c2: int, hdr: int, template_last: int, last: int) -> None:
    """Conditional formats that start at a table's first data row follow it to the last row."""
    old = ws.conditional_formatting
    new = ConditionalFormattingList()
    changed = False
    for cf in old:
        ranges = []
        for cr in cf.sqref.ranges:
            if cr.min_row == hdr + 1 and cr.max_row <= template_last and cr.min_col >= c1 and cr.max_col <= c2:
                cr = CellRange(min_col=cr.min_col, min_row=cr.min_row, max_col=cr.max_col, max_row=last)
                changed = True
            ranges.append(cr.coord)
        for rule in cf.rules:
            new.add(" ".join(ranges), rule)
    if changed:
        ws.conditional_formatting = new


def _drop_table(wb: Workbook, ws, tbl) -> None:
    c1, hdr, c2, r2 = range_boundaries(tbl.ref)
    for r in range(hdr - 1, r2 + 1):
        for c in range(c1, c2 + 1):
            cell = ws.cell(r, c)
            cell.value = None
    del ws.tables[tbl.displayName]
    for sheet in wb.worksheets:
        sheet._charts = [ch for ch in sheet._charts if not charts.chart_uses(ch, ws.title, c1, c2, hdr, r2)]


def _drop_sheet(wb: Workbook, title: str) -> None:
    if title not in wb.sheetnames:
        return
    wb.remove(wb[title])
    for name in list(wb.defined_names):
        dn = wb.defined_names[name]
        if any(t == title for t, _ in dn.destinations) or f"{title}'!" in (dn.attr_text or ""):
            del wb.defined_names[name]
    for sheet in wb.worksheets:
        sheet._charts = [ch for ch in sheet._charts if not charts.chart_uses(ch, title)]


def _clear_block(wb: Workbook, name: str) -> None:
    dn = wb.defined_names.get(name)
    if dn is None:
        return
    for title, coord in dn.destinations:
        if title not in wb.sheetnames:
            continue
        ws = wb[title]
        for rng in ws.merged_cells.ranges.copy():
            if CellRange(coord.replace("$", "")).issuperset(rng):
                ws.unmerge_cells(rng.coord)
        for row in ws[coord.replace("$", "")]:
            for cell in row:
                cell.value = None
                cell.style = "Normal"


def _put(wb: Workbook, name: str, value: Any) -> None:
    cell = named_cell(wb, name)
    if cell is None:
        raise ArgumentError("template", f"the template has no cell named {name!r}")
    _set(cell, _py(value, "text" if isinstance(value, str) else ""))


# ----------------------------------------------------------------------------- sections

def _sheet_present(report: DecisionReport, frames: dict, commentary) -> dict[str, bool]:
    return {
        "Dashboard": any(x is not None for x in (report.reading, report.weights, report.risk)),
        "Signals": report.signals is not None,
        "Early Warning": report.early_warning is not None,
        "Sector Scores": report.scores is not None or report.sectors is not None,
        "Weights": report.weights is not None or report.transition is not None,
        "Trades": report.trades is not None,
        "Backtest": report.backtest is not None,
        "Attribution": report.attribution is not None,
        "Scorecard": report.scorecard is not None,
        "Commentary": commentary is not None,
        "Parameters": frames["Parameters"] is not None,
        "Audit": True,
    }


def load_template(template: str | Path | None) -> Workbook:
    """Load ``template`` (or the packaged default) as an openpyxl workbook."""
    path = Path(template) if template is not None else tpl.DEFAULT_TEMPLATE
    if template is None and not path.exists():
        return tpl.build_template()
    if not path.is_file():
        raise ArgumentError("template", f"template file {str(path)!r} does not exist")
    try:
        return load_workbook(path)
    except Exception as exc:
        raise DataError(f"cannot be read as an .xlsx template ({exc})", file=str(path)) from exc


def _data_label(report: DecisionReport) -> str:
    if report.is_demo:
        return f"{report.data_label} - illustrative numbers, not market data"
    return f"Data: {report.data_label}"


def _run_info(report: DecisionReport) -> str:
    created = report.created_utc
    if created.tzinfo is not None:
        created = created.astimezone(timezone.utc)
    return (f"Decision date {report.as_of:%Y-%m-%d}  |  run {report.run_id}  |  created "
            f"{created:%Y-%m-%d %H:%M} UTC by {report.operator}  |  software {report.software_version}")


def _defensive_text(report: DecisionReport) -> str:
    """The defensive sectors (the fixed set XLU, XLP, XLV) with their combined current and target weight."""
    names = ", ".join(DEFENSIVE)
    w = report.weights
    if w is None:
        return names
    d = [t for t in DEFENSIVE if t in w.index]
    cur, tgt = float(w.loc[d, "current"].sum()), float(w.loc[d, "target"].sum())
    return f"{names}: {cur * 100:.1f}% now, {tgt * 100:.1f}% target ({(tgt - cur) * 100:+.1f} pp)"


def _fill_dashboard(wb: Workbook, report: DecisionReport) -> None:
    if "Dashboard" not in wb.sheetnames:
        return
    rd = report.reading
    if rd is None:
        _clear_block(wb, "DashboardReadingBlock")
    else:
        _put(wb, "StressIndex", float(rd["index"]))
        _put(wb, "StressPercentile", float(rd["percentile"]))
        _put(wb, "StressRegime", str(rd["regime"]).capitalize())
        _put(wb, "StressChange20d", float(rd["change_20d"]))
        from workbooks.commentary import warning_probability
        prob = warning_probability(rd)
        _put(wb, "WarningProbability", "none yet" if prob is None else prob)
        _put(wb, "StressStrength", float(rd["strength"]))
        _put(wb, "DefensiveSectors", _defensive_text(report))
    rk = report.risk
    if rk is None:
        _clear_block(wb, "DashboardRiskBlock")
    else:
        _put(wb, "TrackingError", rk.get("tracking_error"))
        _put(wb, "Turnover", rk.get("turnover"))
        _put(wb, "ExpectedCostBps", rk.get("expected_cost_bps"))
        if named_cell(wb, "PathCostBps") is not None:
            from workbooks.commentary import path_cost_bps
            _put(wb, "PathCostBps", path_cost_bps(report))
        binding = list(rk.get("binding") or [])
        _put(wb, "BindingConstraints", "; ".join(binding) if binding else "No limit is binding.")


def _fill_commentary(wb: Workbook, paragraphs: list[tuple[str, str]]) -> None:
    start = named_cell(wb, "CommentaryStart")
    if start is None:
        raise ArgumentError("template", "the template has no cell named 'CommentaryStart'")
    ws = start.parent
    head_style = copy(start._style)
    body_style = copy(ws.cell(start.row + 1, start.column)._style)
    width = ws.column_dimensions[get_column_letter(start.column)].width or 100
    r = start.row
    for heading, text in paragraphs:
        h = ws.cell(r, start.column)
        h._style = copy(head_style)
        _set(h, heading)
        b = ws.cell(r + 1, start.column)
        b._style = copy(body_style)
        _set(b, text)
        lines = max(1, math.ceil(len(text) * 1.1 / max(width, 10)))
        ws.row_dimensions[r + 1].height = 15 * lines + 4
        r += 3


def render(report: DecisionReport, template: str | Path | None = None) -> Workbook:
    """Fill ``template`` (default: the packaged one) with ``report`` and seal the Audit sheet.

    Returns the in-memory workbook, ready to save. Raises ArgumentError when the template lacks a
    table or named cell the report needs, DataError when the template cannot be read.
    """
    from workbooks import alerts_sheet, audit_sheet, commentary as com

    if not isinstance(report, DecisionReport):
        raise ArgumentError("report", f"expected a DecisionReport, got {type(report).__name__}")
    wb = load_template(template)
    frames = table_frames(report)
    paragraphs = com.paragraphs(report) if report.reading is not None else None
    present = _sheet_present(report, frames, paragraphs)
    for title in tpl.SHEETS:
        if title not in wb.sheetnames and present.get(title):
            raise ArgumentError("template", f"the template has no sheet {title!r}")
    for title, keep in present.items():
        if not keep:
            _drop_sheet(wb, title)
    template_rows: dict[str, int] = {}
    blocks: list[tuple[charts.Block, int]] = []
    for name, frame in frames.items():
        spec = tpl.TABLES[name]
        if spec.sheet not in wb.sheetnames:
            continue
        ws, tbl = _find_table(wb, name)
        if tbl is None:
            if frame is not None:
                raise ArgumentError("template", f"the template has no table named {name!r} on sheet {spec.sheet!r}")
            continue
        if frame is None:
            _drop_table(wb, ws, tbl)
            continue
        template_rows[name] = range_boundaries(tbl.ref)[3]
        blocks.append((_fill_table(ws, tbl, frame, spec.capacity), template_rows[name]))
    for ws in wb.worksheets:
        for ch in ws._charts:
            for block, tlast in blocks:
                charts.stretch_chart(ch, block, tlast)
    _fill_dashboard(wb, report)
    verdict = (report.early_warning or {}).get("verdict")
    if verdict and named_cell(wb, "EarlyWarningVerdict") is not None:
        _put(wb, "EarlyWarningVerdict", f"Verdict: {verdict}")
    if paragraphs is not None:
        _fill_commentary(wb, paragraphs)
    label, info = _data_label(report), _run_info(report)
    for ws in wb.worksheets:
        for name, value in (("DataLabel", label), ("RunInfo", info)):
            cell = _local_cell(ws, name)
            if cell is not None:
                _set(cell, value)
    from workbooks.backtest_sheets import decorate
    decorate(wb, report)                      # Backtest/Attribution charts and metrics (issue 9)
    from workbooks import execution_sheet
    execution_sheet.add(wb, report)              # before the seal: the digest covers it
    alerts_sheet.add(wb, getattr(report, "alerts", None), report.as_of)
    audit_sheet.fill(wb, report)
    from workbooks.printing import set_print_areas
    set_print_areas(wb)
    audit_sheet.seal(wb)
    wb.active = 0
    return wb


def render_bytes(report: DecisionReport, template: str | Path | None = None, compress: bool = True,
                 with_digest: bool = False):
    """The saved, sealed .xlsx bytes for ``report``: :func:`render`, save, then
    :func:`workbooks.digest.seal_package` writes the content digest of the saved package
    (``compress=False``: parts stored, for the signer to re-pack). Saved by
    :func:`workbooks.fastsave.save_bytes`: the bytes openpyxl writes, in about a third of the time.
    ``with_digest``: return ``(bytes, digest)``, the digest just sealed (no re-reading of the package)."""
    from workbooks.digest import seal_package
    from workbooks.fastsave import save_bytes

    data, digest = seal_package(save_bytes(render(report, template)), compress=compress)
    return (data, digest) if with_digest else data


def write_workbook(report: DecisionReport, path: str | Path, template: str | Path | None = None) -> Path:
    """Write the unsigned workbook for ``report`` to ``path`` (a preview; see export.export_signed)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ArgumentError("path", f"the workbook must be an .xlsx file, got {path.name!r}")
    if not path.parent.is_dir():
        raise ArgumentError("path", f"folder {str(path.parent)!r} does not exist")
    from workbooks.atomic import atomic_write_bytes
    atomic_write_bytes(path, render_bytes(report, template))
    log.info("wrote workbook %s", path)
    return path
