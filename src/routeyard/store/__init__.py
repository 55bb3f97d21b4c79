"""Every SQL statement routeyard runs, its tables and its migrations."""

from routeyard.store.database import Store

__all__ = ["Store"]
