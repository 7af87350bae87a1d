"""Pure computation for the sector rotation product.

Never imports Excel, openpyxl or the command line: faces depend on the engine,
not the other way round.
"""
