"""API keys: generation, storage form (prefix + hash), verification.

A key looks like ``sk-ry-v1-<64 hex>``. The database keeps only its first 16 characters
(the *prefix*, shown by ``keys list`` and accepted by ``keys revoke``) and a SHA-256 hash.
Keys carry 256 random bits, so a fast unsalted hash is safe (no dictionary to try);
verification compares hashes with :func:`hmac.compare_digest`, and an unknown key costs
the same hash as a known one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import msgspec

from routeyard.preferences import NONE, KeyPreferences

KEY_PREFIX = "sk-ry-v1-"
PREFIX_LENGTH = len(KEY_PREFIX) + 8
SCOPES = ("read", "admin")


class KeyRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    prefix: str
    key_hash: str
    scope: str
    created_at: int
    last_used_at: int | None = None
    revoked_at: int | None = None
    spend_limit: str | None = None  # USD, exact decimal (docs/accounting.md)
    limit_reset: str | None = None  # daily, weekly, monthly; None: never
    preferences: KeyPreferences = NONE  # routeyard.preferences: defaults of its requests


MAX_VERIFIED = 4096  # keys remembered as verified per ring
MAX_MISSING = 4096  # unknown keys remembered as looked up in vain, per ring
KEY_LENGTH = len(KEY_PREFIX) + 64


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_hex(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def key_prefix(key: str) -> str:
    return key[:PREFIX_LENGTH]


class KeyRing:
    """The active keys of one moment, for verification on the request path."""

    def __init__(self, records: list[KeyRecord]) -> None:
        self._by_prefix = {r.prefix: r for r in records if r.revoked_at is None}
        # Keys already verified against this ring: a key that comes back skips the hash. A
        # ring is replaced whole when a key is created or revoked, and its cache with it.
        # Only active keys enter it, so its size is bounded by theirs (and capped anyway).
        self._verified: dict[str, KeyRecord] = {}
        # Well-formed keys the database did not know either (see ``missing``); like
        # ``_verified``, held in memory only.
        self._missing: set[str] = set()

    def __len__(self) -> int:
        return len(self._by_prefix)

    def verify(self, key: str) -> KeyRecord | None:
        """The record of an active key, or ``None``. Short of an exact match of a key
        verified before, the work does not depend on the key (one hash, a constant-time
        comparison)."""
        known = self._verified.get(key)
        if known is not None:
            return known
        digest = hash_key(key)
        record = self._by_prefix.get(key_prefix(key))
        expected = record.key_hash if record is not None else "0" * 64
        if hmac.compare_digest(digest, expected) and record is not None:
            if len(self._verified) < MAX_VERIFIED:
                self._verified[key] = record
            return record
        return None

    def missing(self, key: str) -> bool:
        """Whether ``key`` need not be looked up in the database: it is not of our form, or
        was looked up in vain since this ring was made (a bounded negative cache against
        guessing; a new key is never in it, since nobody held it before it was made)."""
        return len(key) != KEY_LENGTH or not key.startswith(KEY_PREFIX) or key in self._missing

    def learn(self, key: str, record: KeyRecord | None) -> KeyRecord | None:
        """Take in the outcome of a database lookup of ``key``: the record of an active key
        that matches it (added to this ring until the next one replaces it), or None."""
        if (record is not None and record.revoked_at is None
                and record.prefix == key_prefix(key)
                and hmac.compare_digest(hash_key(key), record.key_hash)):
            self._by_prefix[record.prefix] = record
            return self.verify(key)
        if len(self._missing) >= MAX_MISSING:
            self._missing.clear()
        self._missing.add(key)
        return None
