"""Validating a batch of outcomes reported by another gateway (pure).

A batch is ``{"outcomes": [item, ...]}``; every item is checked and the batch is refused
whole, naming each bad item, if any is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

import msgspec

from routeyard.health.outcomes import Outcome, Result, Source, result_for_status

MAX_BATCH = 10_000
FUTURE_SLACK_SECONDS = 60.0
MAX_INT = 2**53  # past it a JSON number is not exact as a float
ITEM_KEYS = frozenset({"model_id", "tag", "at", "result", "http_status", "ttft_ms",
                       "output_tokens", "generation_ms", "source"})
RESULTS = {r.value: r for r in Result}
SOURCES = {s.value: s for s in Source}

# resolve(model_id, tag) -> (canonical model id, tag) or an error message
Resolver = Callable[[str, str], "tuple[str, str] | str"]


def _number(item: dict[str, Any], key: str, where: str, problems: list[tuple[str, str]],
            *, integer: bool = False) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    kind = type(value)  # the usual case first: a number in range, of the kind expected
    if (kind is int and 0 <= value <= MAX_INT) or (
            kind is float and not integer and 0.0 <= value < math.inf):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        problems.append((f"{where}.{key}", f"expected {'an integer' if integer else 'a number'}"))
        return None
    # JSON integers have no bound: a huge one is refused before float() overflows on it.
    if (isinstance(value, int) and value > MAX_INT) or not math.isfinite(value) or value < 0:
        problems.append((f"{where}.{key}", "must be a finite non-negative number"))
        return None
    return float(value)


def parse_batch(body: Any, resolve: Resolver, *, now: float, oldest: float,
                max_batch: int = MAX_BATCH) -> tuple[list[Outcome], list[tuple[str, str]]]:
    """The batch's outcomes, or the problems found (then no outcome is returned)."""
    problems: list[tuple[str, str]] = []
    if not isinstance(body, dict) or not isinstance(body.get("outcomes"), list):
        return [], [("body", 'expected {"outcomes": [...]}')]
    items = body["outcomes"]
    if not items:
        return [], [("outcomes", "is empty")]
    if len(items) > max_batch:
        return [], [("outcomes", f"at most {max_batch} outcomes per batch, got {len(items)}")]
    out: list[Outcome] = []
    for i, item in enumerate(items):
        where = f"outcomes[{i}]"
        if not isinstance(item, dict):
            problems.append((where, "expected an object"))
            continue
        before = len(problems)
        if not ITEM_KEYS.issuperset(item):
            for key in sorted(set(item) - ITEM_KEYS):
                problems.append((f"{where}.{key}", "unknown field"))
        model_id, tag = item.get("model_id"), item.get("tag")
        resolved: tuple[str, str] | None = None
        if not isinstance(model_id, str) or not isinstance(tag, str):
            problems.append((where, "model_id and tag are required strings"))
        else:
            found = resolve(model_id, tag)
            if isinstance(found, str):
                problems.append((where, found))
            else:
                resolved = found
        at = _number(item, "at", where, problems)
        if item.get("at") is None:  # absent or null: now
            at = now
        elif at is not None and not (oldest <= at <= now + FUTURE_SLACK_SECONDS):
            problems.append((f"{where}.at", "outside the kept window (the last day) or in the future"))
        status = _number(item, "http_status", where, problems, integer=True)
        if status is not None and not 100 <= status <= 599:
            problems.append((f"{where}.http_status", "must be an HTTP status (100-599)"))
            status = None
        raw_result = item.get("result")
        result: Result | None = None
        if raw_result is None:
            if status is None:
                problems.append((where, "result or http_status is required"))
            else:
                result = result_for_status(int(status))
        elif isinstance(raw_result, str) and raw_result in RESULTS:
            result = RESULTS[raw_result]
        else:
            problems.append((f"{where}.result", f"expected one of {', '.join(RESULTS)}"))
        raw_source = item.get("source", "ingest")
        if not isinstance(raw_source, str) or raw_source not in SOURCES:
            problems.append((f"{where}.source", f"expected one of {', '.join(SOURCES)}"))
        ttft = _number(item, "ttft_ms", where, problems)
        tokens = _number(item, "output_tokens", where, problems, integer=True)
        generation = _number(item, "generation_ms", where, problems)
        if len(problems) > before or resolved is None or result is None or at is None:
            continue
        out.append(Outcome(
            model_id=resolved[0], tag=resolved[1], at=at, result=result,
            source=SOURCES[raw_source], http_status=None if status is None else int(status),
            ttft_ms=ttft, output_tokens=None if tokens is None else int(tokens),
            generation_ms=generation,
        ))
    return (out, []) if not problems else ([], problems)


