"""The database handle: engine, schema status and migrations, state counters.

All SQL lives in this package. :class:`Store` is the one object the rest of routeyard
talks to; catalog, key and health statements live in sibling modules and are reached
through it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from routeyard.accounting.periods import Usage
from routeyard.accounting.records import DayUsage, Generation
from routeyard.errors import Conflict, SchemaOutOfDate, StoreError, StoreUnavailable
from routeyard.health.minute import MinuteKey, MinuteRecord
from routeyard.keys import KeyRecord, generate_key, hash_key, key_prefix
from routeyard.models import Catalog, Endpoint, Model, Provider
from routeyard.preferences import NONE as NO_PREFERENCES
from routeyard.preferences import KeyPreferences
from routeyard.store import accounting as store_accounting
from routeyard.store import catalog as store_catalog
from routeyard.store import health as store_health
from routeyard.store import keys as store_keys
from routeyard.store import records, tables

T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"
STATE_NAMES = ("catalog", "keys", "usage")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"invalid database URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": 10})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def now() -> int:
    return int(time.time())


@contextmanager
def _translated() -> Iterator[None]:
    """Database failures as routeyard's errors, so that nothing outside ``store/`` deals
    with SQLAlchemy's: a database that cannot be reached raises :class:`StoreUnavailable`
    (503 on the API), any other failure :class:`StoreError`."""
    try:
        yield
    except OperationalError as exc:
        raise StoreUnavailable(f"database unavailable: {exc.orig.__class__.__name__}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"database error: {exc.__class__.__name__}: {exc}") from exc


class Store:
    """routeyard's database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for messages and logs."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with _translated(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with _translated(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def catalog_write(self) -> Iterator[Connection]:
        """A catalog transaction serialised with every other catalog write, in every process:
        on SQLite an immediate transaction (it takes the write lock before its first read),
        on PostgreSQL a ``SELECT … FOR UPDATE`` of the catalog's version row, which every
        catalog write updates anyway. What such a transaction reads is therefore still true
        when it writes: no read-modify-write can lose a concurrent one."""
        with self.transaction() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                self._lock_state(conn, "catalog")
            yield conn

    @staticmethod
    def _lock_state(conn: Connection, name: str) -> None:
        row = tables.state.c.name == name
        if conn.execute(sa.select(tables.state.c.version).where(row).with_for_update()).first():
            return
        # The first write ever: make the row (a concurrent first write fails on its key).
        conn.execute(sa.insert(tables.state).values(name=name, version=0))
        conn.execute(sa.select(tables.state.c.version).where(row).with_for_update())

    # -- schema ------------------------------------------------------------------------

    def head_revision(self) -> str:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert head is not None
        return head

    def current_revision(self) -> str | None:
        with self.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def schema_status(self) -> str:
        """``empty``, ``current`` or ``outdated`` (``unknown`` for a revision we don't know)."""
        current = self.current_revision()
        if current is None:
            with self.connect() as conn:
                names = set(sa.inspect(conn).get_table_names())
            return "empty" if not names & {t.name for t in tables.metadata.sorted_tables} else "unknown"
        if current == self.head_revision():
            return "current"
        script = ScriptDirectory.from_config(alembic_config())
        known = {rev.revision for rev in script.walk_revisions()}
        return "outdated" if current in known else "unknown"

    def upgrade(self, revision: str = "head") -> str | None:
        """Migrate to ``revision``. A SQLite file is copied aside first; returns the backup."""
        backup = self._backup_sqlite()
        with self.transaction() as conn:
            command.upgrade(alembic_config(conn), revision)
        return backup

    def _backup_sqlite(self) -> str | None:
        if self.dialect != "sqlite":
            return None
        database = self.engine.url.database
        if not database or database == ":memory:" or not Path(database).exists():
            return None
        if self.current_revision() is None:
            return None
        target = f"{database}.{time.strftime('%Y%m%d-%H%M%S')}.bak"
        shutil.copyfile(database, target)
        return target

    def ensure_schema(self, *, migrate_empty: bool = True) -> str:
        """Make sure the schema is usable: migrate an empty database, refuse an old one."""
        status = self.schema_status()
        if status == "empty" and migrate_empty:
            self.upgrade()
            return "migrated"
        if status == "current":
            return "current"
        if status == "outdated":
            raise SchemaOutOfDate(
                f"the database schema is at revision {self.current_revision()}, "
                f"this routeyard needs {self.head_revision()}: run `routeyard db upgrade` "
                "(a SQLite database is backed up first)"
            )
        raise SchemaOutOfDate(
            "the database holds tables routeyard does not know or a newer schema "
            f"({self.current_revision()}); use a newer routeyard or another database"
        )

    # -- state counters ----------------------------------------------------------------

    def versions(self) -> dict[str, int]:
        """The change counters (``catalog``, ``keys``, ``usage``): cheap enough to poll every second."""
        try:
            with self.connect() as conn:
                rows = conn.execute(sa.select(tables.state.c.name, tables.state.c.version))
                found = {name: int(version) for name, version in rows}
        except StoreUnavailable:
            raise
        except StoreError as exc:  # whatever stops the poll makes the database unavailable
            cause = exc.__cause__.__class__.__name__
            raise StoreUnavailable(f"database unavailable: {cause}") from exc.__cause__
        return {name: found.get(name, 0) for name in STATE_NAMES}

    @staticmethod
    def bump(conn: Connection, name: str) -> None:
        updated = conn.execute(
            sa.update(tables.state)
            .where(tables.state.c.name == name)
            .values(version=tables.state.c.version + 1)
        )
        if updated.rowcount == 0:
            conn.execute(sa.insert(tables.state).values(name=name, version=1))

    # -- catalog -----------------------------------------------------------------------

    def read_catalog(self) -> Catalog:
        with self.connect() as conn:
            return store_catalog.read_catalog(conn)

    def apply_catalog(
        self,
        catalog: Catalog,
        *,
        prune: bool = False,
        overwrite: bool = False,
        dry_run: bool = False,
        source: str | None = None,
    ) -> store_catalog.Diff:
        """Make the database match ``catalog`` in one transaction (rolled back on dry run)."""
        with self.catalog_write() as conn:
            diff = store_catalog.apply_catalog(
                conn, catalog, now=now(), prune=prune, overwrite=overwrite, source=source
            )
            if dry_run:
                conn.rollback()
            elif diff.changed:
                self.bump(conn, "catalog")
        return diff

    def write_catalog(self, change: Callable[[Connection], T], conflict: str | None = None) -> T:
        """Run ``change`` (a function of store.catalog calls) in one serialised catalog
        transaction (:meth:`catalog_write`) and mark the catalog changed, so that every
        process reloads it. A unique or foreign key the change breaks is a
        :class:`~routeyard.errors.Conflict` (with the message ``conflict``)."""
        with self.catalog_write() as conn:
            try:
                result = change(conn)
                self.bump(conn, "catalog")
            except IntegrityError:  # constraints are immediate: a broken one fails here
                raise Conflict(conflict or "The change conflicts with a concurrent change; "
                               "retry") from None
        return result

    # The admin API's writes: each reads the record, lets the caller's function check and
    # change it, and writes it back, in one serialised transaction. NotFound, Conflict and
    # whatever the caller's function raises leave the catalog unchanged.

    def create_provider(self, provider: Provider) -> None:
        self.write_catalog(lambda c: records.create_provider(c, provider, now()),
                           f"Provider {provider.slug} already exists")

    def update_provider(self, slug: str, change: Callable[[Provider], Provider]) -> Provider:
        return self.write_catalog(lambda c: records.update_provider(c, slug, change, now()))

    def delete_provider(self, slug: str, check: Callable[[Provider], None]) -> None:
        self.write_catalog(lambda c: records.delete_provider(c, slug, check))

    def create_model(self, build: Callable[[list[str]], Model]) -> Model:
        """``build`` makes the model from the known provider slugs."""
        try:
            return self.write_catalog(lambda c: records.create_model(c, build, now()))
        except Conflict:
            model = build(self.provider_slugs())
            existing = self.read_model(model.id)  # ids are unique regardless of case
            if existing is None:
                raise
            raise Conflict(f"Model {existing.id} already exists") from None

    def update_model(self, model_id: str, change: Callable[[Model, list[str]], Model], *,
                     replace_endpoints: bool) -> Model:
        return self.write_catalog(lambda c: records.update_model(
            c, model_id, change, now(), replace_endpoints=replace_endpoints))

    def delete_model(self, model_id: str, check: Callable[[Model], None]) -> None:
        self.write_catalog(lambda c: records.delete_model(c, model_id, check))

    def create_endpoint(self, model_id: str, build: Callable[[Model, list[str]], Endpoint]
                        ) -> tuple[Model, Endpoint]:
        try:
            return self.write_catalog(lambda c: records.create_endpoint(c, model_id, build, now()))
        except Conflict:
            model = self.read_model(model_id)
            if model is None:
                raise
            endpoint = build(model, self.provider_slugs())
            if any(e.tag == endpoint.tag for e in model.endpoints):
                raise Conflict(f"Model {model.id} already has an endpoint tagged "
                               f"{endpoint.tag}") from None
            raise

    def update_endpoint(self, model_id: str, tag: str,
                        change: Callable[[Model, Endpoint, list[str]], Endpoint]) -> Endpoint:
        return self.write_catalog(lambda c: records.update_endpoint(c, model_id, tag, change,
                                                                    now()))

    def delete_endpoint(self, model_id: str, tag: str, check: Callable[[Endpoint], None]) -> None:
        self.write_catalog(lambda c: records.delete_endpoint(c, model_id, tag, check))

    def read_model(self, model_id: str) -> Model | None:
        with self.connect() as conn:
            return store_catalog.read_model(conn, model_id)

    def read_provider(self, slug: str) -> Provider | None:
        with self.connect() as conn:
            return store_catalog.read_provider(conn, slug)

    def provider_slugs(self) -> list[str]:
        with self.connect() as conn:
            return store_catalog.provider_slugs(conn)

    def count_models(self) -> int:
        with self.connect() as conn:
            return store_catalog.count_models(conn)

    # -- keys --------------------------------------------------------------------------

    def create_key(self, name: str, scope: str, *, limit: Decimal | None = None,
                   limit_reset: str | None = None, prefs: KeyPreferences = NO_PREFERENCES
                   ) -> tuple[str, KeyRecord]:
        """A new key and its record; the key itself is returned once and never stored."""
        key = generate_key()
        with self.transaction() as conn:
            record = store_keys.insert_key(
                conn, name=name, prefix=key_prefix(key), key_hash=hash_key(key), scope=scope,
                now=now(), prefs=prefs,
            )
            if limit is not None or limit_reset is not None:
                store_accounting.set_limit(conn, record.id, limit, limit_reset)
            if limit is not None or limit_reset is not None or prefs != NO_PREFERENCES:
                record = store_keys.find_key(conn, str(record.id))
            self.bump(conn, "keys")
        return key, record

    def set_key_limit(self, id_or_prefix: str, limit: Decimal | None,
                      limit_reset: str | None) -> KeyRecord:
        """Set (or with ``None`` remove) a key's spend limit and its reset period."""
        with self.transaction() as conn:
            record = store_keys.find_key(conn, id_or_prefix)
            store_accounting.set_limit(conn, record.id, limit, limit_reset)
            self.bump(conn, "keys")
            return store_keys.find_key(conn, str(record.id))

    def find_key(self, id_or_prefix: str) -> KeyRecord:
        with self.connect() as conn:
            return store_keys.find_key(conn, id_or_prefix)

    def list_keys(self) -> list[KeyRecord]:
        with self.connect() as conn:
            return store_keys.list_keys(conn)

    def update_key_preferences(self, id_or_prefix: str,
                               change: Callable[[KeyPreferences], KeyPreferences]) -> KeyRecord:
        """Replace a key's preferences by ``change(current)``, read and written in one
        transaction; every process serves them within its refresh interval."""
        with self.transaction() as conn:
            record = store_keys.find_key(conn, id_or_prefix, for_update=True)
            store_keys.set_preferences(conn, record.id, change(record.preferences))
            self.bump(conn, "keys")
            return store_keys.find_key(conn, str(record.id))

    def key_by_prefix(self, prefix: str) -> KeyRecord | None:
        """The record (active or revoked) whose prefix is ``prefix``, or None."""
        with self.connect() as conn:
            return store_keys.key_by_prefix(conn, prefix)

    def revoke_key(self, id_or_prefix: str) -> KeyRecord:
        with self.transaction() as conn:
            record = store_keys.find_key(conn, id_or_prefix)
            store_keys.revoke_key(conn, record.id, now())
            self.bump(conn, "keys")
            return store_keys.find_key(conn, str(record.id))

    def touch_keys(self, last_used: dict[int, int]) -> None:
        if last_used:
            with self.transaction() as conn:
                store_keys.touch_keys(conn, sorted(last_used.items()))

    # -- live health (docs/health.md) ----------------------------------------------------

    def merge_health(self, writer: str, items: Iterable[tuple[MinuteKey, MinuteRecord]],
                     at: float) -> dict[MinuteKey, MinuteRecord]:
        """Add ``items`` into ``writer``'s minute rows in one transaction; returns the records
        the rows written now hold."""
        with self.transaction() as conn:
            return store_health.merge_rows(conn, writer, items, at)

    def read_health(self, *, updated_since: float, min_minute: int
                    ) -> list[store_health.HealthRow]:
        """Every writer's rows changed since ``updated_since``, for minutes from
        ``min_minute``."""
        with self.connect() as conn:
            return store_health.read_minutes(conn, updated_since=updated_since,
                                             min_minute=min_minute)

    def prune_health(self, before_minute: int) -> int:
        """Delete the minute rows before ``before_minute``; returns how many."""
        with self.transaction() as conn:
            return store_health.prune_minutes(conn, before_minute)

    def acquire_lease(self, name: str, holder: str, at: float, ttl: float) -> bool:
        """Take or renew lease ``name`` for ``holder`` for ``ttl`` seconds from ``at``; False
        while another holder's is valid."""
        with self.transaction() as conn:
            return store_health.acquire_lease(conn, name, holder, at, ttl)

    # -- accounting (docs/accounting.md) --------------------------------------------------

    def write_generations(self, batch: list[Generation]) -> int:
        """Insert generation records and count them in the usage tables, in one
        transaction; returns how many were new (a batch written before counts once)."""
        if not batch:
            return 0
        with self.transaction() as conn:
            written = store_accounting.write_generations(conn, batch, time.time())
            if written:
                self.bump(conn, "usage")
        return written

    def read_generation(self, gen_id: str) -> Generation | None:
        with self.connect() as conn:
            return store_accounting.read_generation(conn, gen_id)

    def read_usage(self, at: float, key_ids: list[int] | None = None) -> dict[int, Usage]:
        with self.connect() as conn:
            return store_accounting.read_usage(conn, at, key_ids)

    def usage_days(self, *, since_day: int, until_day: int | None = None,
                   key_id: int | None = None) -> list[DayUsage]:
        with self.connect() as conn:
            return store_accounting.read_days(conn, since_day=since_day, until_day=until_day,
                                              key_id=key_id)

    def prune_generations(self, before: float) -> int:
        with self.transaction() as conn:
            return store_accounting.prune_generations(conn, before)
