"""The request path's counter increments (Metrics.count): added up in memory and handed to
prometheus-client by push(), each second and before /metrics renders."""

from __future__ import annotations

import asyncio

from routeyard.metrics import Metrics


def _value(m: Metrics, name: str, labels: dict[str, str]) -> float | None:
    return m.registry.get_sample_value(name, labels)


def test_counts_reach_the_counter_at_push_and_in_every_render() -> None:
    m = Metrics()
    labels = {"provider": "fake", "result": "success"}
    for _ in range(3):
        m.count(m.route_attempts, ("fake", "success"))
    m.count(m.route_attempts, ("fake", "timeout"), 2)
    assert _value(m, "routeyard_route_attempts_total", labels) is None  # not pushed yet
    m.push()
    assert _value(m, "routeyard_route_attempts_total", labels) == 3
    assert _value(m, "routeyard_route_attempts_total",
                  {"provider": "fake", "result": "timeout"}) == 2
    m.push()  # nothing new: nothing added twice
    assert _value(m, "routeyard_route_attempts_total", labels) == 3
    m.count(m.generation_cost, ("a/b", "fake"), 0.25)
    body, _ = m.render()  # render pushes first
    assert 'routeyard_route_attempts_total{provider="fake",result="success"} 3.0' in body.decode()
    assert 'routeyard_generation_cost_usd_total{model="a/b",provider="fake"} 0.25' in (
        body.decode())


def test_the_push_loop_pushes_each_interval() -> None:
    m = Metrics()

    async def run() -> float | None:
        task = asyncio.create_task(m.push_loop(0.01))
        m.count(m.route_fallbacks, ("fake",))
        await asyncio.sleep(0.1)
        task.cancel()
        return _value(m, "routeyard_route_fallbacks_total", {"provider": "fake"})

    assert asyncio.run(run()) == 1
