"""Workbooks: templated audit workbooks, signing, verification and the append-only audit ledger. May import openpyxl; never imported by engine/."""
