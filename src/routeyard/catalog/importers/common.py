"""What every importer shares: the result type, JSON paths, exact prices, dates."""

from __future__ import annotations

import calendar
import re
from decimal import Decimal
from typing import Any

import msgspec

from routeyard.catalog.schema import Checker, decimal_in_range
from routeyard.prices import PriceError, parse_price, per_million_to_per_token

Json = dict[str, Any]

# A price written with more significant digits than this is not a published price but a
# binary-float artefact (0.049999999999999996) or a currency conversion (8/7 = 1.142857…):
# such an entry is skipped and reported, never served.
MAX_SIGNIFICANT_DIGITS = 12

# The price and limit fields compared when two sources describe the same endpoint.
LIMIT_FIELDS = ("context_length", "max_completion_tokens", "max_prompt_tokens")


class Imported(msgspec.Struct, kw_only=True):
    """One source turned into catalog-shaped dicts.

    ``models`` holds model dicts with only the metadata keys the source states (a key
    present with ``None`` states "null") plus ``endpoints``; :mod:`.merge` fills the rest
    from the database or the documented defaults. ``fallback`` maps a model id to one
    endpoint that is used only when no other part of the import gives that model any.
    """

    source: str
    providers: list[Json] = msgspec.field(default_factory=list)
    models: list[Json] = msgspec.field(default_factory=list)
    fallback: dict[str, Json] = msgspec.field(default_factory=dict)
    # Owns metadata (openrouter): its model/provider fields override the database's.
    # Otherwise (models-dev, litellm) metadata only fills models and providers it creates.
    owns_metadata: bool = False
    # Its endpoint order is meaningful (openrouter) and is kept; otherwise new endpoints
    # are appended after a model's existing ones.
    ordered: bool = False
    unmatched: list[str] = msgspec.field(default_factory=list)
    skipped: list[tuple[str, str]] = msgspec.field(default_factory=list)
    notes: list[str] = msgspec.field(default_factory=list)


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def at(path: str, key: str | int) -> str:
    """The JSON path of ``key`` under ``path``: ``data.endpoints[2]``, ``x["a/b"]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENT.fullmatch(key):
        return f"{path}.{key}" if path else key
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{path}["{escaped}"]'


# Parsed JSON's Python types and their JSON names, bool before int (a bool is an int).
_KINDS: tuple[tuple[type, str], ...] = (
    (type(None), "null"), (bool, "boolean"), (int, "integer"), (Decimal, "number"),
    (str, "string"), (list, "array"), (dict, "object"),
)


def kind(value: object) -> str:
    """A JSON type name for messages."""
    return next((name for t, name in _KINDS if isinstance(value, t)), type(value).__name__)


def expect_object(c: Checker, value: object, path: str) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    c.fail(path, f"expected an object, got {kind(value)}")
    return None


def price(c: Checker, raw: object, path: str, *, per_million: bool = False) -> str | None:
    """``raw`` (a JSON number or decimal string) as an exact per-unit decimal string.

    ``per_million`` converts USD per million tokens to USD per token. Records a problem
    and returns None for anything that is not a finite non-negative decimal.
    """
    if isinstance(raw, bool) or not isinstance(raw, (int, Decimal, str)):
        c.fail(path, f"expected a price (a number), got {kind(raw)}")
        return None
    if not decimal_in_range(raw) or (isinstance(raw, int) and raw > 10**20):
        c.fail(path, f"price out of range: {raw}")
        return None
    try:
        text = parse_price(raw)
    except PriceError as exc:
        c.fail(path, str(exc))
        return None
    return per_million_to_per_token(Decimal(text)) if per_million else text


def is_artefact(raw: object) -> bool:
    """True for a JSON number with more significant digits than a published price has."""
    if not isinstance(raw, Decimal) or not raw.is_finite():
        return False
    return len(raw.normalize().as_tuple().digits) > MAX_SIGNIFICANT_DIGITS


def count(c: Checker, raw: object, path: str) -> int | None:
    """A non-negative integer (token counts), or None after recording a problem."""
    if isinstance(raw, bool) or not isinstance(raw, int):
        c.fail(path, f"expected a non-negative integer, got {kind(raw)}")
        return None
    if raw < 0:
        c.fail(path, f"must be non-negative, got {raw}")
        return None
    return raw


_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2}))?(?:-([0-9]{2}))?")


def date_to_unix(text: str) -> int | None:
    """``YYYY-MM-DD`` (or ``YYYY-MM``, ``YYYY``: the first day) as unix seconds, UTC midnight."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day = int(match[1]), int(match[2] or 1), int(match[3] or 1)
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    return calendar.timegm((year, month, day, 0, 0, 0))


