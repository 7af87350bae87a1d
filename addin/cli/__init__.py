"""The `rotation` command line (typer)."""
