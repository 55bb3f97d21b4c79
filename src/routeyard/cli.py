"""The command line: thin click commands over the store, the catalog and the server.

Heavy imports happen inside the commands so that ``routeyard --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from routeyard.config import SETTINGS, Settings
from routeyard.errors import RouteyardError

if TYPE_CHECKING:
    from routeyard.store import Store

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings.load(**{k: v for k, v in overrides.items() if v is not None})
    except RouteyardError as exc:
        raise click.ClickException(str(exc)) from None


def _store(settings: Settings, *, migrate_empty: bool = True) -> Store:
    from routeyard.store import Store

    store = Store(settings.resolved_database_url)
    try:
        store.ensure_schema(migrate_empty=migrate_empty)
    except RouteyardError as exc:
        raise click.ClickException(str(exc)) from None
    return store


def _guard(fn: F) -> F:
    """Turn routeyard's own errors into clean CLI errors (no traceback)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RouteyardError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def _help_settings(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    for s in SETTINGS:
        default = s.default if s.default != "" else "(empty)"
        click.echo(f"{s.env}  [{s.type.__name__}, default: {default}]")
        click.echo(f"    {s.help}")
    ctx.exit()


@click.group(invoke_without_command=True)
@click.version_option(package_name="routeyard")
@click.option("--help-settings", is_flag=True, expose_value=False, is_eager=True,
              callback=_help_settings, help="List every setting with its env var and default.")
@click.pass_context
def main(ctx: click.Context) -> None:
    """routeyard: serve OpenRouter's discovery API from a catalog you own.

    With no command, runs `serve`.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve)


def _prepare(settings: Settings) -> tuple[list[str], int, int, str]:
    """Migrate and seed the database: the lines to print, the models, the live keys and
    the database's URL without its password."""
    from routeyard.service import prepare
    from routeyard.store import Store

    store = Store(settings.resolved_database_url)
    try:
        lines = prepare(store, settings)
        keys = sum(1 for k in store.list_keys() if k.revoked_at is None)
        return lines, store.count_models(), keys, store.safe_url
    finally:
        store.dispose()


def in_child(work: Callable[[], T]) -> T:
    """``work()`` run in a forked child process, its result (or its RouteyardError, as a
    RouteyardError with the same message) handed back through a pipe."""
    import pickle

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            os.close(read)
            try:
                outcome: tuple[str, Any] = ("ok", work())
            except RouteyardError as exc:
                outcome = ("error", str(exc))
            except BaseException as exc:  # noqa: BLE001 (handed to the parent, which fails with it)
                outcome = ("crash", f"{type(exc).__name__}: {exc}")
            with os.fdopen(write, "wb") as pipe:
                pickle.dump(outcome, pipe)
        except BaseException:  # noqa: BLE001 (the child must never return into the CLI)
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        raise RouteyardError(f"the preparing process ended without an answer (status {status})")
    kind, value = pickle.loads(data)
    if kind == "ok":
        return value  # type: ignore[no-any-return]
    if kind == "error":
        raise RouteyardError(value)
    raise RuntimeError(value)


@main.command()
@click.option("--host", help="Address to listen on [ROUTEYARD_HOST].")
@click.option("--port", type=int, help="Port to listen on [ROUTEYARD_PORT].")
@click.option("--workers", type=int, help="Worker processes [ROUTEYARD_WORKERS].")
@click.option("--public/--no-public", "public_discovery", default=None,
              help="Serve discovery without a key [ROUTEYARD_PUBLIC_DISCOVERY].")
