"""In-process CPU cost of one outcome batch on the ingest route: parsing and aggregation, by
the old path (``decode_object`` + ``parse_batch`` + ``Aggregator.record`` of each outcome)
and the current one (``parse_encoded`` + ``Aggregator.record_all``), timed alternately in the
same run. No server, no database; the medians are what a change to the ingest path moves:

    .venv/bin/python -m bench.ingest_inproc [--batch 100] [--repeat 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from bench.outcomes import body
from routeyard.api.deps import decode_object
from routeyard.health.ingest import Resolver, parse_batch, parse_encoded
from routeyard.health.minute import Aggregator
from routeyard.health.outcomes import Outcome

ENDPOINTS = [(f"vendor/model-{i}", f"provider-{i % 3}") for i in range(8)]


def resolver() -> Resolver:
    """Every endpoint exists (the route's resolver, less the snapshot: a memo hit each)."""
    memo: dict[tuple[str, str], tuple[str, str] | str] = {}

    def resolve(model_id: str, tag: str) -> tuple[str, str] | str:
        found = memo.get((model_id, tag))
        if found is None:
            found = memo[model_id, tag] = (model_id, tag)
        return found

    return resolve


def old(data: bytes, now: float) -> int:
    outcomes, problems = parse_batch(decode_object(data), resolver(), now=now, oldest=now - 86_400)
    assert not problems, problems
    aggregator = Aggregator()
    for outcome in outcomes:
        aggregator.record(outcome)
    return len(aggregator.drain())


def new(data: bytes, now: float) -> int:
    outcomes, problems = parse_encoded(data, resolver(), now=now, oldest=now - 86_400,
                                       decode=decode_object)
    assert not problems, problems
    aggregator = Aggregator()
    aggregator.record_all(outcomes)
    return len(aggregator.drain())


def stages(data: bytes, now: float) -> dict[str, Callable[[], object]]:
    outcomes: list[Outcome] = parse_batch(decode_object(data), resolver(), now=now,
                                          oldest=now - 86_400)[0]

    def loop() -> None:
        aggregator = Aggregator()
        for outcome in outcomes:
            aggregator.record(outcome)

    decoded = decode_object(data)
    return {
        "decode_object": lambda: decode_object(data),
        "parse_batch (of decoded)": lambda: parse_batch(decoded, resolver(), now=now,
                                                        oldest=now - 86_400),
        "parse_encoded": lambda: parse_encoded(data, resolver(), now=now, oldest=now - 86_400,
                                               decode=decode_object),
        "record loop": loop,
        "record_all": lambda: Aggregator().record_all(outcomes),
    }


def median_us(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=100, help="outcomes per batch")
    parser.add_argument("--repeat", type=int, default=2000, help="timings per path")
    args = parser.parse_args()
    now = time.time()
    data = body(ENDPOINTS, args.batch, now)
    assert old(data, now) == new(data, now)
    old_t: list[float] = []
    new_t: list[float] = []
    for _ in range(args.repeat):  # alternated, so that drift hits both alike
        for fn, into in ((old, old_t), (new, new_t)):
            t0 = time.perf_counter()
            fn(data, now)
            into.append(time.perf_counter() - t0)
    o, n = statistics.median(old_t) * 1e6, statistics.median(new_t) * 1e6
    print(f"one batch of {args.batch} outcomes ({len(data)} bytes), parse + aggregate, "
          f"median of {args.repeat}:")
    print(f"  old (decode_object + parse_batch + record each): {o:8.0f} us")
    print(f"  new (parse_encoded + record_all):                {n:8.0f} us   {o / n:.1f} x faster")
    for name, fn in stages(data, now).items():
        print(f"  {name:<26} {median_us(fn, args.repeat // 2):8.0f} us")


if __name__ == "__main__":
    main()
