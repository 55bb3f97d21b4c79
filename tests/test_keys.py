"""Key verification (routeyard.keys): hashes, prefixes, and the verified-key memo."""

from __future__ import annotations

import msgspec
import pytest

from routeyard import keys
from routeyard.keys import KeyRecord, KeyRing, generate_key, hash_key, key_prefix


def record(key: str, id: int, *, revoked: bool = False) -> KeyRecord:
    return KeyRecord(id=id, name=f"k{id}", prefix=key_prefix(key), key_hash=hash_key(key),
                     scope="read", created_at=0, revoked_at=1 if revoked else None)


def test_verify_accepts_active_keys_only() -> None:
    a, b, c = generate_key(), generate_key(), generate_key()
    ring = KeyRing([record(a, 1), record(b, 2, revoked=True)])
    assert len(ring) == 1
    assert ring.verify(a) is not None and ring.verify(a).id == 1  # type: ignore[union-attr]
    assert ring.verify(a) is not None  # now from the memo
    assert ring.verify(b) is None and ring.verify(c) is None
    assert ring.verify(a[:-1] + ("0" if a[-1] != "0" else "1")) is None  # same prefix, wrong key
    assert ring.verify("") is None and ring.verify("sk-ry-v1-") is None


def test_a_new_ring_forgets_what_the_old_one_verified() -> None:
    a = generate_key()
    active = record(a, 1)
    assert KeyRing([active]).verify(a) == active
    ring = KeyRing([active])
    assert ring.verify(a) == active
    revoked = msgspec.structs.replace(active, revoked_at=5)
    assert KeyRing([revoked]).verify(a) is None  # what runtime does on a revocation


def test_the_memo_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    many = [generate_key() for _ in range(5)]
    ring = KeyRing([record(k, i) for i, k in enumerate(many)])
    monkeypatch.setattr(keys, "MAX_VERIFIED", 3)
    assert all(ring.verify(k) is not None for k in many)
    assert all(ring.verify(k) is not None for k in many)  # past the cap: hashed each time
    assert len(ring._verified) == 3
