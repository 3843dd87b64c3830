"""podcast-pipeline: publish a podcast kept in git."""

__version__ = "0.1.0"
