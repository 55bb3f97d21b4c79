"""``POST /api/v1/admin/outcomes``: outcomes reported by another gateway (admin key)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from routeyard.api.deps import decode_object, ok, read_body, require_admin, runtime
from routeyard.errors import BadRequest
from routeyard.health.ingest import MAX_BATCH, Resolver, parse_encoded
from routeyard.health.minute import Aggregator, MinuteKey, MinuteRecord
from routeyard.health.outcomes import Outcome
from routeyard.health.window import retention_cutoff
from routeyard.metrics import metrics
from routeyard.runtime import Runtime
from routeyard.snapshot import Snapshot


def _resolve(snapshot: Snapshot, model_id: str, tag: str) -> tuple[str, str] | str:
    entry = snapshot.lookup(model_id)
    if entry is None:
        return f"unknown model {model_id[:300]!r}"
    if not any(e.tag == tag for e in entry.model.endpoints):
        return f"model {entry.model.id} has no endpoint tagged {tag[:300]!r}"
    return entry.model.id, tag


def batch_resolver(snapshot: Snapshot) -> Resolver:
    """The resolver of one batch: a batch names few endpoints, each many times, so every
    distinct ``(model_id, tag)`` is looked up once."""
    memo: dict[tuple[str, str], tuple[str, str] | str] = {}

    def resolve(model_id: str, tag: str) -> tuple[str, str] | str:
        found = memo.get((model_id, tag))
        if found is None:
            found = memo[model_id, tag] = _resolve(snapshot, model_id, tag)
        return found

    return resolve


def count_outcomes(outcomes: list[Outcome]) -> None:
    """``routeyard_outcomes_total``: one increment per (source, result) of the batch."""
    counter = metrics().outcomes
    for (source, result), n in Counter((o.source, o.result) for o in outcomes).items():
        counter.labels(source.value, result.value).inc(n)


def minute_records(outcomes: list[Outcome]) -> list[tuple[MinuteKey, MinuteRecord]]:
    """The batch counted per endpoint per minute, sorted by key."""
    aggregator = Aggregator()
    aggregator.record_all(outcomes)
    return aggregator.drain()


async def ingest_outcomes(request: Request) -> Response:
    """Only the body is read on the event loop; decoding, checks, counting and the write
    run in a thread (:func:`ingest`), which the interpreter makes give the GIL back every
    :data:`routeyard.app.SWITCH_INTERVAL`: a batch then holds up the requests served
    meanwhile by a fraction of a millisecond at a time (bench/RESULTS.md, "outcome stream")."""
    require_admin(request)
    rt = runtime(request)
    data = await read_body(request, rt.settings.max_ingest_body_bytes)
    return ok(await asyncio.to_thread(ingest, rt, data))


def ingest(rt: Runtime, data: bytes | bytearray) -> dict[str, int]:
    """Decode, check, count and store one batch (blocking); the answer's data. Raises
    :class:`BadRequest` for a bad batch, of which nothing is recorded."""
    now = time.time()
    oldest = retention_cutoff(now, rt.settings.health_retention_margin_minutes) * 60.0
    outcomes, problems = parse_encoded(data, batch_resolver(rt.snapshot), now=now, oldest=oldest,
                                       decode=decode_object, max_batch=MAX_BATCH)
    if problems:
        shown = problems[:50]
        raise BadRequest(
            "Invalid outcomes batch (nothing was recorded): "
            + "; ".join(f"{where}: {what}" for where, what in shown[:5])
            + (f"; and {len(problems) - 5} more" if len(problems) > 5 else ""),
            metadata={"problems": [{"path": w, "message": m} for w, m in shown]},
        )
    count_outcomes(outcomes)
    records = minute_records(outcomes)
    # Written before answering: a 200 means the outcomes are stored, and served here.
    rt.write_health(records)
    return {"accepted": len(outcomes), "minutes": len(records)}


routes = [Route("/api/v1/admin/outcomes", ingest_outcomes, methods=["POST"])]
