"""Run xlwings' real (Windows) UDF decorators and conversions on Linux.

xlwings' ``xw.func``/``xw.arg``/``xw.ret`` are identity decorators off Windows; ``xlwings.udfs``
only fails to import for lack of pywin32. With empty stand-ins for the pywin32 modules it imports,
and its decorators record the ``__xlfunc__`` metadata Excel's "Import Functions" uses. ``excel_call``
follows ``xlwings.udfs.call_udf`` for value arguments: missing -> the optional default, then
``conversion.read`` with the argument's options, the call, and ``conversion.write`` of the result.
"""
from __future__ import annotations

import importlib
import sys
import types

import xlwings
import xlwings.conversion as conversion

MISSING = -2147352572  # what Excel passes for an omitted optional argument


def load_xlwings_udfs():
    for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
        sys.modules.setdefault(name, types.ModuleType(name))
    if not hasattr(sys.modules["pythoncom"], "CoInitialize"):
        sys.modules["pythoncom"].CoInitialize = lambda: None
    if not hasattr(sys.modules["pywintypes"], "TimeType"):
        sys.modules["pywintypes"].TimeType = type("TimeType", (), {})
    client = sys.modules["win32com.client"]
    for attr in ("Dispatch", "DispatchEx", "CDispatch"):
        if not hasattr(client, attr):
            setattr(client, attr, type(attr, (), {}))
    sys.modules["win32com"].client = client
    import xlwings.udfs as xu

    return xu


class _ExcelImpl:
    """Stand-in for xlwings' Windows engine: the two value-cleaning hooks conversion uses."""

    name = "excel"
    type = "desktop"

    @staticmethod
    def prepare_xl_data_element(x, options):
        import math

        import numpy as np

        if x is None or (isinstance(x, float) and math.isnan(x)):
            return ""
        if isinstance(x, np.number):
            return float(x)
        return x

    @staticmethod
    def clean_value_data(data, datetime_builder, empty_as, number_builder, err_to_str):
        def clean(c):
            if c is None or c == "":
                return empty_as
            if isinstance(c, float) and number_builder is not None:
                return number_builder(c)
            return c
        return [[clean(c) for c in row] for row in data]


def register_excel_engine():
    if "excel" not in xlwings.engines.engines_by_name:
        xlwings.engines.add(xlwings.main.Engine(impl=_ExcelImpl()))


def reload_with_real_decorators(module_name: str, monkeypatch):
    """Re-import ``module_name`` with xw.func/arg/ret replaced by the Windows decorators."""
    xu = load_xlwings_udfs()
    monkeypatch.setattr(xlwings, "func", xu.xlfunc, raising=False)
    monkeypatch.setattr(xlwings, "arg", xu.xlarg, raising=False)
    monkeypatch.setattr(xlwings, "ret", xu.xlret, raising=False)
    mod = importlib.import_module(module_name)
    return importlib.reload(mod), xu


def excel_call(func, *args):
    register_excel_engine()
    info = func.__xlfunc__
    args_info = info["args"]
    values = list(args)
    for i, arg in enumerate(values):
        ai = args_info[min(i, len(args_info) - 1)]
        if isinstance(arg, int) and arg == MISSING:
            values[i] = ai.get("optional", None)
        else:
            values[i] = conversion.read(None, arg, ai["options"])
    ret = func(*values)
    return conversion.write(ret, None, info["ret"]["options"])
