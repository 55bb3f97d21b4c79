"""Model, provider and tag identifiers: parsing and validation (pure)."""

from __future__ import annotations

import re

MAX_ID_LENGTH = 255
# author/slug with an optional :variant. Case is kept but lookups ignore it.
_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*/[A-Za-z0-9][A-Za-z0-9._~+-]*(:[A-Za-z0-9._-]+)?")
_PROVIDER_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]*")
_TAG = re.compile(r"[a-z0-9][a-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")


def is_model_id(value: str) -> bool:
    return len(value) <= MAX_ID_LENGTH and _MODEL_ID.fullmatch(value) is not None


def is_provider_slug(value: str) -> bool:
    return len(value) <= 128 and _PROVIDER_SLUG.fullmatch(value) is not None


def is_tag(value: str) -> bool:
    return len(value) <= MAX_ID_LENGTH and _TAG.fullmatch(value) is not None


def tag_base(tag: str) -> str:
    """The provider slug a tag starts with: ``deepinfra/fp8`` -> ``deepinfra``."""
    return tag.split("/", 1)[0]
