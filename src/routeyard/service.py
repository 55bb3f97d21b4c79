"""Preparing a database for serving: migrate an empty one, fill an empty catalog."""

from __future__ import annotations

import random
import time

from routeyard.catalog.declarative import read_starter
from routeyard.config import Settings
from routeyard.errors import SchemaOutOfDate, StoreError
from routeyard.store import Store
from routeyard.store.catalog import Diff

STARTER_SOURCE = "routeyard starter catalog"


def load_starter(store: Store, *, prune: bool = False, overwrite: bool = False) -> Diff:
    return store.apply_catalog(read_starter(), prune=prune, overwrite=overwrite,
                               source=STARTER_SOURCE)


def prepare(store: Store, settings: Settings, *, attempts: int = 5) -> list[str]:
    """Make ``store`` ready to serve; returns what was done, for the operator.

    Replicas that start together on an empty database race to migrate it and to load the
    starter catalog; the loser's transaction fails and it simply looks again."""
    for attempt in range(attempts):
        try:
            return _prepare(store, settings)
        except SchemaOutOfDate:
            # Tables but no revision yet: another process is migrating right now (SQLite
            # shows its tables before the revision is stamped). Anything else is final.
            if attempt == attempts - 1 or store.schema_status() == "outdated":
                raise
            time.sleep(0.2 + random.random() * 0.5)
        except StoreError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 + random.random() * 0.5)
    return []  # pragma: no cover


def _prepare(store: Store, settings: Settings) -> list[str]:
    done = []
    if store.ensure_schema(migrate_empty=True) == "migrated":
        done.append("created the database schema")
    if settings.load_starter and store.count_models() == 0:
        diff = load_starter(store)
        done.append(f"loaded the starter catalog ({len(diff.created)} records)")
    return done
