"""How the status pages write prices, sizes, percentages and statuses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from routeyard.health.histogram import PercentileStats
from routeyard.web import format as fmt


@pytest.mark.parametrize(("per_token", "shown"), [
    ("0.00000013", "$0.13 / 1M tokens"),
    ("0.0000001179", "$0.1179 / 1M tokens"),
    ("0.000003", "$3.00 / 1M tokens"),
    ("0.000015", "$15.00 / 1M tokens"),
    ("0.0000000375", "$0.0375 / 1M tokens"),
    ("0.0012005", "$1,200.50 / 1M tokens"),
    ("0.00000000000001", "<$0.000001 / 1M tokens"),
    ("0.0000000000012345", "$0.000001 / 1M tokens"),
    ("0", "free"),
    ("0.0", "free"),
])
def test_prices_read_per_million_tokens_in_dollars(per_token: str, shown: str) -> None:
    assert fmt.token_price(per_token) == shown


def test_a_missing_or_broken_price_is_a_dash() -> None:
    assert fmt.token_price(None) == fmt.NONE
    assert fmt.token_price("abc") == fmt.NONE
    assert fmt.token_price("NaN") == fmt.NONE


def test_per_million_is_exact() -> None:
    assert fmt.per_million("0.0000001179") == Decimal("0.1179")
    assert fmt.per_million("0.000000000000000001") == Decimal("0.000000000001")


@pytest.mark.parametrize(("name", "value", "shown"), [
    ("request", "0.005", "$0.005 / request"),
    ("image", "0.001238", "$0.001238 / image"),
    ("web_search", "0.01", "$0.01 / search"),
    ("web_search", "0", "free"),
    ("input_cache_read", "0.00000003", "$0.03 / 1M tokens"),
    ("internal_reasoning", "0.0000025", "$2.50 / 1M tokens"),
])
def test_prices_that_are_not_per_token_keep_their_unit(name: str, value: str, shown: str) -> None:
    assert fmt.price(name, value) == shown


@pytest.mark.parametrize(("count", "shown"), [
    (512, "512"), (1000, "1K"), (8192, "8.2K"), (32768, "33K"), (131072, "131K"),
    (262144, "262K"), (999_499, "999K"), (999_500, "1M"), (1_048_576, "1.05M"),
    (2_000_000, "2M"), (10_000_000, "10M"), (None, fmt.NONE),
])
def test_token_counts_are_short(count: int | None, shown: str) -> None:
    assert fmt.tokens(count) == shown


@pytest.mark.parametrize(("share", "shown"), [
    (1.0, "100%"), (0.98, "98%"), (49 / 50, "98%"), (0.999, "99.9%"), (0.99999, "99.9%"),
    (0.5333, "53.3%"), (0.0, "0%"), (0.07, "7%"), (None, fmt.NONE),
])
def test_percentages_never_round_up_to_100(share: float | None, shown: str) -> None:
    assert fmt.percent(share) == shown


def test_uptime_fields_are_percentages() -> None:
    assert fmt.uptime(80.0) == "80%"
    assert fmt.uptime(None) == fmt.NONE


def test_latency_and_throughput() -> None:
    assert fmt.milliseconds(349.6) == "350 ms"
    assert fmt.milliseconds(1234) == "1.2 s"
    assert fmt.per_second(52.4) == "52 tok/s"
    assert fmt.per_second(7.46) == "7.5 tok/s"
    assert fmt.percentiles(PercentileStats(p50=100.0, p75=1, p90=1500.0, p99=1), "ms") == (
        "100 ms", "1.5 s")
    assert fmt.percentiles(None, "tps") == (fmt.NONE, fmt.NONE)


@pytest.mark.parametrize(("status", "word", "css"), [
    (0, "Normal", "status-ok"),
    (-1, "Minor issues", "status-minor"),
    (-2, "Degraded", "status-degraded"),
    (-3, "Major issues", "status-major"),
    (-5, "Outage", "status-down"),
    (-10, "Disabled", "status-disabled"),
    (-4, "Deranked", "status-degraded"),
])
def test_every_status_has_a_word_and_a_colour(status: int, word: str, css: str) -> None:
    label = fmt.status(status)
    assert (label.word, label.css) == (word, css)
    assert label.meaning


def test_modalities() -> None:
    assert fmt.modalities(("text", "image"), ("text",)) == "text+image → text"
