"""Combine imports with each other and with the database's catalog (pure).

The precedence rules (docs/importing.md, "Precedence"):

- Within one import, a later PATH (or a later file of a folder, by name) wins; every
  price or limit two files disagree on is reported.
- Across imports, the newest import wins (and a price or limit that another kind of
  source stated differently is reported), except over an endpoint whose source is
  operator-owned (``routeyard:…``, from ``catalog apply``/``--format routeyard``, or
  ``admin…``, from the admin API): that one is kept, and the disagreement reported,
  unless ``overwrite``.
- openrouter imports own what they state: model and provider metadata and whole
  endpoints, in their order. models-dev and LiteLLM imports only fill in metadata for
  the models and providers they create; on an existing endpoint they update prices,
  limits and the provider's model id and keep everything else; new endpoints go last.
  Such an import's ``provider`` endpoint updates the model's one existing endpoint of
  that provider whatever its variant tag (``deepinfra`` -> ``deepinfra/fp8``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from routeyard import ids
from routeyard.catalog.declarative import endpoint_dict, model_dict, provider_dict
from routeyard.catalog.importers.common import LIMIT_FIELDS, Imported, Json
from routeyard.errors import CatalogError
from routeyard.models import Catalog, Endpoint

OPERATOR_PREFIXES = ("routeyard:", "admin")
# What a models-dev or LiteLLM import changes on an endpoint that already exists.
UPDATED_FIELDS = (*LIMIT_FIELDS, "provider_model_id")
MODEL_DEFAULTS: Json = {"name": None, "created": 0}


def is_operator_owned(source: str | None) -> bool:
    return source is not None and source.startswith(OPERATOR_PREFIXES)


class Disagreement(msgspec.Struct, frozen=True, kw_only=True):
    """Two sources state different values for one price or limit of one endpoint."""

    endpoint: str
    field: str
    kept: str
    kept_source: str
    other: str
    other_source: str
    rule: str

    def __str__(self) -> str:
        return (f"{self.endpoint}: {self.field} {self.kept} ({self.kept_source}) over "
                f"{self.other} ({self.other_source}): {self.rule}")


class Plan(msgspec.Struct, kw_only=True):
    """The catalog dict to validate and apply, and what was found on the way."""

    catalog: Json
    disagreements: list[Disagreement]
    unmatched: list[str]
    skipped: list[tuple[str, str]]
    notes: list[str]


def _number(value: Any) -> Decimal:
    return Decimal(str(value))


def differences(a: Json, b: Json) -> list[tuple[str, str, str]]:
    """``(field, a's value, b's value)`` for each price or limit both state differently."""
    out = []
    for field in LIMIT_FIELDS:
        if a.get(field) is not None and b.get(field) is not None and a[field] != b[field]:
            out.append((field, str(a[field]), str(b[field])))
    pa, pb = a.get("pricing") or {}, b.get("pricing") or {}
    for key in sorted(set(pa) & set(pb)):
        if pa[key] is not None and pb[key] is not None and _number(pa[key]) != _number(pb[key]):
            out.append((f"pricing.{key}", str(pa[key]), str(pb[key])))
    return out


def _merge(base: list[Json], incoming: list[Json], *, ordered: bool,
           choose: Callable[[Json, Json], Json]) -> list[Json]:
    """Endpoints by tag: ``choose(old, new)`` on a clash; ``ordered`` puts ``incoming``'s
    order first, otherwise new endpoints go after the existing ones."""
    by_tag = {e["tag"]: e for e in base}
    chosen: dict[str, Json] = {}
    for e in incoming:
        old = by_tag.get(e["tag"])
        chosen[e["tag"]] = e if old is None else choose(old, e)
    if ordered:
        return list(chosen.values()) + [e for e in base if e["tag"] not in chosen]
    return [chosen.pop(e["tag"], e) for e in base] + list(chosen.values())


class _Planner:
    def __init__(self, existing: Catalog, overwrite: bool) -> None:
        self.overwrite = overwrite
        self.disagreements: list[Disagreement] = []
        self.providers = {p.slug: p for p in existing.providers}
        self.models = {m.id.lower(): m for m in existing.models}

    def report(self, model_id: str, kept: Json, other: Json, rule: str) -> None:
        for field, kept_value, other_value in differences(kept, other):
            self.disagreements.append(Disagreement(
                endpoint=f"{model_id} {kept['tag']}", field=field, kept=kept_value,
                kept_source=kept.get("source") or "?", other=other_value,
                other_source=other.get("source") or "?", rule=rule))

    def later_file(self, model_id: str) -> Callable[[Json, Json], Json]:
        def choose(old: Json, new: Json) -> Json:
            self.report(model_id, new, old, "the later file wins")
            return new
        return choose

    def against_database(self, model_id: str, owns: bool) -> Callable[[Json, Json], Json]:
        def choose(old: Json, new: Json) -> Json:
            if is_operator_owned(old.get("source")) and not self.overwrite:
                self.report(model_id, old, new, "operator-owned, kept (--overwrite replaces it)")
                return old
            if _format(old.get("source")) != _format(new.get("source")):
                self.report(model_id, new, old, "the newest import wins")
            if owns:
                return new
            updated = {**old, **{k: new[k] for k in UPDATED_FIELDS if new.get(k) is not None}}
            updated["pricing"] = {**old["pricing"], **new["pricing"]}
            updated["source"] = new.get("source")
            updated["imported_at"] = None
            return updated
        return choose


def _format(source: str | None) -> str:
    """The kind of a source (``openrouter``, ``models-dev``…): its text before ``:``."""
    return (source or "").split(":", 1)[0]


def _existing_endpoint(e: Endpoint) -> Json:
    return {**endpoint_dict(e), "source": e.source, "imported_at": e.imported_at}


def plan(imports: list[Imported], existing: Catalog, *, overwrite: bool = False) -> Plan:
    """Everything ``imports`` (in PATH order) change, merged with ``existing``."""
    p = _Planner(existing, overwrite)
    notes: list[str] = [n for i in imports for n in i.notes]
    owns = any(i.owns_metadata for i in imports)
    ordered = any(i.ordered for i in imports)
    # 1. Within the import: later files win.
    providers: dict[str, Json] = {}
    models: dict[str, Json] = {}
    fallback: dict[str, Json] = {}
    for imp in imports:
        for prov in imp.providers:
            old_prov = providers.get(prov["slug"])
            if old_prov is not None and old_prov.get("name") != prov.get("name"):
                notes.append(f"provider {prov['slug']}: name {prov.get('name')!r} ({imp.source}) "
                             f"replaces {old_prov.get('name')!r}")
            providers[prov["slug"]] = {**(old_prov or {}), **prov}
        for facts in imp.models:
            key = facts["id"].lower()
            current = models.setdefault(key, {"id": facts["id"], "endpoints": []})
            for field, value in facts.items():
                if field not in ("id", "endpoints") and current.get(field, value) != value:
                    notes.append(f"model {facts['id']}: {field} from {imp.source} "
                                 "replaces an earlier file's")
            eps = _merge(current["endpoints"], facts["endpoints"], ordered=imp.ordered,
                         choose=p.later_file(facts["id"]))
            current.update(facts)
            current["endpoints"] = eps
        for model_id, ep in imp.fallback.items():
            fallback[model_id.lower()] = ep
    # 2. Against the database.
    out_providers = []
    for slug, prov in providers.items():
        old = p.providers.get(slug)
        if old is None:
            out_providers.append(prov)
        else:
            out_providers.append({**provider_dict(old), **prov} if owns else provider_dict(old))
    out_models = []
    for key, facts in models.items():
        old_model = p.models.get(key)
        if old_model is None:
            base = {**MODEL_DEFAULTS, "id": facts["id"]}
            base.update(facts)
            base["name"] = base["name"] or facts["id"]
            base["created"] = base["created"] or 0
            old_eps: list[Json] = []
        else:
            base = model_dict(old_model)
            old_eps = [_existing_endpoint(e) for e in old_model.endpoints]
            if owns:
                base.update({k: v for k, v in facts.items() if k not in ("id", "endpoints")
                             and not (v is None and k in MODEL_DEFAULTS)})
        model_id = base["id"]
        incoming = facts["endpoints"] if owns else [_retag(e, old_eps) for e in facts["endpoints"]]
        eps = _merge(old_eps, incoming, ordered=ordered, choose=p.against_database(model_id, owns))
        if not facts["endpoints"] and key in fallback:
            eps = _merge(eps, [fallback[key]], ordered=False,
                         choose=p.against_database(model_id, owns))
        base["endpoints"] = eps
        out_models.append(base)
    return Plan(
        catalog={"providers": out_providers, "models": out_models},
        disagreements=p.disagreements,
        unmatched=[u for i in imports for u in i.unmatched],
        skipped=[s for i in imports for s in i.skipped],
        notes=notes,
    )


def _retag(e: Json, old_eps: list[Json]) -> Json:
    """A variant-less endpoint of a source that knows no variants takes the tag of the
    model's one existing endpoint of the same provider."""
    if "/" in e["tag"] or any(o["tag"] == e["tag"] for o in old_eps):
        return e
    same = [o for o in old_eps if ids.tag_base(o["tag"]) == e["tag"]]
    return {**e, "tag": same[0]["tag"]} if len(same) == 1 else e


_INDEX = re.compile(r"(models|providers)\[(\d+)\]")


def explain(error: CatalogError, catalog: Json) -> CatalogError:
    """A merged catalog's problems with ``models[3]`` named: ``model qwen/…``."""
    def name(match: re.Match[str]) -> str:
        items = catalog.get(match[1]) or []
        i = int(match[2])
        if i < len(items):
            item = items[i]
            if match[1] == "models":
                return f"model {item.get('id')}"
            return f"provider {item.get('slug')}"
        return match[0]
    return CatalogError([(_INDEX.sub(name, where), what) for where, what in error.problems])
