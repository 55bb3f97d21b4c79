"""``routeyard usage``: daily usage rows grouped for a table (pure), and the rich table."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from decimal import Decimal

from routeyard.accounting.periods import DAY, iso_day
from routeyard.accounting.records import DayUsage, add_up
from routeyard.prices import format_decimal

__all__ = ["DAY", "Row", "group_rows", "render"]
Row = tuple[str, Decimal, int, int, int, int, int]  # label, usd, requests, tokens x4


def group_rows(rows: Iterable[DayUsage], by: str, key_names: dict[int, str]) -> list[Row]:
    """One row per key, model, provider or day, highest spend first (days: newest first)."""
    def label(r: DayUsage) -> str:
        if by == "key":
            return f"{key_names.get(r.key_id, '?')} ({r.key_id})"
        if by == "model":
            return r.model
        if by == "provider":
            return r.provider or "(none answered)"
        return iso_day(r.day)

    totals = add_up(rows, label)
    out: list[Row] = [
        (label, Decimal(t[0]), int(t[1]), int(t[2]), int(t[3]), int(t[4]), int(t[5]))
        for label, t in totals.items()
    ]
    if by == "day":
        out.sort(key=lambda row: row[0], reverse=True)
    else:
        out.sort(key=lambda row: (-row[1], row[0]))
    return out


def render(rows: list[Row], by: str, days: int) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, title=f"usage by {by}, last {days} UTC days")
    for name in (by, "USD", "requests", "prompt", "completion", "reasoning", "cached"):
        table.add_column(name, justify="left" if name == by else "right")
    usd_total = Decimal(0)
    counts_total = [0, 0, 0, 0, 0]
    for label, usd, *counts in rows:
        table.add_row(label, format_decimal(usd), *(str(c) for c in counts))
        usd_total += usd
        counts_total = [a + b for a, b in zip(counts_total, counts, strict=True)]
    if rows:
        table.add_section()
    table.add_row("total", format_decimal(usd_total), *(str(c) for c in counts_total))
    Console(width=None if sys.stdout.isatty() else 200).print(table)
