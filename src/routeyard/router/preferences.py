"""OpenRouter's routing fields of a chat request, as msgspec Structs (pure).

The ``provider`` object (every field OpenRouter's spec lists; any other is refused, 400) and
the chat request around it. Only what routing reads, or what must have the right type before
anything is sent upstream, is typed here; other OpenAI parameters pass through as they are.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from routeyard.keys import KeyRecord
from routeyard.preferences import NONE

Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Price = Decimal  # non-negative: checked by MaxPrice.__post_init__
Penalty = Annotated[float, msgspec.Meta(ge=-2, le=2)]

#: Request parameters that ``require_parameters`` checks against an endpoint's
#: ``supported_parameters`` (OpenRouter's parameter names).
PARAMETERS: frozenset[str] = frozenset({
    "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "min_p", "top_a",
    "frequency_penalty", "presence_penalty", "repetition_penalty", "seed", "stop", "tools",
    "tool_choice", "parallel_tool_calls", "response_format", "structured_outputs",
    "reasoning", "include_reasoning", "logprobs", "top_logprobs", "logit_bias",
    "web_search_options", "verbosity",
})


class MaxPrice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """USD per million tokens (``prompt``, ``completion``, ``audio``), per request
    (``request``), per image (``image``). Numbers or decimal strings."""

    prompt: Price | None = None
    completion: Price | None = None
    request: Price | None = None
    image: Price | None = None
    audio: Price | None = None

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if value is not None and (not value.is_finite() or value < 0):
                raise ValueError(f"max_price.{name} must be a non-negative number")


class ProviderPreferences(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """OpenRouter's ``provider`` object. ``None``: not given (the default applies)."""

    allow_fallbacks: bool | None = None
    require_parameters: bool | None = None
    data_collection: Literal["allow", "deny"] | None = None
    zdr: bool | None = None
    order: list[Slug] | None = None
    only: list[Slug] | None = None
    ignore: list[Slug] | None = None
    quantizations: list[str] | None = None
    sort: Literal["price", "throughput", "latency"] | None = None
    max_price: MaxPrice | None = None
    experimental: dict[str, Any] | None = None

    def over(self, defaults: ProviderPreferences | None) -> ProviderPreferences:
        """These preferences with what they leave unset taken from ``defaults`` (a key's
        stored preferences). ``ignore`` lists add up, as OpenRouter merges the request's
        with the account's."""
        if defaults is None:
            return self
        fields = {f: getattr(self, f) for f in self.__struct_fields__}
        for name, value in fields.items():
            if value is None:
                fields[name] = getattr(defaults, name)
        if self.ignore is not None and defaults.ignore:
            fields["ignore"] = [*defaults.ignore, *(s for s in self.ignore
                                                    if s not in defaults.ignore)]
        return ProviderPreferences(**fields)


NO_PREFERENCES = ProviderPreferences()


class Message(msgspec.Struct, frozen=True, kw_only=True):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The typed part of a chat completions (or plan) request. Unknown top-level fields are
    allowed (OpenAI adds parameters often); they pass through to the provider."""

    messages: Annotated[list[Message], msgspec.Meta(min_length=1)]
    model: Slug | None = None
    models: Annotated[list[Slug], msgspec.Meta(max_length=16)] | None = None
    provider: ProviderPreferences | None = None
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    max_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    max_completion_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    frequency_penalty: Penalty | None = None
    presence_penalty: Penalty | None = None
    seed: int | None = None
    stop: str | Annotated[list[str], msgspec.Meta(max_length=4)] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    reasoning: dict[str, Any] | None = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int, msgspec.Meta(ge=0, le=20)] | None = None
    logit_bias: dict[str, float] | None = None
    user: str | None = None

    def chain(self) -> list[str]:
        """The models to try, in order: ``model`` then each of ``models`` not already in."""
        out: list[str] = []
        for m in [*([self.model] if self.model else []), *(self.models or [])]:
            if m not in out:
                out.append(m)
        return out


#: Fields of the request that are routeyard's (OpenRouter's) and never sent upstream.
ROUTING_FIELDS: frozenset[str] = frozenset({
    "models", "provider", "route", "transforms", "plugins", "usage", "debug",
})


def used_parameters(body: dict[str, Any]) -> frozenset[str]:
    """The parameters a request body uses (present and not null), for
    ``require_parameters``. ``response_format`` of type ``json_schema`` also needs
    ``structured_outputs``."""
    used = {k for k, v in body.items() if v is not None and k in PARAMETERS}
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        used.add("structured_outputs")
        used.discard("response_format")
    return frozenset(used)


def key_defaults(key: KeyRecord) -> ProviderPreferences | None:
    """A key's stored provider preferences (``routeyard keys update``, docs/api.md) as the
    defaults of every request it makes; ``None`` when it stores none."""
    p = key.preferences
    if p == NONE:
        return None
    return ProviderPreferences(
        ignore=list(p.ignore) or None,
        quantizations=list(p.quantizations) or None,
        data_collection="deny" if p.data_collection == "deny" else None,
        zdr=True if p.zdr else None,
    )