# -- the fast path ----------------------------------------------------------------------------
# A batch as it usually comes (only known fields, every value of the right kind and in range)
# is decoded by msgspec straight into these types, with no dict per item and no check in Python
# but the window and the endpoint. Anything else, the fast type refuses and parse_batch, the one
# source of every error message, is run on the body instead.

_Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_INT)]
# int or float, each kept as it came: a float field takes a JSON integer only up to MAX_INT.
_Amount = _Count | Annotated[float, msgspec.Meta(ge=0.0)]


class _Item(msgspec.Struct, forbid_unknown_fields=True):
    model_id: str
    tag: str
    at: _Amount | None = None
    result: Result | None = None
    http_status: Annotated[int, msgspec.Meta(ge=100, le=599)] | None = None
    ttft_ms: _Amount | None = None
    output_tokens: _Count | None = None
    generation_ms: _Amount | None = None
    source: Source = Source.INGEST


class _Batch(msgspec.Struct, forbid_unknown_fields=True):
    outcomes: list[_Item]


_BATCH_DECODER = msgspec.json.Decoder(_Batch)


def parse_encoded(data: bytes | bytearray, resolve: Resolver, *, now: float, oldest: float,
                  decode: Callable[[bytes | bytearray], Any], max_batch: int = MAX_BATCH,
                  ) -> tuple[list[Outcome], list[tuple[str, str]]]:
    """:func:`parse_batch` of the encoded batch ``data``, with the same answer, faster.

    A usual batch is decoded into typed structs and checked in one pass. At the first thing
    unusual (not JSON, an unknown field, a value of another kind or out of range, a ``\\u``
    escape, an endpoint not found, a time outside the window) the fast path gives up and the
    answer is ``parse_batch(decode(data), …)``: ``decode`` is the slow path's decoder (it
    raises what it raises for a body that is not a JSON object), and every problem reported,
    with its message, is parse_batch's.
    """
    fast = None if b"\\u" in data else _fast(data, resolve, now, oldest, max_batch)
    if fast is not None:
        return fast, []
    return parse_batch(decode(data), resolve, now=now, oldest=oldest, max_batch=max_batch)


def _fast(data: bytes | bytearray, resolve: Resolver, now: float, oldest: float,
          max_batch: int) -> list[Outcome] | None:
    """The outcomes of a usual batch; ``None`` for any other (then parse_batch decides)."""
    try:
        items = _BATCH_DECODER.decode(data).outcomes
    except (msgspec.MsgspecError, ValueError, RecursionError):
        return None
    if not items or len(items) > max_batch:
        return None
    newest = now + FUTURE_SLACK_SECONDS
    out: list[Outcome] = []
    append = out.append
    for item in items:
        found = resolve(item.model_id, item.tag)
        if isinstance(found, str):
            return None
        at, status, result = item.at, item.http_status, item.result
        if at is None:
            at = now
        elif not oldest <= at <= newest:
            return None
        if result is None:
            if status is None:
                return None
            result = result_for_status(status)
        ttft, generation = item.ttft_ms, item.generation_ms
        append(Outcome(
            model_id=found[0], tag=found[1], at=float(at), result=result, source=item.source,
            http_status=status, ttft_ms=None if ttft is None else float(ttft),
            output_tokens=item.output_tokens,
            generation_ms=None if generation is None else float(generation),
        ))
    return out
