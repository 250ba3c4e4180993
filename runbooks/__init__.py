"""Runbooks for Galaxy's database migrations: one library behind the notebooks and the CLI."""

__all__ = ["__version__"]
__version__ = "0.1.0"
