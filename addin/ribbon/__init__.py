"""The ribbon tab "Sector Rotation": its customUI14 XML, the one VBA dispatcher, and the Python callbacks."""
