"""A key's provider preferences (pure): what ``GET /api/v1/models/user`` filters by, and the
defaults the router gives the ``provider`` object of every request made with the key.

The names are those of OpenRouter's request ``provider`` object: ``ignore`` (provider slugs;
a tag's base slug matches all its variants), ``quantizations`` (allowed; empty: any),
``data_collection`` (``deny``: only endpoints known not to train on prompts) and ``zdr``
(only zero-data-retention endpoints), both read from the catalog's data policy
(:meth:`routeyard.models.Endpoint.policy`). Stored per key (``api_keys.preferences``), set
with ``routeyard keys create/update`` or the admin API (docs/api.md, "Key preferences").
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from routeyard import ids
from routeyard.models import QUANTIZATIONS, Endpoint, Provider, named

DataCollection = Literal["allow", "deny"]
MAX_ITEMS = 200


class KeyPreferences(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A key's provider preferences: what `/models/user` filters by and the defaults of the
    key's requests."""

    # The limits are checked by problems() (their messages), not by the decoder.
    ignore: Annotated[tuple[str, ...], Meta(
        description="Provider slugs this key's requests never use (a tag's base slug "
        "matches its variants).", extra_json_schema={"maxItems": MAX_ITEMS})] = ()
    quantizations: Annotated[tuple[Annotated[str, named("Quantization")], ...], Meta(
        description="Allowed quantizations; empty: any.")] = ()
    data_collection: Annotated[DataCollection, Meta(
        description="`deny`: only endpoints whose data policy says they do not train on "
        "prompts.")] = "allow"
    zdr: Annotated[bool, Meta(description="Only zero-data-retention endpoints.")] = False


NONE = KeyPreferences()
_decoder = msgspec.json.Decoder(KeyPreferences)


def problems(prefs: KeyPreferences) -> list[tuple[str, str]]:
    """(field, message) for each value that is not allowed; empty when all are."""
    out: list[tuple[str, str]] = []
    if len(prefs.ignore) > MAX_ITEMS:
        out.append(("ignore", f"at most {MAX_ITEMS} providers"))
    for i, slug in enumerate(prefs.ignore):
        if not ids.is_provider_slug(slug):
            out.append((f"ignore[{i}]", "not a provider slug"))
    for i, q in enumerate(prefs.quantizations):
        if q not in QUANTIZATIONS:
            out.append((f"quantizations[{i}]",
                        "expected one of " + ", ".join(sorted(QUANTIZATIONS))))
    return out


def normalized(prefs: KeyPreferences) -> KeyPreferences:
    """The same preferences with lists lower-cased, deduplicated and in first-seen order."""
    return msgspec.structs.replace(
        prefs,
        ignore=tuple(dict.fromkeys(s.lower() for s in prefs.ignore)),
        quantizations=tuple(dict.fromkeys(q.lower() for q in prefs.quantizations)),
    )


def encode(prefs: KeyPreferences) -> str | None:
    """The stored form; None for no preference at all."""
    if prefs == NONE:
        return None
    return msgspec.json.encode(prefs).decode()


def decode(stored: str | None) -> KeyPreferences:
    return NONE if not stored else _decoder.decode(stored)


def to_wire(prefs: KeyPreferences) -> dict[str, Any]:
    """Every field, lists as lists (a JSON merge patch applies to them)."""
    return {name: list(value) if isinstance(value, tuple) else value
            for name, value in msgspec.to_builtins(prefs).items()}


def endpoint_allowed(prefs: KeyPreferences, endpoint: Endpoint, provider: Provider | None
                     ) -> bool:
    """Whether requests made with these preferences may use ``endpoint`` of ``provider``
    (enabled or not: the caller checks that)."""
    if prefs.ignore and (endpoint.provider.lower() in prefs.ignore
                         or ids.tag_base(endpoint.tag).lower() in prefs.ignore):
        return False
    if prefs.quantizations:
        q = (endpoint.quantization or "unknown").lower()
        if q not in prefs.quantizations:
            return False
    if prefs.data_collection == "deny" or prefs.zdr:
        policy = endpoint.policy(provider)
        if prefs.data_collection == "deny" and policy.training is not False:
            return False
        if prefs.zdr and not policy.is_zdr:
            return False
    return True
