"""The status pages' routes: ``/``, ``/models/{author}/{slug}`` and ``/providers``.

Pages are rendered from the served snapshot and the live health of this process, like the
API, with Jinja2 (autoescaped). They need no key unless ``status_page_public`` is off, and
never show anything secret: the catalog's ``api_key_env`` and ``base_url`` are not rendered
at all. See docs/status-page.md.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from routeyard import ids
from routeyard.api.deps import authenticate, runtime
from routeyard.api.http import _accepts_gzip
from routeyard.errors import APIError, TooManyRequests
from routeyard.health.window import UNMEASURED, LiveStats, effective_status
from routeyard.models import Endpoint, Model, Provider
from routeyard.runtime import Runtime
from routeyard.snapshot import Body, Snapshot
from routeyard.web import bars, markdown
from routeyard.web import format as fmt
from routeyard.web.listing import SORTS, Listing, Query, select


@functools.cache
def _css() -> tuple[Markup, str]:
    """The inline stylesheet and its CSP source (a hash, so no other style can apply)."""
    text = resources.files("routeyard.web").joinpath("static/status.css").read_text("utf-8")
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return Markup(text), f"'sha256-{digest}'"


def _date(ts: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts)) if ts else fmt.NONE


def _path(model_id: str) -> str:
    return quote(model_id, safe="/:~")


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("routeyard.web", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, auto_reload=False,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        integer=fmt.integer, tokens=fmt.tokens, date=_date, urlpath=_path,
        model_url=lambda model_id: "/models/" + _path(model_id),
        markdown=markdown.render,
    )
    return env


def _headers() -> dict[str, str]:
    return {
        "cache-control": "no-cache",
        "content-security-policy": (
            f"default-src 'none'; style-src {_css()[1]}; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'"
        ),
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
    }


def render(request: Request, template: str, *, status: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    rt = runtime(request)
    html = _environment().get_template(template).render(
        css=_css()[0], version=rt.snapshot.version,
        generated=time.strftime("generated %Y-%m-%d %H:%M:%S", time.gmtime()), **context,
    )
    out = {**_headers(), **(headers or {}), "vary": "Accept-Encoding"}
    body = Body(html.encode())
    data = body.data
    if _accepts_gzip(request.headers.get("accept-encoding", "")) and body.gzipped is not None:
        data, out["content-encoding"] = body.gzipped, "gzip"
    return HTMLResponse(data, status_code=status, headers=out)


def _error(request: Request, status: int, heading: str, message: str,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    return render(request, "error.html", status=status, headers=headers, title=heading,
                  section="", heading=heading, message=message)


def _denied(request: Request) -> Response | None:
    """None when the caller may read the pages; else the page to answer with.

    With ``status_page_enabled`` off the pages do not exist (404, as any unknown path). With
    ``status_page_public`` off they need a valid key in the Authorization header."""
    rt = runtime(request)
    if not rt.settings.status_page_enabled:
        raise HTTPException(404)
    if rt.settings.status_page_public:
        return None
    try:
        # The API's own check: failed-auth throttling and per-key limits apply here too.
        authenticate(request, allow_public=False)
    except TooManyRequests:
        raise
    except APIError:
        return _error(request, 401, "A key is needed",
                      "This status page is private: send an API key in the Authorization "
                      "header (Bearer).", headers={"www-authenticate": "Bearer"})
    return None


# -- / -----------------------------------------------------------------------------------


def _listing(request: Request, snapshot: Snapshot) -> Listing:
    """The rows of the served catalog, built once per catalog (live health does not change
    them)."""
    state = request.app.state
    cached: Listing | None = getattr(state, "web_listing", None)
    if cached is None or cached.catalog is not snapshot.catalog:
        cached = Listing(snapshot.catalog)
        state.web_listing = cached
    return cached


async def catalog_page(request: Request) -> Response:
    denied = _denied(request)
    if denied is not None:
        return denied
    listing = _listing(request, runtime(request).snapshot)
    query = Query.parse(request.query_params)
    page = select(listing, query)
    title = f"Models matching “{query.q}”" if query.q else "Models"
    return render(request, "catalog.html", title=title, section="models", listing=listing,
                  query=query, page=page, sorts=SORTS)


# -- /models/{author}/{slug} -------------------------------------------------------------


@dataclass(frozen=True)
class EndpointView:
    """One endpoint as the model page shows it."""

    provider_name: str
    tag: str
    quantization: str | None
    prompt: str
    completion: str
    prompt_per_million: str
    completion_per_million: str
    other_prices: list[tuple[str, str]]
    context: int
    max_output: int | None
    status_code: int
    status: fmt.StatusLabel
    uptime_5m: str
    uptime_30m: str
    uptime_1d: str
    latency: tuple[str, str]
    throughput: tuple[str, str]
    bars_30m: list[bars.Bar]
    bars_1d: list[bars.Bar]


def endpoint_view(e: Endpoint, provider: Provider | None, live: LiveStats | None,
                  records: bars.Records, now: float) -> EndpointView:
    status = effective_status(e, live)
    stats = live or UNMEASURED
    bars_30m, bars_1d = bars.both(records, now)
    prompt, completion = fmt.per_million(e.pricing.prompt), fmt.per_million(e.pricing.completion)
    return EndpointView(
        provider_name=provider.name if provider else e.provider,
        tag=e.tag,
        quantization=e.quantization,
        prompt=fmt.token_price(e.pricing.prompt),
        completion=fmt.token_price(e.pricing.completion),
        prompt_per_million="" if prompt is None else str(prompt),
        completion_per_million="" if completion is None else str(completion),
        other_prices=[(fmt.PRICE_LABELS.get(name, name), fmt.price(name, value))
                      for name, value in e.pricing.items()
                      if name not in ("prompt", "completion")],
        context=e.context_length,
        max_output=e.max_completion_tokens,
        status_code=status,
        status=fmt.status(status),
        uptime_5m=fmt.uptime(stats.uptime_last_5m),
        uptime_30m=fmt.uptime(stats.uptime_last_30m),
        uptime_1d=fmt.uptime(stats.uptime_last_1d),
        latency=fmt.percentiles(stats.latency_last_30m, "ms"),
        throughput=fmt.percentiles(stats.throughput_last_30m, "tps"),
        bars_30m=bars_30m,
        bars_1d=bars_1d,
    )


def _model_views(rt: Runtime, snapshot: Snapshot, m: Model) -> list[EndpointView]:
    now = time.time()
    return [
        endpoint_view(e, snapshot.providers.get(e.provider), snapshot.live.get((m.id, e.tag)),
                      rt.health.records_for((m.id, e.tag)), now)
        for e in m.endpoints
    ]


async def model_page(request: Request) -> Response:
    denied = _denied(request)
    if denied is not None:
        return denied
    rt = runtime(request)
    model_id = f"{request.path_params['author']}/{request.path_params['slug']}"
    snapshot = rt.snapshot
    entry = snapshot.lookup(model_id) if ids.is_model_id(model_id) else None
    if entry is None:
        return _error(request, 404, "Model not found",
                      f"There is no model {model_id} in this catalog.")
    m = entry.model
    return render(
        request, "model.html", title=m.name, section="models", model=m,
        modalities=fmt.modalities(m.input_modalities, m.output_modalities),
        parameters=sorted(entry.parameters), endpoints=_model_views(rt, snapshot, m),
        level_words=bars.LEVEL_WORDS,
    )


# -- /providers --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderView:
    slug: str
    name: str
    endpoints: int
    models: int
    statuses: list[tuple[fmt.StatusLabel, int]]  # best first
    uptime_30m: str
    uptime_1d: str
    links: list[tuple[str, str]]


def _links(p: Provider) -> list[tuple[str, str]]:
    out = []
    for text, url in (("Status", p.status_page_url), ("Privacy", p.privacy_policy_url),
                      ("Terms", p.terms_of_service_url)):
        if url and url.lower().startswith(("https://", "http://")):
            out.append((text, url))
    return out


def provider_views(snapshot: Snapshot) -> list[ProviderView]:
    """Every provider of the catalog, by name, with its endpoints' counts and health."""
    endpoints: dict[str, list[tuple[Model, Endpoint]]] = {p.slug: [] for p in snapshot.catalog.providers}
    for m in snapshot.catalog.models:
        for e in m.endpoints:
            endpoints.setdefault(e.provider, []).append((m, e))
    views = []
    for slug, served in endpoints.items():
        provider = snapshot.providers.get(slug)
        statuses: dict[int, int] = {}
        up30: list[float | None] = []
        up1d: list[float | None] = []
        for m, e in served:
            live = snapshot.live.get((m.id, e.tag)) or UNMEASURED
            status = effective_status(e, live)
            statuses[status] = statuses.get(status, 0) + 1
            if not e.disabled:
                up30.append(live.uptime_last_30m)
                up1d.append(live.uptime_last_1d)
        views.append(ProviderView(
            slug=slug,
            name=provider.name if provider else slug,
            endpoints=len(served),
            models=len({m.id for m, _ in served}),
            statuses=[(fmt.status(s), n) for s, n in sorted(statuses.items(), reverse=True)],
            uptime_30m=fmt.uptime(bars.overall(up30)),
            uptime_1d=fmt.uptime(bars.overall(up1d)),
            links=_links(provider) if provider else [],
        ))
    views.sort(key=lambda v: (v.name.lower(), v.slug))
    return views


async def providers_page(request: Request) -> Response:
    denied = _denied(request)
    if denied is not None:
        return denied
    return render(request, "providers.html", title="Providers", section="providers",
                  providers=provider_views(runtime(request).snapshot))


web_routes = [
    Route("/", catalog_page, methods=["GET", "HEAD"]),
    Route("/models/{author}/{slug}", model_page, methods=["GET", "HEAD"]),
    Route("/providers", providers_page, methods=["GET", "HEAD"]),
]
