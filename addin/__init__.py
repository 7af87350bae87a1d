"""The Excel add-in face: ribbon callbacks, the `rotation` command line and the .xlam build."""
