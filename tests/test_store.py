"""The schema: migrations on both databases, refusal of an old schema, catalog writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from routeyard.catalog.declarative import parse_text, read_starter
from routeyard.errors import SchemaOutOfDate, StoreError, StoreUnavailable
from routeyard.models import Catalog
from routeyard.preferences import NONE
from routeyard.store import Store
from routeyard.store.tables import metadata
from tests.conftest import run_cli

MINI = """
format = "routeyard-catalog"
version = 1
[[providers]]
slug = "chutes"
name = "Chutes"
[[models]]
id = "qwen/qwen3-235b-a22b-thinking-2507"
name = "Qwen: Qwen3 235B A22B Thinking 2507"
created = 1753449557
[[models.endpoints]]
provider = "chutes"
context_length = 262144
[models.endpoints.pricing]
prompt = "0.0000001179"
completion = "12.50"
"""


def test_empty_database_is_migrated_to_head(database_url: str) -> None:
    store = Store(database_url)
    assert store.schema_status() == "empty"
    assert store.ensure_schema() == "migrated"
    assert store.current_revision() == store.head_revision()
    assert store.schema_status() == "current"
    store.dispose()


def test_migrated_schema_matches_table_definitions(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_database_at_first_revision_is_refused_then_upgraded(database_url: str) -> None:
    store = Store(database_url)
    store.upgrade("0001")
    assert store.schema_status() == "outdated"
    with pytest.raises(SchemaOutOfDate, match="routeyard db upgrade"):
        store.ensure_schema()
    store.upgrade()
    assert store.schema_status() == "current"
    store.dispose()


def test_serve_refuses_out_of_date_schema_and_names_the_fix(database_url: str) -> None:
    store = Store(database_url)
    store.upgrade("0001")
    store.dispose()
    proc = run_cli(database_url, "serve", "--port", "1", check=False)
    assert proc.returncode != 0
    assert "routeyard db upgrade" in proc.stderr
    assert "Traceback" not in proc.stderr
    out = run_cli(database_url, "db", "upgrade")
    assert f"0001 -> {store.head_revision()}" in out.stdout
    assert "current" in run_cli(database_url, "db", "status").stdout


def test_sqlite_upgrade_backs_up_the_file_first(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    store.upgrade("0001")
    backup = store.upgrade()
    assert backup is not None and Path(backup).exists()
    store.dispose()


def test_apply_is_idempotent_and_keeps_prices_exact(store: Store) -> None:
    catalog = parse_text(MINI, "mini.toml")
    first = store.apply_catalog(catalog)
    assert len(first.created) == 3
    second = store.apply_catalog(catalog)
    assert not second.changed and len(second.unchanged) == 3
    read = store.read_catalog()
    pricing = read.models[0].endpoints[0].pricing
    assert (pricing.prompt, pricing.completion) == ("0.0000001179", "12.50")
    assert store.versions()["catalog"] == 1


def test_operator_disabled_flag_survives_reapply_unless_overwrite(store: Store) -> None:
    store.apply_catalog(parse_text(MINI, "mini.toml"))
    disabled = parse_text(MINI.replace("context_length = 262144", "context_length = 262144\ndisabled = true"), "mini.toml")
    assert store.read_catalog().models[0].endpoints[0].disabled is False
    store.apply_catalog(disabled, overwrite=True)
    assert store.read_catalog().models[0].endpoints[0].disabled is True
    diff = store.apply_catalog(parse_text(MINI, "mini.toml"))
    assert not diff.changed
    assert store.read_catalog().models[0].endpoints[0].disabled is True


def test_dry_run_and_prune(store: Store) -> None:
    store.apply_catalog(read_starter())
    before = store.read_catalog()
    diff = store.apply_catalog(parse_text(MINI, "mini.toml"), prune=True, dry_run=True)
    assert diff.pruned and store.read_catalog() == before
    store.apply_catalog(parse_text(MINI, "mini.toml"), prune=True)
    after = store.read_catalog()
    assert [m.id for m in after.models] == ["qwen/qwen3-235b-a22b-thinking-2507"]
    assert [p.slug for p in after.providers] == ["chutes"]


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO endpoints (model_id, provider_slug, tag, position, context_length,"
            " supported_parameters, supports_implicit_caching, native_tools,"
            " supports_diarization, is_moderated, disabled, updated_at, price_prompt,"
            " price_completion) VALUES ('no/model', 'nobody', 'x', 0, 1, '[]', false, '{}',"
            " false, false, false, 0, '0', '0')"
        ))


def test_a_failing_statement_is_a_store_error_not_sqlalchemys(store: Store) -> None:
    """Every door of the Store raises routeyard's errors (nothing outside store/ catches
    SQLAlchemy's): a broken constraint is a StoreError, the transaction rolled back."""
    store.apply_catalog(parse_text(MINI, "mini.toml"))
    versions = store.versions()
    with pytest.raises(StoreError, match="IntegrityError") as caught, store.transaction() as conn:
        store.bump(conn, "catalog")
        conn.execute(sa.text("INSERT INTO providers (slug, name, updated_at)"
                             " VALUES ('chutes', 'Chutes', 0)"))
    assert not isinstance(caught.value, StoreUnavailable)
    assert isinstance(caught.value.__cause__, sa.exc.IntegrityError)
    assert store.versions() == versions


def test_an_unreachable_database_is_store_unavailable(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'missing' / 'no.db'}")
    with pytest.raises(StoreUnavailable, match="database unavailable: OperationalError"):
        store.read_catalog()
    with pytest.raises(StoreUnavailable):
        store.versions()


