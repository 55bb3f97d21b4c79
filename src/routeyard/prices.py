"""Exact decimal prices: parsing, validation and formatting.

Prices travel as decimal strings (``"0.00000013"``) from import to response. They are
validated here and otherwise passed through untouched, so what goes in comes out byte
for byte. Arithmetic, where needed (unit conversion, display), uses :class:`Decimal`,
never ``float``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_PRICE = re.compile(r"[0-9]{1,30}(\.[0-9]{1,30})?")
MILLION = Decimal(1_000_000)


class PriceError(ValueError):
    """A value that is not a valid non-negative decimal price."""


def parse_price(value: object) -> str:
    """Return ``value`` as a canonical-form price string, or raise :class:`PriceError`.

    Accepts strings such as ``"0"``, ``"0.0000001179"``, ``"12.5"``: at most 30 digits before
    and after the point, whichever door the value comes through. Integers (and Decimals) are
    accepted and turned into their decimal string, by the same rule. Floats, exponents, signs, ``NaN`` and anything
    else are refused: a float may already have lost the exact value.
    """
    if isinstance(value, bool):
        raise PriceError(f"expected a decimal string, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise PriceError(f"price must not be negative, got {value}")
        value = str(value)  # and then the string rule: at most 30 digits
    elif isinstance(value, Decimal):
        if not value.is_finite() or value < 0:
            raise PriceError(f"price must be a finite non-negative decimal, got {value}")
        value = format_decimal(value)
    if not isinstance(value, str):
        raise PriceError(f"expected a decimal string, got {type(value).__name__}")
    if value.startswith("-"):
        raise PriceError(f"price must not be negative, got {value!r}")
    if not _PRICE.fullmatch(value):
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise PriceError(f"not a plain decimal number of at most 30 digits before and after "
                         f"the point: {shown!r}")
    return value


def parse_fraction(value: object) -> str:
    """A discount: a decimal between 0 and 1 inclusive, as a string."""
    if isinstance(value, float) and not isinstance(value, bool):
        # Wire captures carry ``"discount": 0`` as a JSON number; accept exact small floats.
        value = format_decimal(Decimal(repr(value)))
    text = parse_price(value)
    if Decimal(text) > 1:
        raise PriceError(f"a discount is a fraction between 0 and 1, got {text!r}")
    return text


def format_decimal(value: Decimal) -> str:
    """Plain decimal notation without exponent or trailing zeros (``0`` for zero)."""
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def per_million_to_per_token(value: Decimal | int | str) -> str:
    """Convert USD per million tokens to an exact per-token decimal string."""
    amount = Decimal(value) if not isinstance(value, Decimal) else value
    if not amount.is_finite() or amount < 0:
        raise PriceError(f"price must be a finite non-negative decimal, got {value}")
    return format_decimal(amount / MILLION)


def per_token_to_per_million(price: str) -> Decimal:
    """The exact USD price per million tokens of a per-token price string."""
    try:
        return Decimal(price) * MILLION
    except InvalidOperation as exc:  # pragma: no cover - parse_price guards inputs
        raise PriceError(f"not a decimal: {price!r}") from exc
