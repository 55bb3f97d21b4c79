"""``POST /api/v1/admin/outcomes``: outcomes reported by another gateway (admin key)."""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from routeyard.api.admin import json_body, ok, require_admin
from routeyard.api.routes import runtime
from routeyard.errors import BadRequest
from routeyard.health.ingest import MAX_BATCH, parse_batch
from routeyard.health.minute import MinuteKey, MinuteRecord, minute_of
from routeyard.health.window import retention_cutoff
from routeyard.metrics import metrics

MAX_INGEST_BYTES = 8 << 20


async def ingest_outcomes(request: Request) -> Response:
    require_admin(request)
    body = await json_body(request, MAX_INGEST_BYTES)
    rt = runtime(request)
    snapshot = rt.snapshot

    def resolve(model_id: str, tag: str) -> tuple[str, str] | str:
        entry = snapshot.lookup(model_id)
        if entry is None:
            return f"unknown model {model_id[:300]!r}"
        if not any(e.tag == tag for e in entry.model.endpoints):
            return f"model {entry.model.id} has no endpoint tagged {tag[:300]!r}"
        return entry.model.id, tag

    now = time.time()
    oldest = retention_cutoff(now, rt.settings.health_retention_margin_minutes) * 60.0
    outcomes, problems = parse_batch(body, resolve, now=now, oldest=oldest, max_batch=MAX_BATCH)
    if problems:
        shown = problems[:50]
        raise BadRequest(
            "Invalid outcomes batch (nothing was recorded): "
            + "; ".join(f"{where}: {what}" for where, what in shown[:5])
            + (f"; and {len(problems) - 5} more" if len(problems) > 5 else ""),
            metadata={"problems": [{"path": w, "message": m} for w, m in shown]},
        )
    records: dict[MinuteKey, MinuteRecord] = {}
    counter = metrics().outcomes
    for outcome in outcomes:
        counter.labels(outcome.source.value, outcome.result.value).inc()
        key = MinuteKey(outcome.model_id, outcome.tag, minute_of(outcome.at))
        record = records.get(key)
        if record is None:
            record = records[key] = MinuteRecord()
        record.add(outcome)
    # Written before answering: a 200 means the outcomes are stored.
    await asyncio.to_thread(rt.health.write, sorted(records.items()))
    await asyncio.to_thread(rt.refresh_health)
    return ok({"accepted": len(outcomes), "minutes": len(records)})


routes = [Route("/api/v1/admin/outcomes", ingest_outcomes, methods=["POST"])]