def write_with_old_schema(store: Store, catalog: Catalog) -> None:
    """Write ``catalog`` into a database at an old revision: the rows of today's mappers,
    with only the columns that revision has (the current tables may have more)."""
    from routeyard.store import catalog as sc

    with store.transaction() as conn:
        old = sa.MetaData()
        old.reflect(conn, only=["providers", "models", "endpoints"])

        def insert(table: str, rows: list[dict[str, Any]]) -> None:
            columns = set(old.tables[table].c.keys())
            conn.execute(sa.insert(old.tables[table]),
                         [{k: v for k, v in {**r, "updated_at": 1}.items() if k in columns}
                          for r in rows])

        insert("providers", [sc.provider_row(p) for p in catalog.providers])
        insert("models", [sc.model_row(m) for m in catalog.models])
        insert("endpoints", [sc.endpoint_row(m.id, i, e)
                             for m in catalog.models for i, e in enumerate(m.endpoints)])


def write_key_with_old_schema(store: Store) -> str:
    """A key written with the columns the database's revision has; the key itself."""
    from routeyard.keys import generate_key, hash_key, key_prefix

    key = generate_key()
    with store.transaction() as conn:
        old = sa.MetaData()
        old.reflect(conn, only=["api_keys"])
        conn.execute(sa.insert(old.tables["api_keys"]).values(
            name="old", prefix=key_prefix(key), key_hash=hash_key(key), scope="read",
            created_at=1))
    return key


def test_upgrade_from_first_revision_keeps_the_data(database_url: str) -> None:
    store = Store(database_url)
    store.upgrade("0001")
    starter = read_starter()
    write_with_old_schema(store, starter)
    key = write_key_with_old_schema(store)
    store.upgrade()
    assert store.schema_status() == "current"
    after = store.read_catalog()
    assert after.providers == tuple(sorted(starter.providers, key=lambda p: p.slug))
    assert after.models == tuple(sorted(starter.models, key=lambda m: m.id))
    assert [k.prefix for k in store.list_keys()] == [key[:17]]
    assert store.list_keys()[0].preferences == NONE  # migration 0006: none yet
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    store.dispose()


def test_health_minutes_merge_into_existing_rows_per_writer(database_url: str) -> None:
    """merge_rows inserts new endpoint-minutes and adds into existing ones, in one batch,
    and keeps each writer's rows apart."""
    from routeyard.health.histogram import LATENCY_SCALE
    from routeyard.health.minute import MinuteKey, MinuteRecord
    from routeyard.store import health as sh

    store = Store(database_url)
    store.ensure_schema()

    def record(success: int, timeout: int, latency: float) -> MinuteRecord:
        r = MinuteRecord(success=success, timeout=timeout)
        r.latency.add(latency, LATENCY_SCALE)
        return r

    a, b, c = (MinuteKey("m/x", "p", 100), MinuteKey("m/x", "q", 100), MinuteKey("m/x", "p", 101))
    with store.transaction() as conn:
        written = sh.merge_rows(conn, "w1", [(a, record(1, 0, 100.0)), (b, record(2, 1, 200.0))],
                                now=10)
        assert {k: (r.success, r.timeout) for k, r in written.items()} == {a: (1, 0), b: (2, 1)}
    with store.transaction() as conn:  # a and b exist (updates), c is new (insert)
        sh.merge_rows(conn, "w1", [(a, record(3, 1, 100.0)), (b, record(0, 2, 400.0)),
                                      (c, record(5, 0, 50.0))], now=20)
        sh.merge_rows(conn, "w2", [(a, record(7, 0, 100.0))], now=20)
    with store.transaction() as conn:
        rows = {(key, writer): (rec, updated)
                for key, writer, rec, updated in sh.read_minutes(conn, updated_since=0, min_minute=0)}
    assert set(rows) == {(a, "w1"), (b, "w1"), (c, "w1"), (a, "w2")}
    got = {k: (r.success, r.timeout, r.latency.total, u) for k, (r, u) in rows.items()}
    assert got == {(a, "w1"): (4, 1, 2, 20.0), (b, "w1"): (2, 3, 2, 20.0),
                   (c, "w1"): (5, 0, 1, 20.0), (a, "w2"): (7, 0, 1, 20.0)}
    store.dispose()


@pytest.mark.parametrize("max_listed", [500, 0])  # the batch's endpoints named in the read, or not
def test_a_merge_reads_and_changes_only_its_own_endpoints_rows(database_url: str,
                                                               max_listed: int) -> None:
    """Rows of the same writer and minutes but of other endpoints are neither changed nor
    returned; the batch's own rows are added into, whichever way they are read."""
    from routeyard.health.minute import MinuteKey, MinuteRecord
    from routeyard.store import health as sh

    store = Store(database_url)
    store.ensure_schema()
    a, b, other_tag, other_model = (MinuteKey("m/x", "p", 100), MinuteKey("m/x", "p", 101),
                                    MinuteKey("m/x", "q", 100), MinuteKey("m/y", "p", 101))
    with store.transaction() as conn:
        sh.merge_rows(conn, "w1", [(k, MinuteRecord(success=n)) for n, k in
                                   enumerate([a, b, other_tag, other_model], start=1)], now=10)
    with store.transaction() as conn:
        written = sh.merge_rows(conn, "w1", [(a, MinuteRecord(timeout=5)),
                                             (b, MinuteRecord(success=10))],
                                now=20, max_listed=max_listed)
    assert {k: (r.success, r.timeout) for k, r in written.items()} == {a: (1, 5), b: (12, 0)}
    with store.transaction() as conn:
        rows = {key: (rec.success, rec.timeout, updated) for key, _w, rec, updated
                in sh.read_minutes(conn, updated_since=0, min_minute=0)}
    assert rows == {a: (1, 5, 20.0), b: (12, 0, 20.0), other_tag: (3, 0, 10.0),
                    other_model: (4, 0, 10.0)}
    store.dispose()
