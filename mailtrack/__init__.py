"""mailtrack: a written, confirmed record of what was agreed in meetings."""

__version__ = "0.1.0"
