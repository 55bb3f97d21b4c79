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


def kind(value: object) -> str:
    """A JSON type name for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


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
