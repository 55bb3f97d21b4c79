"""A generated catalog of any size, deterministic, for paging tests and render timings."""

from __future__ import annotations

from routeyard.models import Catalog, Endpoint, Model, Pricing, Provider
from routeyard.prices import per_million_to_per_token

PARAMS = ("temperature", "top_p", "tools", "tool_choice", "seed", "response_format", "stop")
QUANTS = ("fp8", "bf16", "int4", None)


def big_catalog(models: int = 500, endpoints: int = 10, providers: int = 20) -> Catalog:
    """``models`` models of ``endpoints`` endpoints each over ``providers`` providers:
    500 × 10 is the 5,000-endpoint catalog of docs/status-page.md."""
    provs = tuple(
        Provider(slug=f"prov{p:02d}", name=f"Provider {p:02d}",
                 status_page_url=f"https://status.prov{p:02d}.example/")
        for p in range(providers)
    )
    out = []
    for i in range(models):
        eps = []
        for j in range(endpoints):
            p = (i + j) % providers
            cents = 5 + (i * 7 + j * 13) % 400  # 0.05 … 4.04 dollars per million tokens
            eps.append(Endpoint(
                provider=provs[p].slug,
                tag=f"{provs[p].slug}/e{j}" if endpoints > providers else provs[p].slug,
                context_length=8192 * (1 + (i + j) % 32),
                max_completion_tokens=4096 * (1 + j % 4),
                pricing=Pricing(prompt=per_million_to_per_token(f"{cents / 100:.2f}"),
                                completion=per_million_to_per_token(f"{cents * 4 / 100:.2f}")),
                quantization=QUANTS[j % len(QUANTS)],
                supported_parameters=PARAMS[: 1 + (i + j) % len(PARAMS)],
            ))
        out.append(Model(
            id=f"gen{i % 25:02d}/model-{i:04d}",
            canonical_slug=f"gen{i % 25:02d}/model-{i:04d}-20250101",
            name=f"Generated Model {i:04d}",
            created=1_700_000_000 + i * 3600,
            description=f"Model number {i} of a generated catalog.",
            endpoints=tuple(eps),
        ))
    return Catalog(providers=provs, models=tuple(out))
