"""The in-memory catalog a process serves from: every discovery body pre-encoded.

A :class:`Snapshot` is immutable and rebuilt whole when the catalog or the live numbers
change, then swapped in with one assignment; the request path only looks things up.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
from collections.abc import Iterable

import msgspec

from routeyard import wire
from routeyard.health.window import EndpointKey, LiveStats
from routeyard.models import Catalog, Model, Provider

_encoder = msgspec.json.Encoder(decimal_format="number")
GZIP_MIN_BYTES = 860


class Body:
    """An encoded response body with its ETag and, on demand, its gzip form.

    ``headers`` memoizes the response header lists :mod:`routeyard.api.http` builds for this
    body, so that the request path builds none.
    """

    __slots__ = ("_gzipped", "data", "etag", "gzip_etag", "headers")

    def __init__(self, data: bytes) -> None:
        self.data = data
        digest = hashlib.blake2b(data, digest_size=12).hexdigest()
        self.etag = f'"{digest}"'
        self.gzip_etag = f'"{digest}-gzip"'  # the gzip form is other bytes: its own ETag
        self._gzipped: bytes | None = None
        self.headers: dict[tuple[str, str], list[tuple[bytes, bytes]]] = {}

    @property
    def gzipped(self) -> bytes | None:
        """The gzip form, or None for bodies too small to be worth compressing."""
        if len(self.data) < GZIP_MIN_BYTES:
            return None
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.data, compresslevel=6, mtime=0)
        return self._gzipped


def encode(value: object) -> bytes:
    return _encoder.encode(value)


class ModelEntry:
    __slots__ = ("anonymous", "full", "listing", "model", "output_modalities", "parameters")

    def __init__(self, model: Model, full: Body, anonymous: Body, listing: bytes | None) -> None:
        self.model = model
        self.full = full  # with latency and throughput, for callers with a key
        self.anonymous = anonymous  # latency and throughput null
        self.listing = listing  # the /models entry, None when not listed
        self.parameters = frozenset(wire.supported_parameters(model))
        self.output_modalities = frozenset(model.output_modalities)


def build_entry(m: Model, providers: dict[str, Provider],
                live: dict[EndpointKey, LiveStats]) -> ModelEntry:
    full = Body(encode(wire.endpoints_response(m, providers, live, with_performance=True)))
    has_perf = any(
        stats is not None and (stats.latency_last_30m is not None
                               or stats.throughput_last_30m is not None)
        for stats in (live.get((m.id, e.tag)) for e in m.endpoints)
    )
    anonymous = Body(encode(
        wire.endpoints_response(m, providers, live, with_performance=False)
    )) if has_perf else full
    listing = wire.model(m)
    return ModelEntry(m, full, anonymous, encode(listing) if listing else None)


class Snapshot:
    """Everything the discovery API serves, for one catalog version and live state."""

    def __init__(self, catalog: Catalog, live: dict[EndpointKey, LiveStats] | None = None,
                 *, version: int = 0) -> None:
        self.live = live or {}
        self.version = version
        self.catalog = catalog
        self.providers = catalog.provider_map()
        self.models: dict[str, ModelEntry] = {}
        listed: list[ModelEntry] = []
        for m in sorted(catalog.models, key=lambda m: (-m.created, m.id)):
            entry = build_entry(m, self.providers, self.live)
            self.models[m.id.lower()] = entry
            if entry.listing is not None:
                listed.append(entry)
        self.listed = listed  # newest first, as OpenRouter lists them
        self.models_body = self.models_page(listed)
        self.count_body = Body(encode(wire.count_response(len(listed))))
        self.providers_body = Body(encode(wire.providers_response(
            sorted(catalog.providers, key=lambda p: p.slug))))
        self.endpoint_count = sum(len(m.endpoints) for m in catalog.models)

    def with_live(self, live: dict[EndpointKey, LiveStats], model_ids: Iterable[str]
                  ) -> Snapshot:
        """A copy serving ``live``, with only the bodies of ``model_ids`` re-encoded (live
        fields do not change the model listing)."""
        new = copy.copy(self)
        new.live = live
        new.models = dict(self.models)
        for model_id in model_ids:
            entry = self.models.get(model_id.lower())
            if entry is not None:
                new.models[model_id.lower()] = build_entry(entry.model, self.providers, live)
        return new

    @staticmethod
    def models_page(entries: Iterable[ModelEntry], *, total: int | None = None,
                    next_link: str | None = None) -> Body:
        """A :class:`wire.ModelsListResponse` of the entries' pre-encoded models, joined as
        bytes (the same bytes as encoding it whole; tests/test_wire.py checks)."""
        chosen = list(entries)
        items = b",".join(e.listing for e in chosen if e.listing is not None)
        tail = encode(wire.ModelsListLinks(next_link))
        count = len(chosen) if total is None else total
        return Body(
            b'{"data":[' + items + b'],"links":' + tail + b',"total_count":' + str(count).encode() + b"}"
        )

    def lookup(self, model_id: str) -> ModelEntry | None:
        return self.models.get(model_id.lower())
