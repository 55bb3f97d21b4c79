"""The catalog page's list: one row per model, searched, filtered, sorted and paged. Pure.

Rows are built once per catalog (:class:`Listing`), so a request only filters and sorts
plain tuples: a page of a 5,000-endpoint catalog costs a few milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from routeyard.models import Catalog, Model
from routeyard.web import format as fmt

PAGE_SIZE = 100
MAX_QUERY_LENGTH = 200
#: Sort keys, their column label and their natural direction ("desc": biggest first).
SORTS: dict[str, tuple[str, str]] = {
    "newest": ("Newest", "desc"),
    "name": ("Name", "asc"),
    "endpoints": ("Endpoints", "desc"),
    "price": ("Lowest price", "asc"),
    "context": ("Context", "desc"),
}
DEFAULT_SORT = "newest"


@dataclass(frozen=True)
class Row:
    """What the catalog page shows of one model."""

    id: str
    name: str
    created: int
    endpoints: int  # all of them, disabled ones included
    enabled: int
    prompt: Decimal | None  # the cheapest enabled endpoint's prices, per million tokens
    completion: Decimal | None
    prompt_text: str
    completion_text: str
    context: int | None  # the largest context among enabled endpoints
    modalities: str
    providers: frozenset[str]
    parameters: frozenset[str]
    haystack: str  # what search looks in, lower case

    @property
    def price_key(self) -> tuple[Decimal, Decimal] | None:
        if self.prompt is None or self.completion is None:
            return None
        return self.prompt, self.completion


def row(m: Model) -> Row:
    enabled = [e for e in m.endpoints if not e.disabled]
    cheapest = None
    best: tuple[Decimal, Decimal] | None = None
    for e in enabled:
        prompt = fmt.per_million(e.pricing.prompt)
        completion = fmt.per_million(e.pricing.completion)
        if prompt is None or completion is None:
            continue
        if best is None or (prompt, completion) < best:
            best, cheapest = (prompt, completion), e
    params: set[str] = set()
    for e in enabled:
        params.update(e.supported_parameters)
    return Row(
        id=m.id,
        name=m.name,
        created=m.created,
        endpoints=len(m.endpoints),
        enabled=len(enabled),
        prompt=best[0] if best else None,
        completion=best[1] if best else None,
        prompt_text=fmt.token_price(cheapest.pricing.prompt) if cheapest else fmt.NONE,
        completion_text=fmt.token_price(cheapest.pricing.completion) if cheapest else fmt.NONE,
        context=max((e.context_length for e in enabled), default=None),
        modalities=fmt.modalities(m.input_modalities, m.output_modalities),
        providers=frozenset(e.provider for e in m.endpoints),
        parameters=frozenset(params),
        haystack=f"{m.name}\n{m.id}".lower(),
    )


class Listing:
    """Every model of one catalog as a :class:`Row`, plus the filter choices."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.rows = [row(m) for m in catalog.models]
        self.providers = sorted(((p.slug, p.name) for p in catalog.providers),
                                key=lambda p: p[1].lower())
        self.parameters = sorted({p for r in self.rows for p in r.parameters})


@dataclass(frozen=True)
class Query:
    """The catalog page's query parameters, made safe: anything unknown falls back."""

    q: str = ""
    sort: str = DEFAULT_SORT
    order: str = SORTS[DEFAULT_SORT][1]
    provider: str = ""
    param: str = ""
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Query:
        sort = params.get("sort", DEFAULT_SORT)
        if sort not in SORTS:
            sort = DEFAULT_SORT
        order = params.get("order", "")
        if order not in ("asc", "desc"):
            order = SORTS[sort][1]
        raw_page = params.get("page", "1")
        ok = raw_page.isascii() and raw_page.isdigit() and len(raw_page) < 7  # not "²"
        page = int(raw_page) if ok else 1
        return cls(
            q=" ".join(params.get("q", "")[:MAX_QUERY_LENGTH].split()),
            sort=sort, order=order,
            provider=params.get("provider", "")[:MAX_QUERY_LENGTH],
            param=params.get("param", "")[:MAX_QUERY_LENGTH],
            page=max(1, page),
        )

    def url(self, **changes: str | int) -> str:
        """``/?…`` for this query with ``changes``, leaving defaults out."""
        values: dict[str, str | int] = {
            "q": self.q, "provider": self.provider, "param": self.param,
            "sort": self.sort, "order": self.order, "page": self.page,
        }
        values.update(changes)
        sort = str(values["sort"])
        if sort == DEFAULT_SORT:
            values["sort"] = ""
        if values["order"] == SORTS.get(sort, SORTS[DEFAULT_SORT])[1]:
            values["order"] = ""
        if values["page"] == 1:
            values["page"] = ""
        kept = {k: v for k, v in values.items() if v != ""}
        return "/?" + urlencode(kept) if kept else "/"

    def sort_url(self, key: str) -> str:
        """The column header link: sort by ``key``, or flip the order if already sorted so."""
        if key == self.sort:
            order = "asc" if self.order == "desc" else "desc"
        else:
            order = SORTS[key][1]
        return self.url(sort=key, order=order, page=1)


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int  # rows matching the query
    page: int
    pages: int
    first: int  # 1-based position of the first row shown (0 when none)


def _value(r: Row, sort: str) -> object:
    if sort == "newest":
        return r.created
    if sort == "name":
        return r.name.lower()
    if sort == "endpoints":
        return r.endpoints
    if sort == "price":
        return r.price_key
    return r.context


def select(listing: Listing, query: Query, page_size: int = PAGE_SIZE) -> Page:
    """The rows matching ``query``, sorted, and the requested page of them. Rows without a
    value for the sort key (no enabled endpoint) come last in either order."""
    rows = listing.rows
    if query.q:
        terms = query.q.lower().split()
        rows = [r for r in rows if all(t in r.haystack for t in terms)]
    if query.provider:
        rows = [r for r in rows if query.provider in r.providers]
    if query.param:
        rows = [r for r in rows if query.param in r.parameters]
    rows = sorted(rows, key=lambda r: r.id)  # ties: by id, whatever the order
    known = [r for r in rows if _value(r, query.sort) is not None]
    unknown = [r for r in rows if _value(r, query.sort) is None]
    known.sort(key=lambda r: _value(r, query.sort), reverse=query.order == "desc")  # type: ignore[arg-type,return-value]
    ordered = known + unknown
    total = len(ordered)
    pages = max(1, math.ceil(total / page_size))
    page = min(query.page, pages)
    start = (page - 1) * page_size
    shown = ordered[start:start + page_size]
    return Page(shown, total, page, pages, start + 1 if shown else 0)
