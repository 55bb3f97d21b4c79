from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routeyard.prices import (
    PriceError,
    format_decimal,
    parse_fraction,
    parse_price,
    per_million_to_per_token,
    per_token_to_per_million,
)


@pytest.mark.parametrize("text", ["0", "0.0000001179", "12.50", "0.00000013", "15", "0.000"])
def test_valid_price_strings_pass_through_byte_identical(text: str) -> None:
    assert parse_price(text) == text


@pytest.mark.parametrize("bad", ["-0.1", "1e-7", "1E5", "NaN", "inf", "", " 1", "1.", ".5",
                                 "0x10", "1,5", "abc", "1.2.3"])
def test_garbage_and_negative_prices_are_refused(bad: str) -> None:
    with pytest.raises(PriceError):
        parse_price(bad)


@pytest.mark.parametrize("bad", [0.1, True, None, [], {"a": 1}, -1])
def test_non_string_prices_are_refused(bad: object) -> None:
    with pytest.raises(PriceError):
        parse_price(bad)


def test_integer_prices_become_strings() -> None:
    assert parse_price(0) == "0"
    assert parse_price(3) == "3"


def test_discount_is_a_fraction() -> None:
    assert parse_fraction(0) == "0"
    assert parse_fraction("0.25") == "0.25"
    with pytest.raises(PriceError):
        parse_fraction("1.5")


@pytest.mark.parametrize(
    ("per_million", "per_token"),
    [("0.13", "0.00000013"), ("2", "0.000002"), ("0", "0"), ("0.254", "0.000000254"),
     ("1.02", "0.00000102"), ("15", "0.000015"), ("0.075", "0.000000075")],
)
def test_per_million_converts_exactly(per_million: str, per_token: str) -> None:
    assert per_million_to_per_token(Decimal(per_million)) == per_token
    assert per_token_to_per_million(per_token) == Decimal(per_million)


decimals = st.decimals(min_value=0, max_value=Decimal("1e6"), allow_nan=False,
                       allow_infinity=False, places=12)


@given(decimals)
def test_any_decimal_string_round_trips_exactly(value: Decimal) -> None:
    text = format_decimal(value)
    assert "e" not in text.lower()
    assert parse_price(text) == text
    assert Decimal(text) == value


@given(decimals)
def test_conversion_is_exact_both_ways(value: Decimal) -> None:
    assert per_token_to_per_million(per_million_to_per_token(value)) == value


@given(st.text(max_size=20))
def test_parse_price_accepts_only_plain_decimals(text: str) -> None:
    try:
        out = parse_price(text)
    except PriceError:
        return
    assert out == text
    assert Decimal(text) >= 0 and all(c in "0123456789." for c in text)
