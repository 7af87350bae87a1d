"""Market data: the in-memory model, vendor-format importers, validation, the local store and the demo market."""
from engine.data.model import Market, SeriesMeta

__all__ = ["Market", "SeriesMeta"]
