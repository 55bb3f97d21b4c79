"""Preparing a database for serving: migrate an empty one, fill an empty catalog."""

from __future__ import annotations

from routeyard.catalog.declarative import read_starter
from routeyard.config import Settings
from routeyard.store import Store
from routeyard.store.catalog import Diff

STARTER_SOURCE = "routeyard starter catalog"


def load_starter(store: Store, *, prune: bool = False, overwrite: bool = False) -> Diff:
    return store.apply_catalog(read_starter(), prune=prune, overwrite=overwrite,
                               source=STARTER_SOURCE)


def prepare(store: Store, settings: Settings) -> list[str]:
    """Make ``store`` ready to serve; returns what was done, for the operator."""
    done = []
    if store.ensure_schema(migrate_empty=True) == "migrated":
        done.append("created the database schema")
    if settings.load_starter and store.count_models() == 0:
        diff = load_starter(store)
        done.append(f"loaded the starter catalog ({len(diff.created)} records)")
    return done
