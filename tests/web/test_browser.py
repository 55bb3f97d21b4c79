"""The status pages in a real browser: headless Chromium (Debian's ``chromium``, driven by
Playwright) against a real ``routeyard serve`` on 127.0.0.1, on both backends.

Every page is read with JavaScript turned off: search, sorting, filters and paging are plain
links and GET forms. Screenshots of each page go to ``test-artifacts/screenshots/``.

Without Chromium or Playwright these tests are skipped, unless
``ROUTEYARD_TEST_REQUIRE_BROWSER=1`` (as in .ci/run), which makes them fail instead.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn

import httpx
import pytest

from routeyard.catalog.declarative import read_starter
from routeyard.web import format as fmt
from tests.conftest import BACKENDS, ROOT, Server, fresh_database_url, run_cli

try:  # imported at collection, in the main thread (a lazy import can race under xdist)
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - reported by the fixture
    sync_playwright = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = (os.environ.get("ROUTEYARD_TEST_CHROMIUM") or shutil.which("chromium")
            or "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("ROUTEYARD_TEST_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
QWEN = "qwen/qwen3-235b-a22b-thinking-2507"
STARTER = read_starter()


def _unavailable(reason: str) -> NoReturn:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (ROUTEYARD_TEST_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        _unavailable("the playwright package is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            _unavailable(f"Chromium at {CHROMIUM} does not start: {exc}")
        yield b
        b.close()


class Site:
    def __init__(self, server: Server, admin: str, backend: str) -> None:
        self.server, self.admin, self.backend = server, admin, backend
        self.base = server.base

    def shot(self, page: Page, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{self.backend}.png"), full_page=True)


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         browser: Browser) -> Iterator[Site]:
    backend = str(request.param)
    if backend == "postgresql":
        request.applymarker(pytest.mark.pg)
    tmp = tmp_path_factory.mktemp(f"browser-{backend}")
    database_url = fresh_database_url(backend, tmp)
    # Probes off: the starter catalog names real providers.
    server = Server(database_url, tmp, env={"ROUTEYARD_PROBE_ENABLED": "false",
                                            "ROUTEYARD_HEALTH_REFRESH_INTERVAL": "0.2"})
    try:
        admin = run_cli(database_url, "keys", "create", "--name", "ops", "--admin")
        yield Site(server, admin.stdout.strip().splitlines()[-1], backend)
    finally:
        server.stop()


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=False, base_url=site.base,
                                  viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def model_ids(page: Page) -> list[str]:
    rows = page.locator("#models tbody tr")
    return [str(rows.nth(i).get_attribute("data-id")) for i in range(rows.count())]


def shown_prices(page: Page) -> list[Decimal]:
    cells = page.locator("#models tbody td.price")
    return [Decimal(str(cells.nth(i).get_attribute("data-price"))) for i in range(cells.count())]


def test_search_narrows_the_list(page: Page, site: Site) -> None:
    page.goto("/")
    assert page.title() == "Models · routeyard"
    assert len(model_ids(page)) == len(STARTER.models)
    site.shot(page, "catalog")
    page.get_by_label("Search name or id").fill("gemini")
    page.get_by_label("Search name or id").press("Enter")
    page.wait_for_url("**/?q=gemini*")
    ids = model_ids(page)
    assert ids and len(ids) < len(STARTER.models)
    assert all("gemini" in i for i in ids)
    assert page.locator("#count").inner_text().strip() == (
        f"Showing 1–{len(ids)} of {len(ids)} models")
    assert page.get_by_label("Search name or id").input_value() == "gemini"
    site.shot(page, "catalog-search")


def test_sorting_by_price_works_both_ways(page: Page) -> None:
    page.goto("/")
    page.locator("a[data-sort=price]").click()
    page.wait_for_url("**/?sort=price")
    asc = shown_prices(page)
    assert asc == sorted(asc) and len(asc) == len(STARTER.models)
    assert page.locator("th[aria-sort=ascending]").inner_text().startswith("Lowest price")
    page.locator("a[data-sort=price]").click()
    page.wait_for_url("**/?sort=price&order=desc")
    desc = shown_prices(page)
    assert desc == sorted(asc, reverse=True)
    first = page.locator("#models tbody tr").first
    assert first.locator("td.price").inner_text().startswith("in $15.00 / 1M tokens")


def test_filters_by_provider_and_parameter(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Provider").select_option("chutes")
    page.get_by_label("Supports parameter").select_option("tools")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**provider=chutes**")
    expected = {m.id for m in STARTER.models
                if any(e.provider == "chutes" for e in m.endpoints)
                and any("tools" in e.supported_parameters for e in m.endpoints if not e.disabled)}
    assert set(model_ids(page)) == expected and expected


def test_a_model_page_shows_the_right_endpoints_and_prices(page: Page, site: Site) -> None:
    model = next(m for m in STARTER.models if m.id == QWEN)
    page.goto("/?q=thinking")
    page.get_by_role("link", name=model.name).click()
    page.wait_for_url(f"**/models/{QWEN}")
    assert page.locator("h1").inner_text() == model.name
    rows = page.locator("#endpoint-table tbody tr")
    assert [rows.nth(i).get_attribute("data-tag") for i in range(rows.count())] == [
        e.tag for e in model.endpoints]
    providers = STARTER.provider_map()
    for i, e in enumerate(model.endpoints):
        cells = rows.nth(i).locator("th, td")
        assert cells.nth(0).inner_text().splitlines()[0] == providers[e.provider].name
        assert cells.nth(2).inner_text() == fmt.token_price(e.pricing.prompt)
        assert cells.nth(3).inner_text() == fmt.token_price(e.pricing.completion)
        assert cells.nth(4).inner_text() == fmt.tokens(e.context_length)
        assert cells.nth(6).inner_text() == "Normal"
    assert rows.nth(1).locator("td").nth(1).inner_text() == "$0.13 / 1M tokens"
    site.shot(page, "model")


def clock(at: float) -> str:
    return time.strftime("%H:%M", time.gmtime(at))


def background(page: Page, selector: str) -> str:
    return str(page.locator(selector).first.evaluate(
        "el => getComputedStyle(el).backgroundColor"))


def test_uptime_bars_reflect_outcomes_fed_through_the_ingest_api(
        browser: Browser, site: Site) -> None:
    now = time.time()
    outcomes: list[dict[str, Any]] = [
        {"model_id": QWEN, "tag": "chutes", "at": now, "result": "success", "ttft_ms": 300,
         "output_tokens": 120, "generation_ms": 2000}] * 20
    outcomes += [{"model_id": QWEN, "tag": "chutes", "at": now - 180, "http_status": 502}] * 4
    outcomes += [{"model_id": QWEN, "tag": "deepinfra/fp8", "at": now - 60, "result": "success"}] * 49
    outcomes += [{"model_id": QWEN, "tag": "deepinfra/fp8", "at": now - 60, "result": "timeout"}]
    r = httpx.post(site.base + "/api/v1/admin/outcomes", json={"outcomes": outcomes},
                   headers={"Authorization": f"Bearer {site.admin}"}, timeout=10)
    assert r.status_code == 200, r.text
    # JavaScript on for this one, only to read computed colours: the page itself has none.
    context = browser.new_context(base_url=site.base, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"/models/{QWEN}")
    chutes = "section.health[data-tag='chutes'] ol.bars"
    good = page.locator(f"{chutes} li[title='{clock(now)} UTC — 100% of 20 attempts']")
    bad = page.locator(f"{chutes} li[title='{clock(now - 180)} UTC — 0% of 4 attempts']")
    assert good.count() == 1 and good.get_attribute("class") == "ok"
    assert bad.count() == 1 and bad.get_attribute("class") == "down"
    assert page.locator(f"{chutes} li.empty").count() == 28 + 23
    deepinfra = "section.health[data-tag='deepinfra/fp8'] ol.bars"
    minor = page.locator(f"{deepinfra} li[title='{clock(now - 60)} UTC — 98% of 50 attempts']")
    assert minor.count() == 1 and minor.get_attribute("class") == "minor"
    assert page.locator("section.health[data-tag='novita/fp8'] ol.bars li.empty").count() == 54
    # Colours: green for a full success, red for none, grey for no data.
    assert background(page, f"{chutes} li.ok") == "rgb(26, 127, 55)"
    assert background(page, f"{chutes} li.down") == "rgb(207, 34, 46)"
    assert background(page, f"{chutes} li.empty") == "rgb(234, 238, 242)"
    row = page.locator("#endpoint-table tr[data-tag='chutes']")
    assert row.locator("td").nth(6).inner_text() == "83.3%"  # uptime 30m: 20 of 24
    assert row.locator("td").nth(5).inner_text() == "Minor issues"  # status -1: 83.3 < 95
    site.shot(page, "model-health")
    page.goto("/providers")
    assert page.locator("tr[data-slug='chutes'] td").nth(3).inner_text() == "83.3%"
    context.close()


def test_providers_page_lists_every_provider(page: Page, site: Site) -> None:
    page.goto("/providers")
    rows = page.locator("#providers tbody tr")
    assert rows.count() == len(STARTER.providers)
    for i in range(rows.count()):
        slug = rows.nth(i).get_attribute("data-slug")
        count = sum(e.provider == slug for m in STARTER.models for e in m.endpoints)
        assert rows.nth(i).locator("td").first.inner_text() == str(count)
    site.shot(page, "providers")
    page.get_by_role("link", name="Chutes", exact=True).click()
    page.wait_for_url("**/?provider=chutes")
    assert page.get_by_label("Provider").input_value() == "chutes"


def test_pages_fit_a_phone(browser: Browser, site: Site) -> None:
    context = browser.new_context(base_url=site.base, viewport={"width": 390, "height": 844},
                                  device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    for path, name in (("/", "catalog-phone"), (f"/models/{QWEN}", "model-phone")):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide on a 390px screen"
        site.shot(page, name)
    context.close()


def test_the_browser_loads_nothing_but_the_page(browser: Browser, site: Site) -> None:
    """No stylesheet, script, font or image is fetched: the pages work offline."""
    context = browser.new_context(base_url=site.base)
    page = context.new_page()
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    for path in ("/", f"/models/{QWEN}", "/providers"):
        page.goto(path)
    context.close()
    assert fetched == [site.base + "/", site.base + f"/models/{QWEN}", site.base + "/providers"]