def serve(host: str | None = None, port: int | None = None, workers: int | None = None,
          public_discovery: bool | None = None) -> None:
    """Serve the API (migrates an empty database and loads the starter catalog)."""
    from routeyard.server import serve as run

    settings = _settings(host=host, port=port, workers=workers, public_discovery=public_discovery)
    try:
        # In a child process: the database libraries, the migrations and the starter
        # catalog are then never loaded into this supervising process (about 30 MiB that
        # every forked worker would otherwise carry too); the workers load what they need.
        lines, models, keys, safe_url = in_child(lambda: _prepare(settings))
    except RouteyardError as exc:
        raise click.ClickException(str(exc)) from None
    for line in lines:
        click.echo(f"routeyard: {line}", err=True)
    base = f"http://{settings.host}:{settings.port}"
    click.echo(f"routeyard: {models} models in {safe_url}", err=True)
    click.echo(f"routeyard: serving {base}/api/v1 (OpenAPI: {base}/api/v1/openapi.json)", err=True)
    if settings.status_page_enabled:
        click.echo(f"routeyard: status page {base}/", err=True)
    if not keys and not settings.public_discovery:
        command = sys.argv[0] if sys.argv[0].endswith("routeyard") else "routeyard"
        click.echo("routeyard: no API key yet; create one in another shell with\n"
                   f"    {command} keys create --name me", err=True)
    click.echo("routeyard: try\n    curl -H \"Authorization: Bearer $KEY\" "
               f"{base}/api/v1/models/qwen/qwen3-235b-a22b-thinking-2507/endpoints", err=True)
    try:
        run(settings)
    except RouteyardError as exc:
        raise click.ClickException(str(exc)) from None


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@_guard
def db_upgrade() -> None:
    """Migrate the database to this version's schema (backs up a SQLite file first)."""
    from routeyard.store import Store

    store = Store(_settings().resolved_database_url)
    before = store.current_revision()
    backup = store.upgrade()
    if backup:
        click.echo(f"backed up the database to {backup}")
    click.echo(f"schema: {before or 'empty'} -> {store.current_revision()}")


@db.command("status")
@_guard
def db_status() -> None:
    """Show the schema revision and whether it is current."""
    from routeyard.store import Store

    store = Store(_settings().resolved_database_url)
    click.echo(f"{store.schema_status()} (revision {store.current_revision()}, "
               f"head {store.head_revision()})")


@main.group()
def keys() -> None:
    """API keys."""


