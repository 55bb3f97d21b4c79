"""Validators on junk input: they name the problems and never raise anything else.

``routeyard.catalog.schema.check_catalog`` answers a CatalogError or a valid Catalog (every
importer and the admin API rely on it); ``routeyard.health.ingest.parse_batch`` answers
outcomes or problems (``POST /api/v1/admin/outcomes`` relies on it)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routeyard.catalog.schema import (
    ENDPOINT_KEYS,
    MODEL_KEYS,
    PRICE_KEYS,
    PROVIDER_KEYS,
    check_catalog,
)
from routeyard.errors import CatalogError
from routeyard.health.ingest import ITEM_KEYS, parse_batch
from routeyard.models import Catalog

# JSON as the importers see it: floats parsed as Decimal (extreme exponents included), and
# integers of any size.
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("1e999999999"), Decimal("-0"), Decimal("1E-30")]),
    st.text(max_size=12),
    st.sampled_from(["", "0", "0.000001", "-1", "1e-7", "deepinfra", "deepinfra/fp8", "a/b",
                     "qwen/qwen3-32b", "text", "temperature", "fp8", "flex", "https://x.y",
                     "\x00", "\ud800"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12,
)


def record(keys: set[str], **extra: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A dict with some of ``keys`` (junk values, or ``extra``'s) and now and then a stranger."""
    fields = {k: extra.get(k, json_values) for k in sorted(keys)}
    shaped = st.fixed_dictionaries({}, optional={**fields, "bogus": json_values})
    return shaped | json_values


pricing = record(PRICE_KEYS, **{k: scalars for k in PRICE_KEYS})
endpoint = record(ENDPOINT_KEYS, pricing=pricing, provider=st.sampled_from(["p", "q", "", "P"]))
model = record(MODEL_KEYS, endpoints=st.lists(endpoint, max_size=3) | json_values,
               id=st.sampled_from(["a/b", "A/B", "a/b:free", "a", ""]) | st.text(max_size=8))
provider = record(PROVIDER_KEYS, slug=st.sampled_from(["p", "q", "P", ""]) | st.text(max_size=6))
catalogs = st.one_of(
    st.fixed_dictionaries({}, optional={
        "providers": st.lists(provider, max_size=3) | json_values,
        "models": st.lists(model, max_size=3) | json_values,
        "extra": json_values,
    }),
    st.dictionaries(st.text(max_size=8), json_values, max_size=3),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(catalogs, st.booleans())
def test_junk_is_refused_with_a_catalog_error_and_nothing_else(
    data: dict[str, Any], strict_top_level: bool
) -> None:
    try:
        catalog = check_catalog(data, "junk", top_level=set() if strict_top_level else None)
    except CatalogError as exc:
        assert exc.problems, "a CatalogError names at least one problem"
        for where, what in exc.problems:
            assert isinstance(where, str) and isinstance(what, str) and what
        return
    assert isinstance(catalog, Catalog)


@given(st.lists(st.sampled_from(["p", "q"]), min_size=1, max_size=3, unique=True),
       st.lists(st.sampled_from(["a/b", "a/c", "d/e"]), max_size=3, unique=True))
def test_well_formed_catalogs_pass(slugs: list[str], model_ids: list[str]) -> None:
    data = {
        "providers": [{"slug": s, "name": s.upper()} for s in slugs],
        "models": [{"id": m, "name": m, "created": 1, "endpoints": [
            {"provider": s, "context_length": 1000,
             "pricing": {"prompt": "0.000001", "completion": "0"}} for s in slugs]}
            for m in model_ids],
    }
    catalog = check_catalog(data, "good")
    assert [p.slug for p in catalog.providers] == slugs
    assert [m.id for m in catalog.models] == model_ids


NOW = 1_800_000_000.0
outcome_items = record(set(ITEM_KEYS), model_id=st.sampled_from(["a/b", "A/B", "x/y"]) | scalars,
                       tag=st.sampled_from(["p", "p/v", "q"]) | scalars,
                       at=st.floats(NOW - 90_000, NOW + 120) | scalars,
                       result=st.sampled_from(["success", "timeout", "bogus"]) | json_values,
                       http_status=st.integers(0, 700) | scalars)
batches = st.fixed_dictionaries({"outcomes": st.lists(outcome_items, max_size=4)}) | json_values


def _resolve(model_id: str, tag: str) -> tuple[str, str] | str:
    known = model_id.lower() == "a/b" and tag in ("p", "p/v")
    return ("a/b", tag) if known else f"unknown {model_id!r} {tag!r}"


@settings(max_examples=300)
@given(batches)
def test_junk_outcome_batches_are_refused_by_name_and_nothing_else(body: Any) -> None:
    outcomes, problems = parse_batch(body, _resolve, now=NOW, oldest=NOW - 86_400)
    if problems:  # the whole batch is refused, each problem where it is
        assert outcomes == []
        assert all(isinstance(where, str) and what for where, what in problems)
        return
    assert len(outcomes) == len(body["outcomes"])  # accepted means every item was recorded
    for outcome in outcomes:
        assert outcome.model_id == "a/b" and NOW - 86_400 <= outcome.at <= NOW + 60


def test_a_signalling_nan_default_parameter_is_a_catalog_error() -> None:
    """Found by the property above: ``Decimal("sNaN")`` (JSON read with parse_float=Decimal
    cannot make one, but a TOML or Python caller can) raised ValueError from ``math.isfinite``."""
    data = {"providers": [{"slug": "p", "name": "P"}], "models": [{
        "id": "a/b", "name": "B", "created": 1, "endpoints": [{
            "provider": "p", "context_length": 1, "pricing": {"prompt": "0", "completion": "0"},
        }], "default_parameters": {"temperature": Decimal("sNaN")}}]}
    try:
        check_catalog(data, "x")
    except CatalogError as exc:
        assert any(where.endswith("default_parameters.temperature") for where, _ in exc.problems)
    else:
        raise AssertionError("an sNaN was accepted")
