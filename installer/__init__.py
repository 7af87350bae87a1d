"""Windows packaging: PyInstaller for the ribbon command line, an embedded Python for the UDF server."""