def _preference_options(fn: F) -> F:
    """The key-preference options shared by ``keys create`` and ``keys update``."""
    options = [
        click.option("--ignore-provider", "ignore", multiple=True, metavar="SLUG",
                     help="A provider this key's requests never use (repeatable)."),
        click.option("--quantization", "quantizations", multiple=True, metavar="Q",
                     help="An allowed quantization, e.g. fp8 (repeatable; none: any)."),
        click.option("--data-collection", type=click.Choice(["allow", "deny"]),
                     help="deny: only endpoints known not to train on prompts."),
        click.option("--zdr/--no-zdr", default=None,
                     help="Only endpoints with zero data retention."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _preferences(current: Any, changes: dict[str, Any]) -> Any:
    """``current`` preferences with the options given; a click error naming bad values."""
    import msgspec

    from routeyard.preferences import normalized, problems

    given = {k: v for k, v in changes.items() if v not in (None, ())}
    prefs = normalized(msgspec.structs.replace(current, **given))
    found = problems(prefs)
    if found:
        raise click.BadParameter("; ".join(f"{path}: {msg}" for path, msg in found))
    return prefs


def _show_preferences(prefs: Any) -> None:
    from routeyard.preferences import to_wire

    wire = to_wire(prefs)
    click.echo("preferences: " + ", ".join(
        f"{k}={','.join(v) if isinstance(v, list) else str(v).lower()}"
        for k, v in wire.items()))


def _limit(value: str | None) -> Any:
    """A --limit value as a Decimal (click callback)."""
    if value is None:
        return None
    from routeyard.api.accounting import parse_limit

    try:
        return parse_limit(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


RESET_CHOICE = click.Choice(["daily", "weekly", "monthly", "never"])


@keys.command("create")
@click.option("--name", required=True, help="A name to recognise the key by.")
@click.option("--admin", is_flag=True, help="Admin scope (may change the catalog).")
@click.option("--limit", callback=lambda _c, _p, v: _limit(v), metavar="USD",
              help="Spend limit in USD (exact decimal); requests past it get 402.")
@click.option("--limit-reset", type=RESET_CHOICE, default=None,
              help="When usage counted against the limit restarts (UTC) [default: never].")
@_preference_options
@_guard
def keys_create(name: str, admin: bool, limit: Any, limit_reset: str | None,
                **prefs: Any) -> None:
    """Create a key and print it once, alone on the last line."""
    from routeyard.preferences import NONE

    if limit_reset is not None and limit is None:
        raise click.UsageError("--limit-reset needs --limit")
    chosen = _preferences(NONE, prefs)
    store = _store(_settings())
    key, record = store.create_key(name, "admin" if admin else "read", limit=limit,
                                   limit_reset=None if limit_reset == "never" else limit_reset,
                                   prefs=chosen)
    if chosen != NONE:
        _show_preferences(chosen)
    limited = "" if limit is None else f", limit ${record.spend_limit} {limit_reset or 'never'}"
    click.echo(f"created {record.scope} key {record.id} ({record.prefix}…) named {name!r}"
               f"{limited}; it is shown only now:")
    click.echo(key)


@keys.command("update")
@click.argument("key_id_or_prefix")
@click.option("--limit", callback=lambda _c, _p, v: _limit(v), metavar="USD",
              help="New spend limit in USD.")
@click.option("--no-limit", is_flag=True, help="Remove the spend limit.")
@click.option("--limit-reset", type=RESET_CHOICE, default=None,
              help="When usage counted against the limit restarts (UTC).")
@_preference_options
@click.option("--clear-ignored", is_flag=True, help="Forget the ignored providers.")
@click.option("--any-quantization", is_flag=True, help="Forget the allowed quantizations.")
@_guard
def keys_update(key_id_or_prefix: str, limit: Any, no_limit: bool, limit_reset: str | None,
                clear_ignored: bool, any_quantization: bool, **prefs: Any) -> None:
    """Change a key's settings (spend limit, reset period, provider preferences; options
    left out stay); every server applies it within a second."""
    from decimal import Decimal

    import msgspec

    if no_limit and limit is not None:
        raise click.UsageError("give --limit or --no-limit, not both")
    limits = no_limit or limit is not None or limit_reset is not None
    preferences = (clear_ignored or any_quantization
                   or any(v not in (None, ()) for v in prefs.values()))
    if not limits and not preferences:
        raise click.UsageError("nothing to change: give --limit, --no-limit, --limit-reset "
                               "or a preference option")
    store = _store(_settings())
    current = store.find_key(key_id_or_prefix)
    record = current
    if preferences:  # bad values refused before anything is written
        _preferences(current.preferences, prefs)
    if limits:
        new_limit = None if no_limit else (
            limit if limit is not None else
            (None if current.spend_limit is None else Decimal(current.spend_limit)))
        reset = current.limit_reset if limit_reset is None else (
            None if limit_reset == "never" else limit_reset)
        if no_limit:
            reset = None
        record = store.set_key_limit(str(current.id), new_limit, reset)
    if preferences:
        def change(now: Any) -> Any:
            if clear_ignored:
                now = msgspec.structs.replace(now, ignore=())
            if any_quantization:
                now = msgspec.structs.replace(now, quantizations=())
            return _preferences(now, prefs)

        record = store.update_key_preferences(str(current.id), change)
    shown = "none" if record.spend_limit is None else (
        f"${record.spend_limit} {record.limit_reset or 'never'}")
    click.echo(f"updated key {record.id} ({record.prefix}…) named {record.name!r}: "
               f"limit {shown}")
    if preferences:
        _show_preferences(record.preferences)


@keys.command("list")
@_guard
def keys_list() -> None:
    """List keys: id, name, prefix, scope, created, last used, revoked."""
    import time

    def fmt(ts: int | None) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) if ts else "-"

    store = _store(_settings())
    rows = store.list_keys()
    click.echo(f"{'id':>4}  {'name':<20} {'prefix':<18} {'scope':<6} {'created':<20} "
               f"{'last used':<20} {'revoked':<20} limit")
    for r in rows:
        limit = "-" if r.spend_limit is None else f"${r.spend_limit} {r.limit_reset or 'never'}"
        click.echo(f"{r.id:>4}  {r.name[:20]:<20} {r.prefix:<18} {r.scope:<6} "
                   f"{fmt(r.created_at):<20} {fmt(r.last_used_at):<20} "
                   f"{fmt(r.revoked_at):<20} {limit}")


@keys.command("revoke")
@click.argument("key_id_or_prefix")
@_guard
def keys_revoke(key_id_or_prefix: str) -> None:
    """Revoke a key by id or prefix; every server refuses it within a second."""
    store = _store(_settings())
    record = store.revoke_key(key_id_or_prefix)
    click.echo(f"revoked key {record.id} ({record.prefix}…) named {record.name!r}")


@main.command()
@click.option("--key", "key_name", metavar="NAME",
              help="Only this key (its name, id or prefix).")
@click.option("--by", "group", type=click.Choice(["key", "model", "provider", "day"]),
              default="key", show_default=True, help="Group the rows by this.")
@click.option("--days", type=click.IntRange(min=1, max=3660), default=30, show_default=True,
              help="UTC days to cover, today included.")
@_guard
def usage(key_name: str | None, group: str, days: int) -> None:
    """Spend and tokens per key, model, provider or day (a table)."""
    import time

    from routeyard.accounting.usage_table import DAY, group_rows, render

    store = _store(_settings())
    try:
        keys_by_id = {k.id: k for k in store.list_keys()}
        key_id = None
        if key_name is not None:
            named = [k for k in keys_by_id.values() if k.name == key_name]
            if len(named) > 1:
                raise click.ClickException(
                    f"{len(named)} keys are named {key_name!r}: give an id or prefix")
            key_id = named[0].id if named else store.find_key(key_name).id
        today = int(time.time() // DAY) * DAY
        rows = store.usage_days(since_day=today - (days - 1) * DAY, key_id=key_id)
    finally:
        store.dispose()
    names = {k: r.name for k, r in keys_by_id.items()}
    render(group_rows(rows, group, names), group, days)


@main.group()
def catalog() -> None:
    """The catalog: starter, export, apply."""


def _print_diff(diff: Any, *, verbose: bool = False) -> None:
    for label in ("created", "updated", "pruned"):
        for item in getattr(diff, label):
            click.echo(f"{label:>9}  {item}")
    click.echo(f"{len(diff.created)} created, {len(diff.updated)} updated, "
               f"{len(diff.unchanged)} unchanged, {len(diff.pruned)} pruned")


@catalog.command("load-starter")
@click.option("--prune", is_flag=True, help="Remove what the starter catalog does not hold.")
@click.option("--overwrite", is_flag=True, help="Overwrite operator edits (disabled flags).")
@_guard
def catalog_load_starter(prune: bool, overwrite: bool) -> None:
    """(Re)load the bundled starter catalog."""
    from routeyard.service import load_starter

    _print_diff(load_starter(_store(_settings()), prune=prune, overwrite=overwrite))


@catalog.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of stdout.")
@_guard
def catalog_export(output: str | None) -> None:
    """Write the catalog as a routeyard catalog file (TOML)."""
    from routeyard.catalog.declarative import dump

    text = dump(_store(_settings()).read_catalog(), source="routeyard catalog export")
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


@catalog.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--prune", is_flag=True, help="Delete what the file does not declare.")
@click.option("--dry-run", is_flag=True, help="Show the diff, change nothing.")
@click.option("--overwrite", is_flag=True, help="Overwrite operator edits (disabled flags).")
@_guard
def catalog_apply(file: str, prune: bool, dry_run: bool, overwrite: bool) -> None:
    """Make the database match a routeyard catalog file."""
    from routeyard.catalog.declarative import read_file

    store = _store(_settings())
    known = [p.slug for p in store.read_catalog().providers]
    parsed = read_file(file, known_providers=known)
    diff = store.apply_catalog(parsed, prune=prune, overwrite=overwrite, dry_run=dry_run,
                               source=f"routeyard:{file}")
    _print_diff(diff)
    if dry_run:
        click.echo("dry run: nothing was changed")


@catalog.command("import")
@click.option("--format", "fmt", required=True,
              type=click.Choice(["openrouter", "models-dev", "litellm", "routeyard"]),
              help="The format of every PATH (docs/importing.md).")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--model", "model_id", metavar="AUTHOR/SLUG",
              help="openrouter: the model of a bare endpoints array.")
@click.option("--aliases", type=click.Path(exists=True, dir_okay=False),
              help="models-dev, litellm: alias file (TOML) mapping ids to canonical models.")
@click.option("--via-openrouter", is_flag=True,
              help="openrouter: give each model of a /models body without an endpoints body "
                   "one endpoint served by OpenRouter itself.")
@click.option("--overwrite", is_flag=True,
              help="Replace operator-owned endpoints and operator edits (disabled flags).")
@click.option("--dry-run", is_flag=True, help="Show what would change, change nothing.")
@click.option("--max-size", "max_mib", type=click.IntRange(min=1), default=16, show_default=True,
              help="Refuse an input file (or its decompressed form) larger than this, in MiB.")
@click.option("--show-unmatched", is_flag=True, help="List every unmatched entry.")
@click.option("-v", "--verbose", is_flag=True, help="List every change, skipped entry and note.")
@_guard
def catalog_import(fmt: str, paths: tuple[str, ...], model_id: str | None, aliases: str | None,
                   via_openrouter: bool, overwrite: bool, dry_run: bool, max_mib: int,
                   show_unmatched: bool, verbose: bool) -> None:
    """Import catalog data from files, a folder or (models-dev) the word `bundled`."""
    from routeyard.catalog.loader import DelayedBar, Options, run_import, summary

    store = _store(_settings())
    options = Options(model_id=model_id, aliases=aliases, via_openrouter=via_openrouter,
                      overwrite=overwrite, dry_run=dry_run, max_bytes=max_mib * 1024 * 1024)
    progress = DelayedBar()
    try:
        outcome = run_import(store, fmt, list(paths), options, progress)
    finally:
        progress.close()
        store.dispose()
    for line in summary(fmt, outcome, show_unmatched=show_unmatched, verbose=verbose):
        click.echo(line)
    if dry_run:
        click.echo("dry run: nothing was changed")


@main.command()
@click.option("--once", is_flag=True, help="Run one round now and print it (required).")
@click.option("--kind", type=click.Choice(["all", "models", "completion"]), default="all",
              show_default=True,
              help="all: the completion probe where the provider opted in, else the models probe.")
@_guard
def probe(once: bool, kind: str) -> None:
    """Probe the catalog's endpoints once, record the outcomes and print a table."""
    import asyncio

    from routeyard.monitor.health import HealthService
    from routeyard.monitor.probes import ALL_KINDS, Kind, run_round

    if not once:
        raise click.UsageError("give --once (routeyard serve probes on a schedule)")
    settings = _settings()
    store = _store(settings)
    try:
        health = HealthService(store, settings.health(),
                               retention_margin=settings.health_retention_margin_minutes)
        results = asyncio.run(run_round(
            store.read_catalog(), health.record, timeout=settings.probe_timeout,
            concurrency=settings.probe_concurrency, max_tokens=settings.probe_max_tokens,
            kinds=ALL_KINDS if kind == "all" else {Kind(kind)}))
        recorded = health.flush()
    finally:
        store.dispose()
    _print_probes(results)
    click.echo(f"{len(results)} endpoints, {sum(r.outcome is not None for r in results)} probed; "
               f"{recorded} endpoint-minutes recorded")


def _print_probes(results: Any) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    def number(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    table = Table(box=box.SIMPLE_HEAD)
    for name in ("model", "tag", "kind", "result", "HTTP", "TTFT ms", "tok/s", "note"):
        table.add_column(name, justify="right" if name in ("HTTP", "TTFT ms", "tok/s") else "left")
    for r in results:
        o = r.outcome
        table.add_row(r.model_id, r.tag, str(r.kind), "skipped" if o is None else str(o.result),
                      "-" if o is None or o.http_status is None else str(o.http_status),
                      number(None if o is None else o.ttft_ms), number(r.throughput), r.note)
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@main.command("fake-provider")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8090, show_default=True, help="Port to listen on.")
@click.option("--fail-rate", type=float, help="Share of completions answered 500 (default 0).")
@click.option("--rate-limit-rate", type=float,
              help="Share of completions answered 429 (default 0).")
@click.option("--ttft-ms", type=float, help="Milliseconds before the first token (default 200).")
@click.option("--tokens-per-s", type=float, help="Tokens per second after it (default 50).")
@click.option("--output-tokens", type=int, help="Content tokens per answer (default 16).")
@click.option("--reasoning-tokens", type=int,
              help="Reasoning tokens before them, for reasoning models (default 8).")
@click.option("--model", "models", multiple=True, metavar="ID",
              help="A model to list (repeatable; default fake/chat, fake/reasoner, fake/small).")
@click.option("--api-key", help="Require this bearer key (default: none).")
@click.option("--seed", type=int, help="Seed of the outcome draws, for a reproducible run.")
def fake_provider(host: str, port: int, models: tuple[str, ...], **options: Any) -> None:
    """Run an OpenAI-compatible fake provider (change it live with POST /_control)."""
    from routeyard.fake_provider import FakeProviderConfig, run_fake_provider, validated

    changes = {k: v for k, v in options.items() if v is not None}
    if models:
        changes["models"] = list(models)
    try:
        config = validated(FakeProviderConfig(), **changes)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"fake provider: http://{host}:{port}/v1 (behaviour: GET/POST "
               f"http://{host}:{port}/_control)", err=True)
    run_fake_provider(host, port, config)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to serve on.")
@click.option("--database-url", metavar="URL",
              help="Use this database instead of a temporary one. Its providers are pointed "
                   "at the fake providers (their base URLs are changed, and not restored).")
@click.option("--duration", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Stop after this many seconds (default: run until Ctrl-C).")
@click.option("--rate", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="Routed requests per second (0: none, only the probes).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the fake providers' failures and of the traffic.")
@click.option("--probes/--no-probes", default=True, show_default=True,
              help="Probe every endpoint every 5 s (--no-probes: only the routed requests "
                   "feed the live fields).")
@_guard
def demo(host: str, port: int, database_url: str | None, duration: float | None, rate: float,
         seed: int, probes: bool) -> None:
    """Fake providers, a catalog pointed at them, routeyard serving it and a trickle of
    routed traffic: the status page and the live fields fill within a minute."""
    from routeyard import demo as demo_run

    if database_url:
        click.echo(f"routeyard demo: using {database_url}: its providers will point at the "
                   "demo's fake providers", err=True)
    elif os.environ.get("ROUTEYARD_DATABASE_URL"):
        click.echo("routeyard demo: ROUTEYARD_DATABASE_URL is not used; the demo has a "
                   "temporary database of its own (--database-url to choose one)", err=True)
    outcomes = demo_run.run(host=host, port=port, database_url=database_url,
                            duration=duration, rate=rate, seed=seed,
                            echo=click.echo, probes=probes)
    click.echo("routed requests: " + (", ".join(
        f"{n} x {what}" for what, n in sorted(outcomes.items())) or "none"))


if __name__ == "__main__":  # pragma: no cover
    main()
