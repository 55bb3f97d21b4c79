"""A provider's URL and key, and error text scrubbed of that key (pure, but for the
environment read of :func:`api_key`).

The API key is read from the environment variable the provider names and goes only into the
``Authorization`` header: never into an outcome, a log line, an error text or a record.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from routeyard.models import Endpoint, Provider


class MissingKey(Exception):
    """The provider names an API key variable that is not set."""


def api_key(provider: Provider, env: Mapping[str, str] | None = None) -> str | None:
    """The provider's API key from ``env`` (default ``os.environ``); ``None`` when it needs
    none. Raises :class:`MissingKey` when it names a variable that is unset or empty."""
    if not provider.api_key_env:
        return None
    key = (os.environ if env is None else env).get(provider.api_key_env, "")
    if not key:
        raise MissingKey(f"environment variable {provider.api_key_env} is not set")
    return key


def headers(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def url(provider: Provider, path: str) -> str:
    if not provider.base_url:
        raise ValueError(f"provider {provider.slug} has no base_url")
    return provider.base_url.rstrip("/") + path


def scrub(text: str, key: str | None) -> str:
    """``text`` with the key replaced by ``***`` wherever it got in."""
    return text.replace(key, "***") if key else text


def why(exc: BaseException, key: str | None) -> str:
    """A short description of an error, scrubbed of the key however it got there."""
    return scrub(f"{type(exc).__name__}: {exc}", key)


def upstream_id(endpoint: Endpoint, model_id: str) -> str:
    """The id the provider knows the endpoint's model by."""
    return endpoint.provider_model_id or model_id