def modality(inputs: list[str], outputs: list[str]) -> str:
    """OpenRouter's ``modality`` string: ``text+image->text`` (files are not listed)."""
    def ordered(names: list[str]) -> str:
        rank = {name: i for i, name in enumerate(("text", "image", "audio", "video"))}
        shown = dict.fromkeys(n for n in names if n != "file")
        chosen = sorted(shown, key=lambda n: rank.get(n, 9))
        return "+".join(chosen or ["text"])

    return f"{ordered(inputs)}->{ordered(outputs)}"


# -- what models-dev and litellm entries share -------------------------------------------

# How an entry was matched to its model, best first: of two entries of one provider for
# the same model and tag, the better match is kept.
RANK = {"alias": 0, "exact": 1, "tokens": 2, "loose": 3}


def costs(c: Checker, source: dict[str, Any] | None, path: str, names: dict[str, str], *,
          per_million: bool = False) -> tuple[Json, bool]:
    """The prices ``source`` states under ``names`` (its key -> the catalog's price key),
    and whether one of them is a float artefact (:func:`is_artefact`)."""
    pricing: Json = {}
    artefact = False
    for name, field in names.items():
        if source is not None and source.get(name) is not None:
            artefact = artefact or is_artefact(source[name])
            pricing[field] = price(c, source[name], at(path, name), per_million=per_million)
    return pricing, artefact


def parameters(c: Checker, m: dict[str, Any], path: str,
               flags: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
    """``max_tokens`` plus the OpenRouter parameters each true flag of ``m`` implies; a flag
    that is not a boolean is a problem."""
    params = ["max_tokens"]
    for flag, names in flags:
        if m.get(flag) is not None and not isinstance(m[flag], bool):
            c.fail(at(path, flag), f"expected a boolean, got {kind(m[flag])}")
        elif m.get(flag) is True:
            params.extend(names)
    return params


def unusable(pricing: Json, context: int | None, artefact: bool) -> str | None:
    """Why an entry with these prices and context length is skipped, or None."""
    if "prompt" not in pricing or "completion" not in pricing:
        return "no input and output cost"
    if not context:
        return "no context length"
    if artefact:
        return "a price with more than 12 significant digits (float artefact)"
    return None


class Choice:
    """One endpoint per model and tag: where two entries give the same, the better match."""

    def __init__(self, skipped: list[tuple[str, str]]) -> None:
        self.skipped = skipped
        self.chosen: dict[tuple[str, str], tuple[int, str, Json]] = {}

    def offer(self, target: str, how: str, where: str, ep: Json) -> bool:
        """Keep ``ep`` (of entry ``where``, matched ``how``) unless a better one is kept."""
        slot = (target.lower(), ep["tag"])
        previous = self.chosen.get(slot)
        if previous is not None and previous[0] <= RANK[how]:
            self.skipped.append((where, f"same model and tag as {previous[1]}"))
            return False
        if previous is not None:
            self.skipped.append((previous[1], f"same model and tag as {where}"))
        self.chosen[slot] = (RANK[how], where, ep)
        return True

    def models(self, facts: dict[str, Json]) -> list[Json]:
        """The models of ``facts`` (lower-case id -> model dict) that got an endpoint, each
        with its endpoints."""
        for (model_key, _tag), (_rank, _where, ep) in self.chosen.items():
            facts[model_key]["endpoints"].append(ep)
        return [f for f in facts.values() if f["endpoints"]]
