"""Entry point of the ribbon in Excel: ``RunPython "import addin.ribbon.xl as xl; xl.run('Optimize')"``
(or ``rotation addin run Optimize`` from RunFrozenPython). Runs the callback on the calling workbook."""
from __future__ import annotations


def run(action: str) -> bool:
    """Run the button ``action`` on the workbook that called (``xlwings.Book.caller()``)."""
    import xlwings as xw

    from addin.ribbon.callbacks import run as dispatch
    from addin.ribbon.workbook import XlwingsBook

    return dispatch(action, XlwingsBook(xw.Book.caller()))
