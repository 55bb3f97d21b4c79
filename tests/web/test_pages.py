"""The status pages in-process (real database, both backends): what each page shows, search,
filters, sorting, paging, escaping, access, and that nothing secret is rendered."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from routeyard.app import create_app
from routeyard.catalog.declarative import read_starter
from routeyard.models import Catalog, Endpoint, Model, Pricing, Provider
from routeyard.store import Store
from routeyard.web import format as fmt
from tests.conftest import settings_for
from tests.web.generated import big_catalog

QWEN = "qwen/qwen3-235b-a22b-thinking-2507"
STARTER = read_starter()


class Site:
    def __init__(self, client: TestClient, store: Store, read: str, admin: str) -> None:
        self.client, self.store = client, store
        self.read = {"Authorization": f"Bearer {read}"}
        self.admin = {"Authorization": f"Bearer {admin}"}

    def page(self, path: str, status: int = 200, **params: Any) -> str:
        r = self.client.get(path, params=params)
        assert r.status_code == status, r.text[:500]
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        return str(r.text)


def make_site(database_url: str, catalog: Catalog | None = None,
              **overrides: Any) -> Iterator[Site]:
    store = Store(database_url)
    store.ensure_schema()
    if catalog is not None:
        store.apply_catalog(catalog, source="test")
    read, _ = store.create_key("reader", "read")
    admin, _ = store.create_key("ops", "admin")
    settings = settings_for(database_url, probe_enabled=False, **overrides)
    with TestClient(create_app(settings, store=store)) as client:
        yield Site(client, store, read, admin)
    store.dispose()


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    yield from make_site(database_url)


def listed(page: str) -> list[str]:
    return [html.unescape(i) for i in re.findall(r'<tr data-id="([^"]+)"', page)]


def row_of(page: str, attr: str, value: str) -> str:
    match = re.search(rf'<tr {attr}="{re.escape(value)}">(.*?)</tr>', page, re.DOTALL)
    assert match, f"no row {attr}={value}"
    return match.group(1)


def prices(page: str) -> list[str]:
    return re.findall(r'<td [^>]*class="price" data-price="([^"]*)"', page)


# -- / ---------------------------------------------------------------------------------


def test_catalog_lists_every_model_with_endpoints_cheapest_price_and_context(site: Site) -> None:
    page = site.page("/")
    assert sorted(listed(page)) == sorted(m.id for m in STARTER.models)
    assert f"Showing 1–{len(STARTER.models)} of {len(STARTER.models)} models" in page
    row = row_of(page, "data-id", QWEN)
    assert "Qwen: Qwen3 235B A22B Thinking 2507" in row
    assert '<td data-label="Endpoints" class="num">5</td>' in row
    assert "$0.1179 / 1M tokens" in row  # chutes, the cheapest: 0.0000001179 per token
    assert ">262K<" in row and "text → text" in row


def test_default_order_is_newest_first(site: Site) -> None:
    created = {m.id: m.created for m in STARTER.models}
    ids = listed(site.page("/"))
    assert [created[i] for i in ids] == sorted(created.values(), reverse=True)


def test_search_narrows_the_list_to_names_and_ids_holding_every_term(site: Site) -> None:
    ids = listed(site.page("/", q="gemini"))
    assert ids and len(ids) < len(STARTER.models)
    assert all("gemini" in i for i in ids)
    assert listed(site.page("/", q="  QWEN   coder ")) == ["qwen/qwen3-coder"]
    empty = site.page("/", q="no-such-thing")
    assert listed(empty) == [] and "No model matches “no-such-thing”." in empty


def test_provider_and_parameter_filters(site: Site) -> None:
    ids = listed(site.page("/", provider="chutes"))
    expected = {m.id for m in STARTER.models if any(e.provider == "chutes" for e in m.endpoints)}
    assert set(ids) == expected and expected
    ids = listed(site.page("/", param="reasoning", provider="chutes"))
    assert set(ids) == {
        m.id for m in STARTER.models if m.id in expected
        and any("reasoning" in e.supported_parameters for e in m.endpoints if not e.disabled)
    }
    assert len(ids) < len(expected)


def test_sorting_by_price_both_ways(site: Site) -> None:
    asc = [Decimal(p) for p in prices(site.page("/", sort="price"))]
    assert asc == sorted(asc) and len(asc) == len(STARTER.models)
    desc = [Decimal(p) for p in prices(site.page("/", sort="price", order="desc"))]
    assert desc == sorted(desc, reverse=True)
    assert asc[0] == 0  # the :free models


def test_sorting_by_name_and_context(site: Site) -> None:
    names = {m.id: m.name.lower() for m in STARTER.models}
    ids = listed(site.page("/", sort="name"))
    assert [names[i] for i in ids] == sorted(names.values())
    contexts = [int(c) for c in re.findall(r'data-context="(\d+)"', site.page("/", sort="context"))]
    assert contexts == sorted(contexts, reverse=True)


def test_column_headers_sort_and_flip_the_order(site: Site) -> None:
    page = site.page("/", sort="price")
    assert '<a href="/?sort=price&amp;order=desc" data-sort="price">' in page
    assert 'aria-sort="ascending"' in page
    assert '<a href="/?sort=name" data-sort="name">' in page


def test_unknown_query_values_fall_back_to_defaults(site: Site) -> None:
    page = site.page("/", sort="bogus", order="sideways", page="x", provider="nobody")
    assert listed(page) == []
    assert listed(site.page("/", sort="bogus", order="sideways", page="-3")) == listed(site.page("/"))


def test_pages_of_one_hundred(database_url: str) -> None:
    for site in make_site(database_url, catalog=big_catalog(models=250, endpoints=1)):
        first = site.page("/", sort="name")
        assert len(listed(first)) == 100 and "Showing 1–100 of 250 models" in first
        assert 'href="/?sort=name&amp;page=2" rel="next"' in first and 'rel="prev"' not in first
        second = listed(site.page("/", sort="name", page="2"))
        third_page = site.page("/", sort="name", page="3")
        assert "Showing 201–250 of 250 models" in third_page and 'rel="next"' not in third_page
        every = listed(first) + second + listed(third_page)
        assert len(set(every)) == 250
        assert listed(site.page("/", sort="name", page="99")) == listed(third_page)


# -- /models/{author}/{slug} -----------------------------------------------------------


def test_model_page_shows_each_endpoint_with_prices_per_million(site: Site) -> None:
    model = next(m for m in STARTER.models if m.id == QWEN)
    page = site.page(f"/models/{QWEN}")
    assert "<h1>Qwen: Qwen3 235B A22B Thinking 2507</h1>" in page
    assert str(escape(model.description.splitlines()[0])) in page
    assert ">Qwen3<" in page  # tokenizer
    tags = re.findall(r'<tr data-tag="([^"]+)">', page)
    assert tags == [e.tag for e in model.endpoints]
    providers = STARTER.provider_map()
    for e in model.endpoints:
        row = row_of(page, "data-tag", e.tag)
        assert providers[e.provider].name in row
        assert fmt.token_price(e.pricing.prompt) in row
        assert fmt.token_price(e.pricing.completion) in row
        assert fmt.tokens(e.context_length) in row
        assert (e.quantization or "—") in row
        assert ">Normal<" in row
    deepinfra = row_of(page, "data-tag", "deepinfra/fp8")
    assert "$0.13 / 1M tokens" in deepinfra and "$0.60 / 1M tokens" in deepinfra
    assert page.count('<ol class="bars"') == 2 * len(model.endpoints)


def test_model_lookup_ignores_case(site: Site) -> None:
    assert "<h1>Qwen: Qwen3 235B A22B Thinking 2507</h1>" in site.page(f"/models/{QWEN.upper()}")


def test_unknown_or_invalid_model_is_an_html_404(site: Site) -> None:
    page = site.page("/models/nobody/nothing", status=404)
    assert "Model not found" in page and "nobody/nothing" in page
    page = site.page("/models/a/%3Cscript%3E", status=404)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_disabled_endpoint_reads_disabled(site: Site) -> None:
    r = site.client.post(f"/api/v1/admin/models/{QWEN}/endpoints/chutes/disable",
                         headers=site.admin)
    assert r.status_code == 200, r.text
    row = row_of(site.page(f"/models/{QWEN}"), "data-tag", "chutes")
    assert 'data-status="-10">Disabled<' in row
    # The cheapest price shown in the catalog is now that of the cheapest enabled endpoint.
    assert "$0.13 / 1M tokens" in row_of(site.page("/"), "data-id", QWEN)


def clock(at: float) -> str:
    return time.strftime("%H:%M", time.gmtime(at))


def test_uptime_bars_and_status_reflect_ingested_outcomes(site: Site) -> None:
    now = time.time()
    outcomes = [{"model_id": QWEN, "tag": "chutes", "at": now, "result": "success",
                 "ttft_ms": 250}] * 9
    outcomes += [{"model_id": QWEN, "tag": "chutes", "at": now, "result": "upstream_error"}]
    outcomes += [{"model_id": QWEN, "tag": "chutes", "at": now - 120, "result": "timeout"}] * 3
    outcomes += [{"model_id": QWEN, "tag": "chutes", "at": now - 120, "result": "rate_limited"}]
    r = site.client.post("/api/v1/admin/outcomes", json={"outcomes": outcomes},
                         headers=site.admin)
    assert r.status_code == 200, r.text
    page = site.page(f"/models/{QWEN}")
    section = re.search(r'<section class="health"[^>]*data-tag="chutes">(.*?)</section>',
                        page, re.DOTALL)
    assert section
    health = section.group(1)
    assert f'class="degraded" role="img" aria-label="{clock(now)} UTC — 90% of 10 attempts"' in health
    assert f'class="down" role="img" aria-label="{clock(now - 120)} UTC — 0% of 3 attempts"' in health
    assert health.count('class="empty"') == 28 + 23  # 30-minute bars, then hour bars
    assert "uptime 69.2%" in health  # 9 of 13
    assert "Latency p50" in health and "ms" in health
    row = row_of(page, "data-tag", "chutes")
    assert ">Degraded<" in row and "69.2%" in row  # uptime_last_30m < 80
    other = re.search(r'<section class="health"[^>]*data-tag="deepinfra/fp8">(.*?)</section>',
                      page, re.DOTALL)
    assert other and other.group(1).count('class="empty"') == 54
    providers = site.page("/providers")
    assert "69.2%" in row_of(providers, "data-slug", "chutes")


# -- /providers ------------------------------------------------------------------------


def test_providers_page_counts_endpoints_and_links_to_the_filtered_catalog(site: Site) -> None:
    page = site.page("/providers")
    for p in STARTER.providers:
        count = sum(e.provider == p.slug for m in STARTER.models for e in m.endpoints)
        row = row_of(page, "data-slug", p.slug)
        assert f'data-endpoints="{count}"' in row, p.slug
        assert f'href="/?provider={p.slug}"' in row
        assert str(escape(p.name)) in row
    assert 'href="https://status.anthropic.com/"' in row_of(page, "data-slug", "anthropic")


# -- safety ----------------------------------------------------------------------------


def hostile_catalog() -> Catalog:
    provider = Provider(slug="acme", name="Acme <b>Cloud</b>", base_url="https://api.acme.example/v1",
                        api_key_env="ROUTEYARD_WEB_TEST_SECRET",
                        status_page_url="javascript:alert(1)")
    endpoint = Endpoint(provider="acme", tag="acme", context_length=4096,
                        pricing=Pricing(prompt="0.000001", completion="0.000002"))
    model = Model(id="evil/model", canonical_slug="evil/model", name="<script>alert(1)</script>",
                  created=1, description='<img src=x onerror="alert(2)">', endpoints=(endpoint,))
    return Catalog(providers=(provider,), models=(model,))


def test_catalog_text_is_escaped_and_nothing_secret_renders(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTEYARD_WEB_TEST_SECRET", "sk-do-not-show-this-value")
    for site in make_site(database_url, catalog=hostile_catalog()):
        pages = [site.page("/"), site.page("/models/evil/model"), site.page("/providers"),
                 site.page("/", q="<script>")]
        for page in pages:
            assert "<script" not in page and "<img" not in page and "<b>" not in page
            assert "sk-do-not-show-this-value" not in page
            assert "ROUTEYARD_WEB_TEST_SECRET" not in page
            assert "api.acme.example" not in page
            assert "javascript:" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1]
        assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in pages[1]


def test_pages_are_self_contained_and_locked_down(site: Site) -> None:
    for path in ("/", f"/models/{QWEN}", "/providers"):
        r = site.client.get(path)
        assert r.status_code == 200
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "style-src 'sha256-" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-cache"
        assert "<script" not in r.text and "<link" not in r.text and " src=" not in r.text
        assert '<meta name="viewport"' in r.text and '<html lang="en">' in r.text
    assert site.client.head("/").status_code == 200
    r = site.client.get("/", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and r.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in site.client.get("/", headers={"Accept-Encoding": "identity"}).headers


def test_private_pages_need_a_key_in_the_header(database_url: str) -> None:
    for site in make_site(database_url, status_page_public=False):
        for path in ("/", f"/models/{QWEN}", "/providers"):
            r = site.client.get(path)
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
            assert "A key is needed" in r.text and QWEN not in r.text
            assert site.client.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401
            assert site.client.get(path, headers={"Authorization": "Basic x"}).status_code == 401
            assert site.client.get(path, headers=site.read).status_code == 200


def test_pages_can_be_turned_off(database_url: str) -> None:
    for site in make_site(database_url, status_page_enabled=False):
        for path in ("/", f"/models/{QWEN}", "/providers"):
            r = site.client.get(path)
            assert r.status_code == 404 and r.json()["error"]["code"] == 404
        assert site.client.get("/healthz").status_code == 200


def test_model_description_markdown_is_rendered_safely(site: Site) -> None:
    html = site.page("/models/anthropic/claude-3.7-sonnet")
    assert ('<a href="https://www.anthropic.com/news/claude-3-7-sonnet" '
            'rel="nofollow noopener noreferrer">blog post here</a>') in html
    assert "[blog post here](" not in html
    assert html.count('<div class="description"><p>') == 1
