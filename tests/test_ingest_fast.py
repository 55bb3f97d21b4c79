"""The ingest fast path: ``parse_encoded`` answers what ``decode_object`` + ``parse_batch``
answer, and ``Aggregator.record_all`` counts what ``Aggregator.record`` of each counts."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from routeyard.api.deps import decode_object
from routeyard.errors import BadRequest
from routeyard.health.ingest import MAX_INT, parse_batch, parse_encoded
from routeyard.health.minute import Aggregator
from routeyard.health.outcomes import Outcome, Result, Source
from routeyard.store import Store
from tests.conftest import Server

NOW = 1_700_000_000.0
OLDEST = NOW - 86_400.0
QWEN = "qwen/qwen3-235b-a22b-thinking-2507"
# The catalog the unit tests resolve against: lookups ignore case, as Snapshot.lookup does.
CATALOG = {"acme/model": {"fast", "slow"}, "other/model-2": {"p"}}


def resolve(model_id: str, tag: str) -> tuple[str, str] | str:
    canonical = model_id.lower()
    if canonical not in CATALOG:
        return f"unknown model {model_id[:300]!r}"
    if tag not in CATALOG[canonical]:
        return f"model {canonical} has no endpoint tagged {tag[:300]!r}"
    return canonical, tag


def slow(data: bytes) -> tuple[list[Outcome], list[tuple[str, str]]]:
    return parse_batch(decode_object(data), resolve, now=NOW, oldest=OLDEST)


def fast(data: bytes, decode: Any = decode_object) -> tuple[list[Outcome], list[tuple[str, str]]]:
    return parse_encoded(data, resolve, now=NOW, oldest=OLDEST, decode=decode)


def never(data: bytes | bytearray) -> Any:
    raise AssertionError("a usual batch fell back to the slow path")


# -- batches as they usually come -------------------------------------------------------------

endpoints = st.sampled_from([("acme/model", "fast"), ("acme/model", "slow"), ("ACME/Model", "fast"),
                             ("other/model-2", "p")])
amounts = st.one_of(st.integers(0, MAX_INT), st.floats(0.0, 1e300), st.sampled_from([0, 0.0, -0.0]))
usual_item = st.builds(
    lambda endpoint, extra: {"model_id": endpoint[0], "tag": endpoint[1], **extra},
    endpoints,
    st.fixed_dictionaries({}, optional={
        "at": st.none() | st.floats(OLDEST, NOW + 60.0) | st.integers(int(OLDEST) + 1, int(NOW)),
        "http_status": st.none() | st.integers(100, 599),
        "ttft_ms": st.none() | amounts,
        "output_tokens": st.none() | st.integers(0, MAX_INT),
        "generation_ms": st.none() | amounts,
        "source": st.sampled_from([s.value for s in Source]),
    }),
).flatmap(lambda item: st.builds(  # a result, unless a status stands for it
    lambda result: item if result is None else {**item, "result": result},
    (st.none() if item.get("http_status") is not None else st.nothing())
    | st.sampled_from([r.value for r in Result])))
usual_batches = st.lists(usual_item, min_size=1, max_size=40)


@given(usual_batches)
@settings(max_examples=300, deadline=None)
def test_a_usual_batch_takes_the_fast_path_to_the_same_outcomes(items: list[dict[str, Any]]) -> None:
    data = msgspec.json.encode({"outcomes": items})
    expected = slow(data)
    assert expected[1] == [] and len(expected[0]) == len(items)
    assert fast(data, decode=never) == expected  # never fell back, and the same outcomes


# -- anything else: the fast path gives up, and the answer is the slow path's --------------

odd_values = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 700), st.integers(MAX_INT - 1, MAX_INT + 1),
    st.sampled_from([10**30, -(10**30), 1e308, -1e-300, 0.5, 200.0, "", "x", "success", "ingest",
                     "probe", "acme/model", "fast", [], {}, [1], "\x00", "\ud800", "é"]),
)
odd_item = st.one_of(
    usual_item,
    usual_item.flatmap(lambda item: st.fixed_dictionaries({
        "key": st.sampled_from(["model_id", "tag", "at", "result", "http_status", "ttft_ms",
                                "output_tokens", "generation_ms", "source", "bogus"]),
        "value": odd_values,
        "drop": st.booleans(),
    }).map(lambda change: (
        {k: v for k, v in item.items() if k != change["key"]} if change["drop"]
        else {**item, change["key"]: change["value"]}))),
    odd_values,
)


def encoded(body: Any, style: str) -> bytes:
    if style == "msgspec":
        return msgspec.json.encode(body)
    if style == "ascii":  # json.dumps escapes every non-ASCII character (and NaN passes as NaN)
        return json.dumps(body).encode()
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")


@given(st.one_of(
    st.builds(lambda items: {"outcomes": items}, st.lists(odd_item, max_size=8)),
    st.builds(lambda items, extra: {"outcomes": items, **extra}, st.lists(odd_item, max_size=3),
              st.dictionaries(st.sampled_from(["x", "meta", "outcomes"]), odd_values, max_size=2)),
    odd_values,
), st.sampled_from(["msgspec", "ascii", "utf-8"]))
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_other_batch_gets_the_slow_paths_answer(body: Any, style: str) -> None:
    try:
        data = encoded(body, style)
    except (TypeError, UnicodeEncodeError, msgspec.EncodeError):
        return  # not encodable this way
    try:
        expected: Any = slow(data)
    except BadRequest as e:
        expected = ("BadRequest", e.message, e.metadata)
    try:
        got: Any = fast(data)
    except BadRequest as e:
        got = ("BadRequest", e.message, e.metadata)
    assert got == expected


def test_unusual_but_valid_batches_are_accepted_by_the_fallback() -> None:
    """What the fast type refuses but the batch rules accept: a field outside ``outcomes``,
    a ``\\u`` escape, a model id in another case. Without the fallback these would fail."""
    item = {"model_id": "acme/model", "tag": "fast", "at": NOW - 10, "result": "success",
            "ttft_ms": 250, "output_tokens": 100, "generation_ms": 2000.5}
    expected = [Outcome(model_id="acme/model", tag="fast", at=NOW - 10, result=Result.SUCCESS,
                        source=Source.INGEST, ttft_ms=250.0, output_tokens=100,
                        generation_ms=2000.5)]
    assert fast(msgspec.json.encode({"outcomes": [item]}), decode=never) == (expected, [])
    for data in [
        msgspec.json.encode({"outcomes": [item], "sent_by": "gateway-2"}),
        msgspec.json.encode({"outcomes": [item]}).replace(b'"fast"', b'"f\\u0061st"'),
        json.dumps({"outcomes": [item], "note": "d\u00e9j\u00e0"}).encode(),  # escaped
    ]:
        assert fast(data) == (expected, []), data
        with pytest.raises(AssertionError, match="fell back"):
            fast(data, decode=never)


def test_a_bad_batch_is_refused_with_the_slow_paths_problems() -> None:
    item = {"model_id": "acme/model", "tag": "fast", "result": "success"}
    data = msgspec.json.encode({"outcomes": [item, {**item, "ttft_ms": -1}, {**item, "tag": "x"}]})
    assert fast(data) == ([], [("outcomes[1].ttft_ms", "must be a finite non-negative number"),
                               ("outcomes[2]", "model acme/model has no endpoint tagged 'x'")])


# -- Aggregator.record_all ------------------------------------------------------------------

timings = st.none() | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, 1.0, 600_000.0, 1e-320, 5e-324, 0.1, 100_000.0, 1.1**10])
outcomes = st.builds(
    Outcome,
    model_id=st.sampled_from(["a/b", "c/d"]), tag=st.sampled_from(["x", "y"]),
    at=st.floats(NOW - 200, NOW + 200) | st.sampled_from([NOW, NOW - 60.0, NOW + 59.999]),
    result=st.sampled_from(list(Result)), source=st.sampled_from(list(Source)),
    http_status=st.none() | st.integers(100, 599), ttft_ms=timings,
    output_tokens=st.none() | st.integers(-1, 10**6), generation_ms=timings,
)


@example([Outcome(model_id="a/b", tag="x", at=NOW, result=Result.SUCCESS, ttft_ms=math.nan,
                 output_tokens=5, generation_ms=math.inf),
          Outcome(model_id="a/b", tag="x", at=NOW, result=Result.SUCCESS, ttft_ms=0.5,
                  output_tokens=5, generation_ms=1e-320),
          Outcome(model_id="a/b", tag="x", at=NOW, result=Result.SUCCESS, output_tokens=5,
                  generation_ms=5e-324)], [])
@given(st.lists(outcomes, max_size=60),
       st.lists(st.lists(outcomes, max_size=10), max_size=3))
@settings(max_examples=300, deadline=None)
def test_record_all_counts_what_record_of_each_counts(batch: list[Outcome],
                                                      before: list[list[Outcome]]) -> None:
    one_by_one, at_once = Aggregator(), Aggregator()
    for earlier in before:  # records pending already are added to, not replaced
        for outcome in earlier:
            one_by_one.record(outcome)
        at_once.record_all(earlier)
    for outcome in batch:
        one_by_one.record(outcome)
    at_once.record_all(batch)
    assert len(at_once) == len(one_by_one)
    assert at_once.drain() == one_by_one.drain()


def test_record_all_counts_a_success_into_its_minute() -> None:
    aggregator = Aggregator()
    aggregator.record_all([Outcome(model_id="a/b", tag="x", at=NOW, result=Result.SUCCESS,
                                   ttft_ms=100.0)])
    (key, record), = aggregator.drain()
    assert (key.model_id, key.tag, key.minute, record.success) == ("a/b", "x", math.floor(NOW / 60), 1)
    assert record.latency.total == 1


# -- through a real server: refusals are answered as before ---------------------------------

GOOD = {"model_id": QWEN, "tag": "chutes", "result": "success"}


def body_of(items: list[Any], **extra: Any) -> bytes:
    return msgspec.json.encode({"outcomes": items, **extra})


# Each body and the answer the route gave before the fast path (status, envelope): pinned
# from a server at main 97e6d53, which decoded with decode_object and checked with parse_batch.
BAD_BODIES: dict[str, bytes] = {
    "not-json": b'{"outcomes": [',
    "utf-16": '{"outcomes": []}'.encode("utf-16"),
    "an-array": b"[]",
    "no-outcomes": b'{"outcome": []}',
    "empty": body_of([]),
    "not-a-list": body_of("x"),  # type: ignore[arg-type]
    "item-not-object": body_of([1, GOOD]),
    "unknown-field": body_of([{**GOOD, "bogus": 1, "also": 2}]),
    "unknown-model": body_of([{**GOOD, "model_id": "nobody/nothing"}]),
    "unknown-tag": body_of([{**GOOD, "tag": "nowhere"}]),
    "model-id-null": body_of([{**GOOD, "model_id": None}]),
    "negative-ttft": body_of([{**GOOD, "ttft_ms": -1}]),
    "string-ttft": body_of([{**GOOD, "ttft_ms": "fast"}]),
    "huge-int-ttft": body_of([{**GOOD, "ttft_ms": 2**60}]),
    "overflowing-ttft": b'{"outcomes": [{"model_id": "%s", "tag": "chutes", '
                        b'"result": "success", "ttft_ms": 1e400}]}' % QWEN.encode(),
    "nan-generation": b'{"outcomes": [{"model_id": "%s", "tag": "chutes", '
                      b'"result": "success", "generation_ms": NaN}]}' % QWEN.encode(),
    "bool-at": body_of([{**GOOD, "at": True}]),
    "too-old": body_of([{**GOOD, "at": 1.0}]),
    "in-the-future": body_of([{**GOOD, "at": 4e9}]),
    "status-700": body_of([{**GOOD, "http_status": 700}]),
    "status-float": body_of([{**GOOD, "http_status": 200.0}]),
    "tokens-float": body_of([{**GOOD, "output_tokens": 1.5}]),
    "no-result-no-status": body_of([{"model_id": QWEN, "tag": "chutes"}]),
    "bad-result": body_of([{**GOOD, "result": "great"}]),
    "source-null": body_of([{**GOOD, "source": None}]),
    "bad-source": body_of([{**GOOD, "source": "rumour"}]),
    "nul-in-model-id": body_of([{**GOOD, "model_id": "qwen\x00"}]),
    "nul-beside-the-batch": body_of([GOOD], note="a\x00b"),
    "lone-surrogate": b'{"outcomes": [{"model_id": "\\ud800", "tag": "chutes"}]}',
    "many-problems": body_of([{**GOOD, "ttft_ms": -i} for i in range(1, 9)]),
    "too-many": body_of([GOOD] * 10_001),
}
# The answer the route gave to each before the fast path (status, envelope), pinned from a
# server at main 97e6d53, which decoded with decode_object and checked with parse_batch.
BEFORE: dict[str, tuple[str, list[tuple[str, str]] | None]] = {
    'not-json': ('Request body is not valid JSON',
        None),
    'utf-16': ('Invalid outcomes batch (nothing was recorded): outcomes: is empty',
        [('outcomes', 'is empty')]),
    'an-array': ('Request body must be a JSON object, got an array',
        None),
    'no-outcomes': ('Invalid outcomes batch (nothing was recorded): body: expected {"outcomes": [...]}',
        [('body', 'expected {"outcomes": [...]}')]),
    'empty': ('Invalid outcomes batch (nothing was recorded): outcomes: is empty',
        [('outcomes', 'is empty')]),
    'not-a-list': ('Invalid outcomes batch (nothing was recorded): body: expected {"outcomes": [...]}',
        [('body', 'expected {"outcomes": [...]}')]),
    'item-not-object': ('Invalid outcomes batch (nothing was recorded): outcomes[0]: expected an object',
        [('outcomes[0]', 'expected an object')]),
    'unknown-field': ('Invalid outcomes batch (nothing was recorded): outcomes[0].also: unknown field; outcomes[0].bogus: unknown field',
        [('outcomes[0].also', 'unknown field'), ('outcomes[0].bogus', 'unknown field')]),
    'unknown-model': ("Invalid outcomes batch (nothing was recorded): outcomes[0]: unknown model 'nobody/nothing'",
        [('outcomes[0]', "unknown model 'nobody/nothing'")]),
    'unknown-tag': ("Invalid outcomes batch (nothing was recorded): outcomes[0]: model qwen/qwen3-235b-a22b-thinking-2507 has no endpoint tagged 'nowhere'",
        [('outcomes[0]', "model qwen/qwen3-235b-a22b-thinking-2507 has no endpoint tagged 'nowhere'")]),
    'model-id-null': ('Invalid outcomes batch (nothing was recorded): outcomes[0]: model_id and tag are required strings',
        [('outcomes[0]', 'model_id and tag are required strings')]),
    'negative-ttft': ('Invalid outcomes batch (nothing was recorded): outcomes[0].ttft_ms: must be a finite non-negative number',
        [('outcomes[0].ttft_ms', 'must be a finite non-negative number')]),
    'string-ttft': ('Invalid outcomes batch (nothing was recorded): outcomes[0].ttft_ms: expected a number',
        [('outcomes[0].ttft_ms', 'expected a number')]),
    'huge-int-ttft': ('Invalid outcomes batch (nothing was recorded): outcomes[0].ttft_ms: must be a finite non-negative number',
        [('outcomes[0].ttft_ms', 'must be a finite non-negative number')]),
    'overflowing-ttft': ('Invalid outcomes batch (nothing was recorded): outcomes[0].ttft_ms: must be a finite non-negative number',
        [('outcomes[0].ttft_ms', 'must be a finite non-negative number')]),
    'nan-generation': ('Invalid outcomes batch (nothing was recorded): outcomes[0].generation_ms: must be a finite non-negative number',
        [('outcomes[0].generation_ms', 'must be a finite non-negative number')]),
    'bool-at': ('Invalid outcomes batch (nothing was recorded): outcomes[0].at: expected a number',
        [('outcomes[0].at', 'expected a number')]),
    'too-old': ('Invalid outcomes batch (nothing was recorded): outcomes[0].at: outside the kept window (the last day) or in the future',
        [('outcomes[0].at', 'outside the kept window (the last day) or in the future')]),
    'in-the-future': ('Invalid outcomes batch (nothing was recorded): outcomes[0].at: outside the kept window (the last day) or in the future',
        [('outcomes[0].at', 'outside the kept window (the last day) or in the future')]),
    'status-700': ('Invalid outcomes batch (nothing was recorded): outcomes[0].http_status: must be an HTTP status (100-599)',
        [('outcomes[0].http_status', 'must be an HTTP status (100-599)')]),
    'status-float': ('Invalid outcomes batch (nothing was recorded): outcomes[0].http_status: expected an integer',
        [('outcomes[0].http_status', 'expected an integer')]),
    'tokens-float': ('Invalid outcomes batch (nothing was recorded): outcomes[0].output_tokens: expected an integer',
        [('outcomes[0].output_tokens', 'expected an integer')]),
    'no-result-no-status': ('Invalid outcomes batch (nothing was recorded): outcomes[0]: result or http_status is required',
        [('outcomes[0]', 'result or http_status is required')]),
    'bad-result': ('Invalid outcomes batch (nothing was recorded): outcomes[0].result: expected one of success, upstream_error, timeout, rate_limited, caller_error',
        [('outcomes[0].result', 'expected one of success, upstream_error, timeout, rate_limited, caller_error')]),
    'source-null': ('Invalid outcomes batch (nothing was recorded): outcomes[0].source: expected one of probe, traffic, ingest',
        [('outcomes[0].source', 'expected one of probe, traffic, ingest')]),
    'bad-source': ('Invalid outcomes batch (nothing was recorded): outcomes[0].source: expected one of probe, traffic, ingest',
        [('outcomes[0].source', 'expected one of probe, traffic, ingest')]),
    'nul-in-model-id': ('Invalid request body: outcomes[0].model_id: contains a NUL character',
        [('outcomes[0].model_id', 'contains a NUL character')]),
    'nul-beside-the-batch': ('Invalid request body: note: contains a NUL character',
        [('note', 'contains a NUL character')]),
    'lone-surrogate': ('Invalid request body: outcomes[0].model_id: contains an unpaired surrogate (invalid Unicode)',
        [('outcomes[0].model_id', 'contains an unpaired surrogate (invalid Unicode)')]),
    'many-problems': ('Invalid outcomes batch (nothing was recorded): outcomes[0].ttft_ms: must be a finite non-negative number; outcomes[1].ttft_ms: must be a finite non-negative number; outcomes[2].ttft_ms: must be a finite non-negative number; outcomes[3].ttft_ms: must be a finite non-negative number; outcomes[4].ttft_ms: must be a finite non-negative number; and 3 more',
        [('outcomes[0].ttft_ms', 'must be a finite non-negative number'), ('outcomes[1].ttft_ms', 'must be a finite non-negative number'), ('outcomes[2].ttft_ms', 'must be a finite non-negative number'), ('outcomes[3].ttft_ms', 'must be a finite non-negative number'), ('outcomes[4].ttft_ms', 'must be a finite non-negative number'), ('outcomes[5].ttft_ms', 'must be a finite non-negative number'), ('outcomes[6].ttft_ms', 'must be a finite non-negative number'), ('outcomes[7].ttft_ms', 'must be a finite non-negative number')]),
    'too-many': ('Invalid outcomes batch (nothing was recorded): outcomes: at most 10000 outcomes per batch, got 10001',
        [('outcomes', 'at most 10000 outcomes per batch, got 10001')]),
}


def envelope(message: str, problems: list[tuple[str, str]] | None) -> dict[str, Any]:
    metadata = None if problems is None else {
        "problems": [{"path": path, "message": what} for path, what in problems]}
    return {"error": {"code": 400, "message": message, "metadata": metadata}, "user_id": None}


REFUSALS = [(name, data, 400, envelope(*BEFORE[name])) for name, data in BAD_BODIES.items()]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    tmp = Path(tmp_path_factory.mktemp("ingest-fast"))
    url = f"sqlite:///{tmp / 'routeyard.db'}"
    store = Store(url)
    store.ensure_schema()
    admin, _ = store.create_key("ops", "admin")
    store.dispose()
    s = Server(url, tmp, env={"ROUTEYARD_PROBE_ENABLED": "false"})
    try:
        yield s, {"Authorization": f"Bearer {admin}", "Content-Type": "application/json"}
    finally:
        s.stop()


@pytest.mark.parametrize(("name", "data", "status", "envelope"), REFUSALS,
                         ids=[r[0] for r in REFUSALS])
def test_a_refused_batch_gets_the_same_error_envelope_as_before(
        server: tuple[Server, dict[str, str]], name: str, data: bytes, status: int,
        envelope: dict[str, Any]) -> None:
    s, headers = server
    r = httpx.post(s.base + "/api/v1/admin/outcomes", content=data, headers=headers)
    assert (r.status_code, r.json()) == (status, envelope)


def test_a_valid_batch_is_stored_through_either_path(server: tuple[Server, dict[str, str]]) -> None:
    s, headers = server
    now = time.time()
    item = {**GOOD, "at": now - 5, "ttft_ms": 100, "output_tokens": 10, "generation_ms": 500}
    for data, n in [(body_of([item] * 3), 3), (body_of([item] * 2, meta="from gateway-2"), 2)]:
        r = httpx.post(s.base + "/api/v1/admin/outcomes", content=data, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["data"] == {"accepted": n, "minutes": 1}
