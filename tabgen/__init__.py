"""tabgen: learn guitar music from ASCII tablature and compose new pieces."""

__version__ = "0.1.0"
