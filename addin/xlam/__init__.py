"""Building the Sector Rotation .xlam on Linux: a VBA project written from source (MS-OVBA) in a compound
file (MS-CFB), and the add-in zip patched part by part (never through openpyxl or XlsxWriter)."""
