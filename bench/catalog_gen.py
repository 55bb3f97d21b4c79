"""Generated catalogs for the benchmark, written as routeyard catalog files (TOML).

Both scales hold the same two measured models, so that their bodies are byte-identical and
only the size of the catalog around them differs:

- ``bench/eight``: 8 endpoints, and ``bench/sixty``: 60 endpoints;
- at the large scale, filler models of 5 endpoints each up to the requested endpoint count
  (the starter catalog, loaded first, counts towards it).

Endpoints are copies of real ones from the starter catalog (prices, limits, parameters)
placed on generated providers, so the bodies look like production ones.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from msgspec import structs

from routeyard.catalog.declarative import dump, read_starter
from routeyard.models import Catalog, Endpoint, Model, Provider

EIGHT = "bench/eight"
SIXTY = "bench/sixty"
FILLER_ENDPOINTS = 5
PROVIDERS = 60
CREATED = 1_760_000_000


def _providers() -> list[Provider]:
    return [
        Provider(slug=f"bench-p{i:02d}", name=f"Bench Provider {i:02d}",
                 privacy_policy_url=f"https://bench-p{i:02d}.example/privacy",
                 terms_of_service_url=f"https://bench-p{i:02d}.example/terms")
        for i in range(PROVIDERS)
    ]


def _model(model_id: str, name: str, created: int, n: int, template: Model,
           endpoints: list[Endpoint], providers: list[Provider]) -> Model:
    cycle = itertools.cycle(endpoints)
    eps = []
    for i in range(n):
        slug = providers[i % len(providers)].slug
        eps.append(structs.replace(next(cycle), provider=slug, tag=f"{slug}/v{i // len(providers)}",
                                   source=None, imported_at=None))
    return Model(
        id=model_id, canonical_slug=model_id, name=name, created=created,
        description=template.description, hugging_face_id=template.hugging_face_id,
        tokenizer=template.tokenizer, instruct_type=template.instruct_type,
        modality=template.modality, input_modalities=template.input_modalities,
        output_modalities=template.output_modalities,
        default_parameters=template.default_parameters, endpoints=tuple(eps),
    )


def generate(total_endpoints: int = 0) -> Catalog:
    """The bench models, plus filler models until the catalog (with the starter's endpoints)
    holds at least ``total_endpoints``; 0 means no filler."""
    starter = read_starter()
    template = max(starter.models, key=lambda m: (len(m.endpoints), m.id))
    endpoints = [e for m in starter.models for e in m.endpoints]
    providers = _providers()
    models = [
        _model(EIGHT, "Bench: Eight Endpoints", CREATED, 8, template, endpoints, providers),
        _model(SIXTY, "Bench: Sixty Endpoints", CREATED - 1, 60, template, endpoints, providers),
    ]
    have = sum(len(m.endpoints) for m in starter.models) + 68
    for i in itertools.count():
        if have >= total_endpoints:
            break
        models.append(_model(f"bench/filler-{i:05d}", f"Bench: Filler {i:05d}", CREATED - 2 - i,
                             FILLER_ENDPOINTS, template, endpoints[i % len(endpoints):], providers))
        have += FILLER_ENDPOINTS
    return Catalog(providers=tuple(providers), models=tuple(models))


def write(path: Path, total_endpoints: int = 0) -> int:
    """Write the catalog file; returns how many endpoints the served catalog will hold."""
    catalog = generate(total_endpoints)
    path.write_text(dump(catalog, source="routeyard bench (generated)"), encoding="utf-8")
    starter = read_starter()
    return sum(len(m.endpoints) for m in (*starter.models, *catalog.models))
