"""The LibreOffice Calc face: an extension (.oxt) with the worksheet-function family and the ribbon's actions.

- ``idl``: the UNO interface of the functions, generated from ``udfs.family.SPECS`` (shipped as
  ``SectorRotation.idl`` and its compiled type library ``SectorRotation.rdb``);
- ``oxt/``: what runs inside LibreOffice (the Python UNO component and the configuration files);
- ``build``: assembles the .oxt; ``office``: starts a headless LibreOffice and installs it into a profile;
- ``cells``: Calc cell values <-> the family's arguments and results (no uno import);
- ``unobook``: the ribbon's ``SheetBook`` over a UNO spreadsheet document.
"""
