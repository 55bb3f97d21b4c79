"""One typed record per routed request, handed to the app's sink at its end (for
accounting, issue 18). Never holds the prompt, the answer or a provider key."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import msgspec


class AttemptRecord(msgspec.Struct, frozen=True, kw_only=True):
    model_id: str
    provider: str
    tag: str
    result: str  # an outcome result, or "cancelled"
    http_status: int | None
    reason: str  # short, secrets stripped; "" on success
    duration_ms: float
    ttft_ms: float | None = None


class RoutedRequest(msgspec.Struct, frozen=True, kw_only=True):
    generation_id: str
    key_id: int | None
    model: str  # the model asked for (first of the chain)
    model_used: str | None  # the model of the endpoint that answered
    provider: str | None  # provider slug of the endpoint that answered
    tag: str | None  # its tag
    attempts: tuple[AttemptRecord, ...]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0
    cost: Decimal = Decimal(0)
    ttft_ms: float | None = None  # from sending: to the first token (stream), else the last byte
    generation_ms: float | None = None
    finish_reason: str | None = None
    streamed: bool = False
    cancelled: bool = False
    status: int = 200  # the HTTP status the caller got
    created: int = 0  # unix seconds


#: Where records go: the app's ``Runtime.route_sink`` (default: nowhere). Called on the
#: serving loop; it must not block (queue the record and write it elsewhere).
RouteSink = Callable[[RoutedRequest], None]
